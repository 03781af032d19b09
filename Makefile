# Parley: `make run` to try it, `make test` to test everything.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# The race detector needs cgo; use it whenever a C compiler is present.
RACE    ?= $(shell command -v gcc >/dev/null 2>&1 && echo -race)
# The UI is embedded when web/ holds a Vite app and npm is available.
HAVE_UI := $(shell test -f web/package.json && command -v npm >/dev/null 2>&1 && echo yes)
TAGS    := $(if $(HAVE_UI),ui,)

.PHONY: build run test vet bench ui clean

build: $(if $(HAVE_UI),ui)
	CGO_ENABLED=0 $(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o bin/parley ./cmd/parley
	@echo "built bin/parley $(VERSION)"

ui:
	cd web && { test -d node_modules || npm ci --no-audit --no-fund; } && npm run build

run: build
	./bin/parley serve

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: vet
	$(GO) test $(RACE) -count=1 -timeout 20m ./...

# Benchmarks are sized by PARLEY_BENCH_* variables (see docs/benchmarks.md).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s -timeout 60m ./...

clean:
	rm -rf bin web/dist
