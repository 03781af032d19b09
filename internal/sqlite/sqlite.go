// Package sqlite implements parley.Store on SQLite with the pure-Go driver
// modernc.org/sqlite, so the server builds with CGO_ENABLED=0.
//
// One connection writes (SQLite allows one writer at a time; queueing in Go
// is cheaper than contending on the file lock) and a pool of query-only
// connections reads, which WAL lets run alongside the writer. Appends go
// through a group-commit loop (append.go).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/parleychat/parley"
)

// Options tune a Store. The zero value is a good default.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "NORMAL" (the default;
	// with WAL a power cut may lose the last commits but never corrupts) or
	// "FULL" (every commit is on disk before it returns).
	Synchronous string
	// ReadConns is the size of the reader pool; 0 means 4.
	ReadConns int
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
}

// Store is parley.Store on one SQLite database file.
type Store struct {
	path   string
	writer *sql.DB    // exactly one connection; every write goes through it
	reader *sql.DB    // query_only connections
	rq     *stmtCache // reads on reader, through prepared statements
	// checkpointer copies the WAL back into the database file in the
	// background (checkpoint.go).
	checkpointer *sql.DB
	log          *slog.Logger

	appends  chan *appendReq
	closing  chan struct{}
	loopDone chan struct{}
	// checkpointDone is closed when checkpointLoop has returned.
	checkpointDone chan struct{}
	closeOnce      sync.Once
	closeErr       error

	stmts appendStmts
	// words are the search words known to be stored (search.go).
	words *knownWords

	// batches and batched count commits of the append loop and the appends
	// they carried, for benchmarks to report the batch size; rerun the
	// batches run again with a savepoint around every append.
	batches, batched, rerun atomic.Int64

	// memory is the append loop's own (appendcache.go); the other writes
	// through the writer ask it to forget conversations they change.
	memory     appendMemory
	writeGen   atomic.Uint64
	forgetMu   sync.Mutex
	forgetting []string
}

var _ parley.Store = (*Store)(nil)

// busyTimeout is how long a connection waits for a lock another process
// holds before it gives up with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Connection roles: each gets its own pool and pragmas.
type role int

const (
	roleWriter role = iota
	roleReader
	roleCheckpointer
)

// dsn builds the driver's connection string. busy_timeout comes first so the
// pragmas after it, journal_mode in particular, wait for locks instead of
// failing at once.
func dsn(path, synchronous string, r role) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	// Savepoints write a sub-journal; in memory it costs no file I/O.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-32768)")
	switch r {
	case roleReader:
		q.Add("_pragma", "query_only(1)")
	case roleWriter:
		// The writer takes the write lock when a transaction begins, so a
		// read-then-write transaction never fails to upgrade its lock.
		q.Set("_txlock", "immediate")
		// Checkpoints run on their own connection (checkpoint.go), off the
		// writer's path; the writer checkpoints itself only if that one
		// falls far behind.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
	}
	return path + "?" + q.Encode()
}

// Open connects to the SQLite database at path, creating the file when it
// does not exist, and checks that it is a usable database. It does not
// migrate: call Migrate. EINVALID for bad options; EUNAVAILABLE when the file
// cannot be opened or is not a database.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	const op = "sqlite.Open"
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, &parley.Error{Code: parley.EINVALID, Op: op,
			Message: fmt.Sprintf("database path %q must be a plain file path", path)}
	}
	sync := strings.ToUpper(opts.Synchronous)
	switch sync {
	case "":
		sync = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, &parley.Error{Code: parley.EINVALID, Op: op,
			Message: fmt.Sprintf("synchronous must be NORMAL or FULL, not %q", opts.Synchronous)}
	}
	readConns := opts.ReadConns
	if readConns <= 0 {
		readConns = 4
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op,
			Message: fmt.Sprintf("cannot open database %s: it is a directory", path)}
	}

	writer, err := sql.Open("sqlite", dsn(path, sync, roleWriter))
	if err != nil {
		return nil, openError(op, path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := checkDatabase(ctx, writer); err != nil {
		writer.Close()
		return nil, openError(op, path, err)
	}

	reader, err := sql.Open("sqlite", dsn(path, sync, roleReader))
	if err != nil {
		writer.Close()
		return nil, openError(op, path, err)
	}
	reader.SetMaxOpenConns(readConns)
	reader.SetMaxIdleConns(readConns)
	reader.SetConnMaxLifetime(0)
	reader.SetConnMaxIdleTime(0)
	if err := checkDatabase(ctx, reader); err != nil {
		writer.Close()
		reader.Close()
		return nil, openError(op, path, err)
	}

	checkpointer, err := sql.Open("sqlite", dsn(path, sync, roleCheckpointer))
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, openError(op, path, err)
	}
	checkpointer.SetMaxOpenConns(1)
	checkpointer.SetMaxIdleConns(1)
	checkpointer.SetConnMaxLifetime(0)
	checkpointer.SetConnMaxIdleTime(0)

	s := &Store{
		words:          &knownWords{},
		path:           path,
		writer:         writer,
		reader:         reader,
		rq:             newStmtCache(reader),
		checkpointer:   checkpointer,
		log:            log,
		appends:        make(chan *appendReq),
		closing:        make(chan struct{}),
		loopDone:       make(chan struct{}),
		checkpointDone: make(chan struct{}),
	}
	go s.appendLoop()
	go s.checkpointLoop()
	log.Info("sqlite: opened", "path", path, "synchronous", sync, "read_conns", readConns)
	return s, nil
}

// checkDatabase opens a connection (applying the pragmas) and reads the
// schema, which fails on a file that is not a SQLite database.
func checkDatabase(ctx context.Context, db *sql.DB) error {
	var n int
	return db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n)
}

// openError explains, naming the file, why it could not be opened.
func openError(op, path string, err error) error {
	e := translate(op, err).(*parley.Error)
	if e.Code == parley.EINTERNAL || e.Code == parley.EUNAVAILABLE {
		e.Code = parley.EUNAVAILABLE
		e.Message = fmt.Sprintf("cannot open database %s: %s", path, sqliteReason(err))
	}
	return e
}

// Ping checks that the database answers. EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if s.isClosed() {
		return closedError("sqlite.Ping")
	}
	var one int
	if err := s.rq.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return translate("sqlite.Ping", err)
	}
	return nil
}

// Close stops the append loop, answering queued appends with EUNAVAILABLE,
// and closes the database. Calling it again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.loopDone
		<-s.checkpointDone
		for _, st := range s.stmts.all() {
			st.Close()
		}
		s.rq.close()
		cerr := s.checkpointer.Close()
		rerr := s.reader.Close()
		werr := s.writer.Close()
		if err := errors.Join(cerr, rerr, werr); err != nil {
			s.closeErr = translate("sqlite.Close", err)
		}
	})
	return s.closeErr
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

func closedError(op string) error {
	return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "the database is closed"}
}

// dbtx is what queries need from a *sql.DB or a *sql.Tx.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a transaction on the writer connection and commits when it
// returns nil. Errors are translated under op.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if s.isClosed() {
		return closedError(op)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return translate(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return translate(op, err)
	}
	if err := tx.Commit(); err != nil {
		return translate(op, err)
	}
	return nil
}

// exec runs one statement on the writer outside an explicit transaction
// (SQLite wraps it in its own) and returns the rows it affected.
func (s *Store) exec(ctx context.Context, op, query string, args ...any) (int64, error) {
	if s.isClosed() {
		return 0, closedError(op)
	}
	res, err := s.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, translate(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(op, err)
	}
	return n, nil
}

func notFound(op, what string) error {
	return &parley.Error{Code: parley.ENOTFOUND, Op: op, Message: what + " not found"}
}

// conversationChanged is the ECONFLICT of an append whose Message.Expect no
// longer holds.
func conversationChanged(op string) error {
	return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation's status or assignee changed"}
}

// Time and value encodings. Times are INTEGER unix microseconds in UTC.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores "" as NULL, for optional references and client ids.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// utc truncates t to what the store keeps: UTC at microsecond precision.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
