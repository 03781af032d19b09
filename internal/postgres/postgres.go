// Package postgres implements parley.Store on PostgreSQL through pgx. The
// schema lives in migrations/*.sql, embedded and applied by Migrate.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleychat/parley"
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// MaxConns caps the pool: 0 -> pgx default (the larger of 4 and the
	// number of CPUs). Appends in flight hold up to appendCommitters of them.
	MaxConns int32
	Logger   *slog.Logger // nil -> discard
}

// Store is parley.Store on a PostgreSQL database.
type Store struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	appends *groupCommit
	words   vocabulary // search.go
	// stopFold and foldDone stop and wait for foldLoop (inboxfold.go).
	stopFold chan struct{}
	foldDone chan struct{}
	closing  sync.Once
}

var _ parley.Store = (*Store)(nil)

// defaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout, so a black-holed host fails Open instead of hanging it.
const defaultConnectTimeout = 10 * time.Second

// Open connects to the database at url and pings it. It does not migrate.
// EUNAVAILABLE when the URL cannot be parsed or the server cannot be reached;
// the message names the host and database, never the password.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	const op = "postgres.Open"
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn redacts the password from parse errors, but the message
		// shown to callers carries none of the URL anyway.
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op,
			Message: "the PostgreSQL URL is not valid", Err: err}
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	where := describe(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op,
			Message: "cannot connect to PostgreSQL at " + where, Err: err}
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		msg := "cannot connect to PostgreSQL at " + where
		var pgErr *pgconn.PgError
		var netErr *net.OpError
		switch {
		case errors.As(err, &pgErr):
			// The server answered and refused: say why (bad database, role or
			// password); its messages never echo the password.
			msg += ": " + pgErr.Message
		case errors.As(err, &netErr) && netErr.Err != nil:
			msg += ": " + netErr.Err.Error()
		}
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: msg, Err: err}
	}
	log.Info("postgres connected", "server", where, "max_conns", cfg.MaxConns)
	s := &Store{pool: pool, log: log, appends: newGroupCommit(pool, appendCommitters, maxAppendBatch),
		stopFold: make(chan struct{}), foldDone: make(chan struct{})}
	go s.foldLoop(s.stopFold, s.foldDone)
	return s, nil
}

// describe names the server and database of cfg for messages and logs.
func describe(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d (database %q, user %q)", cfg.Host, cfg.Port, cfg.Database, cfg.User)
}

// Ping checks that the database answers. EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: "postgres.Ping",
			Message: "the database does not answer", Err: err}
	}
	return nil
}

// Close lets the appends already gathered commit, then releases the pool,
// waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.closing.Do(func() {
		close(s.stopFold)
		<-s.foldDone
		s.appends.close()
		s.pool.Close()
	})
	return nil
}

// querier is what pool, connection and transaction have in common, so
// statements shared by plain calls and transactions take either.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// inTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. Errors come back translated.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return translate(op, err)
	}
	return translate(op, tx.Commit(ctx))
}

// nullID maps the domain's "" (no reference) to SQL NULL.
func nullID(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// nullText maps "" to SQL NULL, for optional keys such as client message ids.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// deref returns the string p points to, "" for a NULL.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// utc returns t in UTC at the precision PostgreSQL keeps.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// utcPtr is utc for nullable times.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// encodeMetadata returns m as a JSON object, "{}" when empty.
func encodeMetadata(m parley.Metadata) ([]byte, error) {
	if len(m) == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(m)
}

// decodeMetadata reads a jsonb object; an empty object reads as nil, as it
// was most likely written.
func decodeMetadata(b []byte) (parley.Metadata, error) {
	if len(b) == 0 || string(b) == "{}" {
		return nil, nil
	}
	var m parley.Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode metadata: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// checkLimit validates a page size: 0 means def, otherwise 1..max.
func checkLimit(limit, def, max int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 0 || limit > max:
		return 0, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", max)
	}
	return limit, nil
}

// assignID fills an empty id with a new one and rejects a malformed one.
func assignID(id *string, what string) error {
	if *id == "" {
		*id = parley.NewID()
		return nil
	}
	if !parley.ValidID(*id) {
		return parley.Errorf(parley.EINVALID, "%s id is not a valid id", what)
	}
	return nil
}

// notFound is the ENOTFOUND every lookup of a missing record returns.
func notFound(op, what string) error {
	return &parley.Error{Code: parley.ENOTFOUND, Op: op, Message: what + " not found"}
}

// conversationChanged is the ECONFLICT of an append whose Message.Expect no
// longer holds.
func conversationChanged(op string) error {
	return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation's status or assignee changed"}
}

// noRows reports whether a single-row query found nothing.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func itoa(i int) string { return strconv.Itoa(i) }
