package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The inbox counters of migration 0006 are deltas that triggers insert; a
// total sums the rows of its buckets. Folding replaces a table's rows by one
// per bucket (or none where the sum is zero) in one statement: the DELETE
// takes the rows its snapshot sees and the INSERT puts back their sums, so
// a delta committed meanwhile is left alone, and two nodes folding at once
// each fold only rows the other has not. A table is folded once it holds
// more than foldAbove rows, so an idle inbox writes nothing.

// Folding leaves dead rows behind. Autovacuum clears them on its own, but a
// server may run without it, and a table that only grows makes every total
// read more pages; so after folds the store vacuums both tables itself, at
// most once per vacuumEvery (they are small: a moment's work).
const (
	foldEvery   = time.Second
	foldAbove   = 256
	vacuumEvery = time.Minute
)

// foldSQL folds each table when it holds more than $1 rows.
var foldSQL = []string{
	`WITH d AS (
		DELETE FROM inbox_count_deltas WHERE (SELECT count(*) FROM inbox_count_deltas) > $1
		RETURNING *)
	INSERT INTO inbox_count_deltas (status, assignee_id, conversations, with_customer)
	SELECT status, assignee_id, sum(conversations), sum(with_customer) FROM d
	GROUP BY status, assignee_id HAVING sum(conversations) <> 0 OR sum(with_customer) <> 0`,
	`WITH d AS (
		DELETE FROM inbox_read_deltas WHERE (SELECT count(*) FROM inbox_read_deltas) > $1
		RETURNING *)
	INSERT INTO inbox_read_deltas (user_id, status, assignee_id, conversations)
	SELECT user_id, status, assignee_id, sum(conversations) FROM d
	GROUP BY user_id, status, assignee_id HAVING sum(conversations) <> 0`,
}

// foldLoop folds the inbox deltas every foldEvery until stop is closed.
func (s *Store) foldLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(foldEvery)
	defer t.Stop()
	var dirty bool
	var vacuumed time.Time
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		folded, err := s.foldInboxDeltas(ctx, foldAbove)
		if err != nil && !undefinedTable(err) {
			s.log.Warn("postgres: folding the inbox counters failed", "err", err)
		}
		dirty = dirty || folded
		if dirty && time.Since(vacuumed) >= vacuumEvery {
			if _, err := s.pool.Exec(ctx, `VACUUM inbox_count_deltas, inbox_read_deltas`); err != nil {
				s.log.Warn("postgres: vacuuming the inbox counters failed", "err", err)
			}
			dirty, vacuumed = false, time.Now()
		}
		cancel()
	}
}

// foldInboxDeltas folds each delta table that holds more than above rows
// and reports whether it folded any.
func (s *Store) foldInboxDeltas(ctx context.Context, above int) (folded bool, err error) {
	for _, q := range foldSQL {
		tag, err := s.pool.Exec(ctx, q, above)
		if err != nil {
			return folded, err
		}
		folded = folded || tag.RowsAffected() > 0
	}
	return folded, nil
}

// undefinedTable reports a database not migrated yet.
func undefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}
