// Package pgtest gives tests outside internal/postgres an empty PostgreSQL
// schema of their own on the server named by PARLEY_TEST_POSTGRES_URL.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URLVar names the environment variable with the server the tests use,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const URLVar = "PARLEY_TEST_POSTGRES_URL"

// URL returns the test server's URL, skipping tb loudly when there is none.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(URLVar)
	if u == "" {
		tb.Skip("SKIP: " + URLVar + " is not set; PostgreSQL tests did not run")
	}
	return u
}

// FreshSchema creates an empty schema on the test server, drops it when tb
// ends and returns a URL whose connections use it. It skips tb loudly when
// no server is configured.
func FreshSchema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "parley_test_" + hex.EncodeToString(b[:])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", URLVar, err)
	}
	q := u.Query()
	// pgx passes parameters it does not know to the server as run-time settings.
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
