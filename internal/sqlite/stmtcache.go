package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds stmtCache. Parley's reads are a few dozen fixed
// queries and a few shapes each of the built ones (inbox filters, search);
// past the bound a query simply runs unprepared.
const maxCachedStmts = 256

// stmtCache runs queries on the reader pool through statements prepared
// once. Without it every query is parsed and planned again on every call,
// which for a lookup by primary key costs as much as running it.
// database/sql prepares a cached *sql.Stmt on each pooled connection the
// first time it runs there and keeps it for the connection's life; SQLite
// prepares it again by itself if a migration changes the schema.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the prepared statement for query, or nil when the cache is
// full or preparing fails (the query then runs unprepared and reports its
// own error).
func (c *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st := c.stmts[query]
	n := len(c.stmts)
	c.mu.RUnlock()
	if st != nil || n >= maxCachedStmts {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

// QueryRowContext serves Parley's lookups by key, which take microseconds.
// They run detached from ctx's cancellation: for a cancellable context
// database/sql and the driver each start a goroutine to watch it, which
// costs such a lookup more than the lookup itself.
func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// ExecContext is never cached: the reader connections are query_only.
func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, query, args...)
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}
