package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. A file whose
// name does not parse, or two files with one version, is a build mistake and
// fails every Migrate.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".sql")
		num, label, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || label == "" {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: label, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// nextPending returns the first of ms (in version order) whose version is
// not among done, or nil. Migrations apply by set, not by the highest
// version: branches number theirs apart, so a database may have a later one
// before an earlier one is merged.
func nextPending(ms []migration, done []int) *migration {
	applied := map[int]bool{}
	for _, v := range done {
		applied[v] = true
	}
	for i := range ms {
		if !applied[ms[i].version] {
			return &ms[i]
		}
	}
	return nil
}

// migrationHooks run Go code inside a migration's transaction, after its
// SQL: data changes SQL alone cannot make.
var migrationHooks = map[int]func(ctx context.Context, tx pgx.Tx) error{
	5: backfillSearch, // index the words of messages and customers stored before search existed
}

// The advisory lock is per schema, so nodes sharing a schema take turns while
// databases holding several schemas (tests) migrate them in parallel.
const (
	lockMigrations   = `SELECT pg_advisory_xact_lock(hashtext('parley.migrate.' || current_schema()))`
	createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`
)

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction with its record. Several
// nodes may call it at once: a transaction-scoped advisory lock makes them
// take turns, and each re-reads what is applied after taking it.
func (s *Store) Migrate(ctx context.Context) error {
	const op = "postgres.Migrate"
	ms, err := migrations()
	if err != nil {
		return &parley.Error{Code: parley.EINTERNAL, Op: op, Err: err}
	}
	for {
		var applied *migration
		err := s.inTx(ctx, op, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, lockMigrations); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, createMigrations); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
			if err != nil {
				return err
			}
			done, err := pgx.CollectRows(rows, pgx.RowTo[int])
			if err != nil {
				return err
			}
			applied = nextPending(ms, done)
			if applied == nil {
				return nil
			}
			if _, err := tx.Exec(ctx, applied.sql); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", applied.version, applied.name, err)
			}
			if hook := migrationHooks[applied.version]; hook != nil {
				if err := hook(ctx, tx); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", applied.version, applied.name, err)
				}
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
				applied.version, applied.name)
			return err
		})
		if err != nil {
			return err
		}
		if applied == nil {
			return nil
		}
		s.log.Info("postgres migration applied", "version", applied.version, "name", applied.name)
	}
}

// SchemaVersion returns the newest applied migration, 0 before the first.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	const op = "postgres.SchemaVersion"
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, translate(op, err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, translate(op, err)
	}
	return v, nil
}
