package sqlite

import (
	"context"
	"time"
)

// In WAL mode every commit appends pages to the -wal file, and a checkpoint
// copies them back into the database file (with an fsync). By default the
// committing connection does that itself every 1000 pages, which puts the
// copy on the single writer's path and stalls every queued append. Here a
// connection of its own runs PASSIVE checkpoints in the background: they
// never block the writer or readers, they copy what no reader still needs,
// and SQLite restarts the WAL from its beginning once it is fully copied.

const (
	checkpointEvery = 200 * time.Millisecond
	// writerCheckpointPages is the WAL size (in pages) at which the writer
	// checkpoints by itself: a backstop for when readers keep the background
	// checkpoint from catching up.
	writerCheckpointPages = 50000
)

// checkpointLoop runs until Close, then makes a last checkpoint that
// truncates the WAL so a closed database is one file.
func (s *Store) checkpointLoop() {
	defer close(s.checkpointDone)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	ctx := context.Background()
	for {
		select {
		case <-tick.C:
			s.checkpoint(ctx, "PASSIVE")
		case <-s.closing:
			<-s.loopDone // the last appends are committed
			s.checkpoint(ctx, "TRUNCATE")
			return
		}
	}
}

func (s *Store) checkpoint(ctx context.Context, mode string) {
	var busy, logPages, copied int
	err := s.checkpointer.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logPages, &copied)
	if err != nil {
		s.log.Warn("sqlite: checkpoint failed", "mode", mode, "err", err)
	}
}
