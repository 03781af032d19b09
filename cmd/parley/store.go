package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/files"
	"github.com/parleychat/parley/internal/postgres"
	"github.com/parleychat/parley/internal/sqlite"
)

// store is what the command needs of a database beyond parley.Store.
type store interface {
	parley.Store
	Migrate(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int, error)
}

var (
	_ store = (*sqlite.Store)(nil)
	_ store = (*postgres.Store)(nil)
)

// openStore opens the database the configuration names: PostgreSQL for a
// postgres:// URL, otherwise a SQLite file (created in the data dir).
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (store, string, error) {
	if cfg.isPostgres() {
		s, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Logger: log})
		if err != nil {
			return nil, "", err
		}
		return s, "postgres", nil
	}
	path := cfg.sqlitePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, "", fmt.Errorf("cannot create the directory for %s: %w", path, err)
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: cfg.SQLiteSynchronous, Logger: log})
	if err != nil {
		return nil, "", err
	}
	return s, "sqlite " + path, nil
}

func migrate(ctx context.Context, cfg Config, stdout io.Writer) error {
	log := newLogger(cfg)
	s, name, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is at schema version %d\n", name, v)
	return nil
}

// sweeper is what a blob store offers to clean up after writes a crash cut.
type sweeper interface {
	Sweep(ctx context.Context, olderThan time.Duration) (int, error)
}

// openBlobs opens the blob store the configuration names: files in the data
// dir, or the PostgreSQL database s.
func openBlobs(cfg Config, s store) (parley.Blobs, string, error) {
	if cfg.Blobs == "postgres" {
		ps, ok := s.(*postgres.Store)
		if !ok {
			return nil, "", fmt.Errorf("PARLEY_BLOBS=postgres needs a PostgreSQL database")
		}
		return ps.Blobs(), "postgres", nil
	}
	dir := filepath.Join(cfg.DataDir, "files")
	d, err := files.New(dir)
	if err != nil {
		return nil, "", err
	}
	return d, "disk " + d.Dir(), nil
}

// Blob housekeeping: how often it runs, and how old a cut write must be
// before it is swept (longer than any upload may take).
const (
	sweepEvery     = time.Minute
	staleUploadAge = time.Hour
)

// sweepBlobs deletes, until ctx ends, the blobs of deleted attachments and
// what cut writes left.
func sweepBlobs(ctx context.Context, d *desk.Desk, b parley.Blobs, log *slog.Logger) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if n, err := d.SweepBlobs(ctx); err != nil && ctx.Err() == nil {
			log.Warn("deleting the files of deleted attachments", "err", err)
		} else if n > 0 {
			log.Info("deleted the files of deleted attachments", "files", n)
		}
		if sw, ok := b.(sweeper); ok {
			if n, err := sw.Sweep(ctx, staleUploadAge); err != nil && ctx.Err() == nil {
				log.Warn("sweeping cut uploads", "err", err)
			} else if n > 0 {
				log.Info("swept cut uploads", "files", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
