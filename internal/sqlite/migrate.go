package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/, named NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		file := e.Name()
		base := strings.TrimSuffix(file, ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", file)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, file, v)
		}
		seen[v] = file
		b, err := fs.ReadFile(migrationFiles, path.Join("migrations", file))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrationHooks run Go code inside a migration's transaction, after its
// SQL: data changes SQL alone cannot make.
var migrationHooks = map[int]func(ctx context.Context, tx *sql.Tx) error{
	5: backfillSearch,          // index the words of messages and customers stored before search existed
	6: fillSearchConversations, // name the conversation of each message indexed before migration 6
	7: fillReadCounts,          // count the read marks stored before migration 7
	9: checksWithoutLists,      // the messages table's CHECK constraints without IN lists
}

// listChecks are the CHECK constraints migration 9 rewrites, as migration 1
// wrote them, and what they become: the same values, compared with =.
var listChecks = []struct{ table, old, new string }{
	{"messages", "CHECK (sender_type IN ('customer', 'agent', 'system'))",
		"CHECK (sender_type = 'customer' OR sender_type = 'agent' OR sender_type = 'system')"},
	{"messages", "CHECK (kind IN ('text', 'file', 'system', 'note'))",
		"CHECK (kind = 'text' OR kind = 'file' OR kind = 'system' OR kind = 'note')"},
}

// checksWithoutLists rewrites the definitions of listChecks in
// sqlite_schema and moves the schema version on, so every connection
// compiles its statements against the new definition
// (https://www.sqlite.org/lang_altertable.html#otheralter). A definition
// that does not read as migration 1 wrote it is an error: the migration
// then changes nothing.
func checksWithoutLists(ctx context.Context, tx *sql.Tx) (err error) {
	defs := map[string]string{}
	for _, c := range listChecks {
		def, ok := defs[c.table]
		if !ok {
			if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", c.table).Scan(&def); err != nil {
				return err
			}
		}
		if strings.Count(def, c.old) != 1 {
			return fmt.Errorf("table %s: its definition does not have %q once", c.table, c.old)
		}
		defs[c.table] = strings.Replace(def, c.old, c.new, 1)
	}
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&version); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA writable_schema = ON"); err != nil {
		return err
	}
	// The setting belongs to the connection, not the transaction: it is
	// turned off even when the migration fails.
	defer func() {
		if _, offErr := tx.ExecContext(ctx, "PRAGMA writable_schema = OFF"); err == nil {
			err = offErr
		}
	}()
	for table, def := range defs {
		if _, err := tx.ExecContext(ctx, "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?", def, table); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA schema_version = %d", version+1))
	return err
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT`

// Migrate applies the embedded migrations the database has not seen yet, in
// order, each in its own transaction together with its schema_migrations
// row, so a failed migration leaves no trace. Running it again is a no-op.
// EUNAVAILABLE when the database cannot be written; EINTERNAL when a
// migration fails.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateTo(ctx, math.MaxInt) }

// migrateTo applies the migrations up to version upTo (tests upgrade from an
// older schema with it).
func (s *Store) migrateTo(ctx context.Context, upTo int) error {
	const op = "sqlite.Migrate"
	ms, err := loadMigrations()
	if err != nil {
		return &parley.Error{Code: parley.EINTERNAL, Op: op, Err: err}
	}
	if _, err := s.exec(ctx, op, createMigrationsTable); err != nil {
		return err
	}
	for _, m := range ms {
		if m.version > upTo {
			break
		}
		applied := false
		err := s.write(ctx, op, func(tx *sql.Tx) error {
			// Checked inside the write transaction, so two processes migrating
			// at once apply each migration once.
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
			if hook := migrationHooks[m.version]; hook != nil {
				if err := hook(ctx, tx); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
				}
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, micros(parley.Now())); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return err
		}
		if applied {
			s.log.Info("sqlite: applied migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}

// SchemaVersion returns the newest migration applied, 0 on a database that
// was never migrated. EUNAVAILABLE.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	const op = "sqlite.SchemaVersion"
	if s.isClosed() {
		return 0, closedError(op)
	}
	var exists int
	if err := s.rq.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").Scan(&exists); err != nil {
		return 0, translate(op, err)
	}
	if exists == 0 {
		return 0, nil
	}
	var v int
	if err := s.rq.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, translate(op, err)
	}
	return v, nil
}
