package postgres

import (
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/storetest"
)

// BenchmarkSearch measures Search over a generated data set; its size and
// command are in storetest.RunSearchBenchmarks and docs/benchmarks.md. Each
// shape logs the query plan of its message lookup.
func BenchmarkSearch(b *testing.B) {
	s := MustOpen(b)
	storetest.RunSearchBenchmarks(b, s, func(q parley.SearchQuery) (string, error) { return s.explainSearch(b.Context(), q) })
}
