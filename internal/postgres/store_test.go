package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/storetest"
)

// testURLVar names the environment variable with the server the tests use,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const testURLVar = "PARLEY_TEST_POSTGRES_URL"

// testURL returns the test server's URL, skipping tb loudly when there is none.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(testURLVar)
	if u == "" {
		tb.Skip("SKIP: " + testURLVar + " is not set; PostgreSQL tests did not run")
	}
	return u
}

// freshSchema creates an empty schema on the test server, drops it when tb
// ends and returns a URL whose connections use it.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	base := testURL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "parley_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", testURLVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", testURLVar, err)
	}
	q := u.Query()
	// pgx passes parameters it does not know to the server as run-time settings.
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustOpen opens a migrated, empty store in a schema of its own on the
// server in PARLEY_TEST_POSTGRES_URL, closed and dropped when tb ends.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	return mustOpenOptions(tb, Options{})
}

func mustOpenOptions(tb testing.TB, opts Options) *Store {
	tb.Helper()
	u := freshSchema(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Open(ctx, u, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	// Registered after the schema's cleanup, so it runs first: the pool's
	// connections are gone before the schema is dropped.
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) parley.Store { return MustOpen(tb) })
}

func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, func(tb testing.TB) parley.Store { return MustOpen(tb) })
}

// SettleForBenchmark does what autovacuum does on a running server, which a
// benchmark that has just written a million rows cannot wait for (and which
// the test machine's server may have turned off): it refreshes the planner's
// statistics and the visibility map, and reclaims the dead row versions the
// appends' updates of conversations left.
func (s *Store) SettleForBenchmark(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `VACUUM ANALYZE`)
	return err
}
