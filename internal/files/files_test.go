package files

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/blobstest"
)

// count counts every file under dir, temporary ones included.
func count(tb testing.TB, dir string) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestConformance(t *testing.T) {
	blobstest.Run(t, func(tb testing.TB) blobstest.Subject {
		d, err := New(filepath.Join(tb.TempDir(), "files"))
		if err != nil {
			tb.Fatal(err)
		}
		return blobstest.Subject{Blobs: d, Count: func(tb testing.TB) int { return count(tb, d.Dir()) }}
	})
}

func TestLayoutAndModes(t *testing.T) {
	d, err := New(filepath.Join(t.TempDir(), "a", "files"))
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := d.Put(t.Context(), bytes.NewReader([]byte("secret")))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d.Dir(), key[:2], key)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("the blob is not at %s: %v", p, err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("blob mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(d.Dir())
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("files directory mode %v (%v), want 0700", di.Mode().Perm(), err)
	}
}

func TestNewRefusesAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "file")
	os.WriteFile(p, []byte("x"), 0o600)
	if _, err := New(p); err == nil || !strings.Contains(err.Error(), "not a directory") && !strings.Contains(err.Error(), "cannot create") {
		t.Errorf("New on a file: %v", err)
	}
}

func TestSweepRemovesStaleTemporaryFiles(t *testing.T) {
	d, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := d.Put(t.Context(), bytes.NewReader([]byte("kept")))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(d.Dir(), "ab")
	os.MkdirAll(dir, 0o700)
	stale := filepath.Join(dir, tempPrefix+"stale")
	fresh := filepath.Join(dir, tempPrefix+"fresh")
	os.WriteFile(stale, []byte("half"), 0o600)
	os.WriteFile(fresh, []byte("in progress"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	n, err := d.Sweep(t.Context(), time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("Sweep removed a write in progress")
	}
	if _, err := d.Open(t.Context(), key); err != nil {
		t.Errorf("Sweep touched a blob: %v", err)
	}
}
