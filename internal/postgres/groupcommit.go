package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleychat/parley"
)

// Every append is a commit, and with synchronous_commit a commit waits for a
// WAL flush. groupCommit gathers the appends that arrive together and
// commits them as one transaction, sent as one pipeline: one round trip and
// one flush for the whole batch instead of one per message.
//
// A committer takes whatever appends are waiting, up to maxBatch, and never
// waits for more: a lone append goes at once, and under load the batch is
// whatever queued while the previous one ran. Each append runs inside its
// own savepoint, so one that fails (a client message id used before, a
// reused attachment id; a missing conversation just returns no row) is
// rolled back alone and the rest go on. Callers learn their result only
// after COMMIT; if COMMIT fails, every caller in the batch gets the error
// and nothing of theirs is stored.
//
// Several committers may run at once. Each orders its batch by conversation
// id, so every batch takes conversation row locks in the same order and two
// batches cannot deadlock on each other.
type groupCommit struct {
	pool     *pgxpool.Pool
	maxBatch int
	// requests is unbuffered: a send succeeds only once a committer holds the
	// request, so an append is never stranded in a queue nobody reads.
	requests chan *appendRequest
	done     chan struct{}
	stop     sync.Once
	wg       sync.WaitGroup
}

// maxAppendBatch bounds a batch. Every append's savepoint gives the
// transaction a subtransaction id, and PostgreSQL caches 64 of them per
// backend; past that, every snapshot taken anywhere pays for lookups in
// pg_subtrans.
const maxAppendBatch = 64

// appendCommitters is how many batches may be in flight at once. Two let one
// batch run its statements while the other waits for its WAL flush; more
// only contend for the CPU and split the queue into smaller batches.
const appendCommitters = 2

// Savepoint statements, constant so pgx prepares them once per connection.
const (
	savepointSQL      = `SAVEPOINT append`
	releaseSQL        = `RELEASE SAVEPOINT append`
	rollbackToSQL     = `ROLLBACK TO SAVEPOINT append; RELEASE SAVEPOINT append`
	beginAppendsSQL   = `BEGIN`
	commitAppendsSQL  = `COMMIT`
	rollbackAppendSQL = `ROLLBACK`
)

type appendRequest struct {
	ctx  context.Context
	args *appendArgs
	// result is buffered so a committer never waits for a caller that gave up.
	result chan appendOutcome
}

type appendOutcome struct {
	appendResult
	err error
}

// newGroupCommit starts committers that run batches of at most maxBatch
// appends on connections of pool.
func newGroupCommit(pool *pgxpool.Pool, committers, maxBatch int) *groupCommit {
	g := &groupCommit{
		pool:     pool,
		maxBatch: min(max(1, maxBatch), maxAppendBatch),
		requests: make(chan *appendRequest),
		done:     make(chan struct{}),
	}
	for range max(1, committers) {
		g.wg.Go(g.loop)
	}
	return g
}

// close stops the committers once their current batches are done. Appends
// that no committer took fail with EUNAVAILABLE.
func (g *groupCommit) close() {
	g.stop.Do(func() { close(g.done) })
	g.wg.Wait()
}

var errStoreClosed = errors.New("the store is closed")

// append runs a through a batch and returns its result once the batch
// committed. When ctx ends first it returns ctx.Err(); the append may still
// commit with its batch.
func (g *groupCommit) append(ctx context.Context, a *appendArgs) (appendResult, error) {
	if err := ctx.Err(); err != nil {
		return appendResult{}, err
	}
	r := &appendRequest{ctx: ctx, args: a, result: make(chan appendOutcome, 1)}
	select {
	case g.requests <- r:
	case <-ctx.Done():
		return appendResult{}, ctx.Err()
	case <-g.done:
		return appendResult{}, &parley.Error{Code: parley.EUNAVAILABLE, Op: "postgres.AppendMessage",
			Message: "the store is closed", Err: errStoreClosed}
	}
	select {
	case out := <-r.result:
		return out.appendResult, out.err
	case <-ctx.Done():
		// A result that arrived together with the cancellation still counts.
		select {
		case out := <-r.result:
			return out.appendResult, out.err
		default:
			return appendResult{}, ctx.Err()
		}
	}
}

func (g *groupCommit) loop() {
	batch := make([]*appendRequest, 0, g.maxBatch)
	for {
		select {
		case r := <-g.requests:
			batch = append(batch[:0], r)
		case <-g.done:
			return
		}
	gather:
		for len(batch) < g.maxBatch {
			select {
			case r := <-g.requests:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		g.commit(batch)
		clear(batch)
	}
}

// commit runs the batch and hands every caller its outcome.
func (g *groupCommit) commit(batch []*appendRequest) {
	live := make([]*appendRequest, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.result <- appendOutcome{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// Stable, so appends to one conversation keep their arrival order.
	slices.SortStableFunc(live, func(a, b *appendRequest) int {
		return strings.Compare(a.args.conversationID, b.args.conversationID)
	})
	ctx, cancel := batchContext(live)
	defer cancel()
	out := make([]appendOutcome, len(live))
	err := g.run(ctx, live, out)
	for i, r := range live {
		if err != nil {
			out[i] = appendOutcome{err: err}
		}
		r.result <- out[i]
	}
}

// batchContext returns a context that ends when every caller of the batch
// has given up: a batch nobody waits for need not hold a connection.
func batchContext(live []*appendRequest) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var waiting atomic.Int64
	waiting.Store(int64(len(live)))
	stops := make([]func() bool, len(live))
	for i, r := range live {
		stops[i] = context.AfterFunc(r.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// run executes the appends in one transaction and fills out. It returns an
// error when the transaction as a whole failed: then nothing was stored.
func (g *groupCommit) run(ctx context.Context, reqs []*appendRequest, out []appendOutcome) (err error) {
	pc, err := g.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Conn()
	defer func() {
		if err != nil && conn.PgConn().TxStatus() != 'I' && !conn.IsClosed() {
			// Best effort: a connection left in a transaction is destroyed
			// on release anyway.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			conn.PgConn().Exec(rctx, rollbackAppendSQL).ReadAll() //nolint:errcheck
			cancel()
		}
		pc.Release()
	}()
	if len(reqs) == 1 {
		// Alone, an append is its own transaction: one statement in an
		// implicit one, with nothing else to shield from its failure.
		r, qerr := scanAppend(conn.QueryRow(ctx, reqs[0].args.sql, reqs[0].args.args...))
		if qerr != nil && !ownFailure(qerr) {
			return qerr
		}
		out[0] = appendOutcome{appendResult: r, err: qerr}
		return nil
	}
	for from := 0; ; {
		b := &pgx.Batch{}
		if from == 0 {
			b.Queue(beginAppendsSQL)
		}
		for _, r := range reqs[from:] {
			b.Queue(savepointSQL)
			b.Queue(r.args.sql, r.args.args...)
			b.Queue(releaseSQL)
		}
		b.Queue(commitAppendsSQL)
		failed, err := sendAppends(ctx, conn, b, from == 0, out[from:])
		if err != nil {
			return err
		}
		if failed < 0 {
			return nil
		}
		// That append failed on its own: roll it back alone and send the
		// rest. The aborted transaction refuses anything else, pgx's
		// statement preparation included, hence the simple protocol.
		if _, err := conn.PgConn().Exec(ctx, rollbackToSQL).ReadAll(); err != nil {
			return err
		}
		from += failed + 1
	}
}

// sendAppends sends b (BEGIN when begin, then savepoint, append, release for
// each of out, then COMMIT) and reads the results into out. It returns the
// index of an append that failed on its own, after which the transaction is
// aborted and nothing past it ran, or -1 when all ran and COMMIT succeeded.
func sendAppends(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, begin bool, out []appendOutcome) (int, error) {
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	if begin {
		if _, err := br.Exec(); err != nil {
			return 0, err
		}
	}
	for i := range out {
		if _, err := br.Exec(); err != nil {
			return 0, err
		}
		r, err := scanAppend(br.QueryRow())
		if err != nil {
			if ownFailure(err) {
				out[i].err = err
				br.Close() // reports err again; the session itself is fine
				return i, nil
			}
			return 0, err
		}
		out[i] = appendOutcome{appendResult: r}
		if _, err := br.Exec(); err != nil {
			return 0, err
		}
	}
	tag, err := br.Exec()
	if err != nil {
		return 0, err
	}
	if tag.String() != "COMMIT" {
		// COMMIT of a transaction the server had aborted reports ROLLBACK.
		return 0, pgx.ErrTxCommitRollback
	}
	return -1, br.Close()
}

// ownFailure reports whether err is a statement's own error, after which the
// session is still usable: a server ERROR, not FATAL or a broken connection.
func ownFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.SeverityUnlocalized == "ERROR"
}
