package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/parleychat/parley"
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
