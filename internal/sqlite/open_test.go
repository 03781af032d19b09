package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

func wantOpenError(t *testing.T, path string, opts Options, code string) {
	t.Helper()
	s, err := Open(t.Context(), path, opts)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%q) succeeded, want %s", path, code)
	}
	var pe *parley.Error
	if !errors.As(err, &pe) {
		t.Fatalf("Open(%q) = %T %v, want a *parley.Error", path, err, err)
	}
	if pe.Code != code {
		t.Errorf("Open(%q) code %q (%v), want %q", path, pe.Code, err, code)
	}
	if code == parley.EUNAVAILABLE && !strings.Contains(pe.Message, path) {
		t.Errorf("Open(%q) message %q does not name the file", path, pe.Message)
	}
	t.Logf("Open(%q): %s", path, parley.ErrorMessage(err))
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "garbage.db")
	garbage := []byte(strings.Repeat("this is not a SQLite database, just text. ", 200))
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	wantOpenError(t, path, Options{}, parley.EUNAVAILABLE)
	// The file is left as it was.
	got, err := os.ReadFile(path)
	if err != nil || string(got) != string(garbage) {
		t.Errorf("Open changed the file it refused (err %v)", err)
	}
}

func TestOpenUnusablePath(t *testing.T) {
	dir := t.TempDir()
	wantOpenError(t, filepath.Join(dir, "missing", "dir", "parley.db"), Options{}, parley.EUNAVAILABLE)
	wantOpenError(t, dir, Options{}, parley.EUNAVAILABLE)
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked")
		if err := os.Mkdir(locked, 0o000); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(locked, 0o700)
		wantOpenError(t, filepath.Join(locked, "parley.db"), Options{}, parley.EUNAVAILABLE)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	wantOpenError(t, filepath.Join(dir, "a.db"), Options{Synchronous: "OFF"}, parley.EINVALID)
	wantOpenError(t, "", Options{}, parley.EINVALID)
	wantOpenError(t, ":memory:", Options{}, parley.EINVALID)
	wantOpenError(t, filepath.Join(dir, "b.db?mode=ro"), Options{}, parley.EINVALID)
}

func TestPragmas(t *testing.T) {
	for _, tc := range []struct {
		sync string
		want int
	}{{"", 1}, {"normal", 1}, {"FULL", 2}} {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), Options{Synchronous: tc.sync, ReadConns: 2})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		ctx := t.Context()
		var mode string
		var fk, sync, busy int
		if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("writer journal_mode = %q (%v), want wal", mode, err)
		}
		if err := s.writer.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("writer foreign_keys = %d (%v), want 1", fk, err)
		}
		if err := s.writer.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != tc.want {
			t.Errorf("Synchronous %q: writer synchronous = %d (%v), want %d", tc.sync, sync, err, tc.want)
		}
		if err := s.writer.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil || busy != int(busyTimeout.Milliseconds()) {
			t.Errorf("writer busy_timeout = %d (%v)", busy, err)
		}
		var qo int
		if err := s.reader.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil || qo != 1 {
			t.Errorf("reader query_only = %d (%v), want 1", qo, err)
		}
		if _, err := s.reader.ExecContext(ctx, "CREATE TABLE nope (x INTEGER)"); err == nil {
			t.Errorf("a reader connection could write")
		}
		if got := s.reader.Stats().MaxOpenConnections; got != 2 {
			t.Errorf("reader pool of %d, want 2", got)
		}
		if got := s.writer.Stats().MaxOpenConnections; got != 1 {
			t.Errorf("writer pool of %d, want 1", got)
		}
		s.Close()
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("SchemaVersion before Migrate = %d, %v; want 0", v, err)
	}
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("loadMigrations: %d, %v", len(ms), err)
	}
	latest := ms[len(ms)-1].version
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v != latest {
			t.Errorf("SchemaVersion = %d, %v; want %d", v, err, latest)
		}
		var n int
		if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
			t.Errorf("schema_migrations holds %d rows (%v), want %d", n, err, len(ms))
		}
	}
	// A store that was closed answers EUNAVAILABLE.
	s.Close()
	if err := s.Ping(ctx); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Errorf("Ping after Close = %v, want unavailable", err)
	}
	_, err = s.AppendMessage(ctx, &parley.Message{ConversationID: parley.NewID(), SenderType: parley.SenderSystem,
		Kind: parley.KindSystem, Content: "x"})
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Errorf("AppendMessage after Close = %v, want unavailable", err)
	}
}
