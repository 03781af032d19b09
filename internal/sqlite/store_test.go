package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/storetest"
)

// MustOpen opens a fresh, migrated store in a file of tb's temporary
// directory and closes it when tb ends.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	return mustOpenAt(tb, tb.TempDir())
}

// mustOpenAt opens a migrated store in parley.db in dir and closes it when
// tb ends.
func mustOpenAt(tb testing.TB, dir string) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), filepath.Join(dir, "parley.db"), Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) parley.Store { return MustOpen(tb) })
}

// BenchmarkStore runs the shared benchmarks. The append figure is
//
//	go test -run '^$' -bench 'Store/AppendParallel' ./internal/sqlite/
//
// With PARLEY_BENCH_KEEP_DIR set, each benchmark's database is written in a
// directory of its own under it and kept (to start parley serve on a large
// database, say) instead of being removed.
func BenchmarkStore(b *testing.B) {
	keep := os.Getenv("PARLEY_BENCH_KEEP_DIR")
	storetest.RunBenchmarks(b, func(tb testing.TB) parley.Store {
		if keep == "" {
			return MustOpen(tb)
		}
		dir, err := os.MkdirTemp(keep, "store-")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Logf("database kept in %s", dir)
		return mustOpenAt(tb, dir)
	})
}
