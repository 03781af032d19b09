# Parley: `make run` to try it, `make test` to test everything.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# The race detector needs cgo; use it whenever a C compiler is present.
RACE    ?= $(shell command -v gcc >/dev/null 2>&1 && echo -race)
# The UI is embedded when web/ holds a Vite app and npm is available.
HAVE_UI := $(shell test -f web/package.json && command -v npm >/dev/null 2>&1 && echo yes)
TAGS    := $(if $(HAVE_UI),ui,)

.PHONY: build run test test-ui vet bench ui dev clean

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
	$(if $(HAVE_UI),@$(MAKE) --no-print-directory test-ui)

# The UI's checks: types, unit tests (Vitest), then the browser tests
# (playwright-core driving the system's Chromium against bin/parley; they
# print a SKIP line and pass when no Chromium is installed).
test-ui: build
	cd web && npx tsc --noEmit
	cd web && npx vitest run
	cd web && node --test --test-concurrency=1 e2e/

# Development: the Go server on :8080 and Vite's dev server on :5173 with hot
# reload, proxying /api and /ws to it. Open http://localhost:5173/admin, or
# http://localhost:5173/demo.html for a page with the widget.
dev:
	@cd web && { test -d node_modules || npm ci --no-audit --no-fund; }
	$(GO) build -o bin/parley-dev ./cmd/parley
	@PARLEY_ALLOWED_ORIGINS=$${PARLEY_ALLOWED_ORIGINS:-http://localhost:5173} ./bin/parley-dev serve & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' EXIT INT TERM; \
	cd web && npx vite

# Benchmarks are sized by PARLEY_BENCH_* variables (see docs/benchmarks.md).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s -timeout 60m ./...

clean:
	rm -rf bin web/dist
