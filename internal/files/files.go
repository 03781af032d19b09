// Package files keeps blobs (the bytes of attachments) on disk: parley.Blobs
// in a directory, by default "files" in the data dir.
//
// Every blob is a file named by a random key the server makes (a UUID), in
// one of 256 subdirectories named by the key's first two characters, so no
// directory grows huge and no name a client sent ever reaches the file
// system. A blob is written to a temporary file in the directory it will
// live in, synced, renamed into place, and the directory synced: a reader
// sees the whole file or nothing, and a write that fails, is cancelled or is
// cut by a crash leaves no blob (a crash may leave a temporary file, which
// Sweep removes).
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// Disk is parley.Blobs in a directory.
type Disk struct {
	root string
}

var _ parley.Blobs = (*Disk)(nil)

// tempPrefix starts the names of files being written; nothing else in the
// tree starts with a dot.
const tempPrefix = ".tmp-"

// New returns the blob store in dir, creating it (mode 0700) when needed.
// EUNAVAILABLE when dir cannot be created or is not a directory.
func New(dir string) (*Disk, error) {
	const op = "files.New"
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "cannot use the files directory " + dir, Err: err}
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "cannot create the files directory " + abs, Err: err}
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.IsDir() {
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: abs + " is not a directory", Err: err}
	}
	return &Disk{root: abs}, nil
}

// Dir returns the directory the blobs live in.
func (d *Disk) Dir() string { return d.root }

// path returns where key lives; ok is false for a key Put cannot have made,
// so a crafted key never names a path outside the tree.
func (d *Disk) path(key string) (dir, file string, ok bool) {
	if !parley.ValidID(key) {
		return "", "", false
	}
	dir = filepath.Join(d.root, key[:2])
	return dir, filepath.Join(dir, key), true
}

func unavailable(op string, err error) error {
	return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "the file storage failed", Err: err}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// Put writes r to a new blob. See parley.Blobs.
func (d *Disk) Put(ctx context.Context, r io.Reader) (key string, size int64, err error) {
	const op = "files.Put"
	key = parley.NewID()
	dir, final, _ := d.path(key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, unavailable(op, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", 0, unavailable(op, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		if cerr := ctx.Err(); cerr != nil {
			return "", 0, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "the upload was cancelled", Err: cerr}
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				return "", 0, unavailable(op, werr)
			}
			size += int64(n)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return "", 0, fmt.Errorf("%s: reading: %w", op, rerr)
		}
	}
	if err = f.Sync(); err != nil {
		return "", 0, unavailable(op, err)
	}
	if err = f.Close(); err != nil {
		return "", 0, unavailable(op, err)
	}
	if err = os.Rename(tmp, final); err != nil {
		return "", 0, unavailable(op, err)
	}
	if err = syncDir(dir); err != nil {
		os.Remove(final)
		return "", 0, unavailable(op, err)
	}
	return key, size, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// blob is an open blob file.
type blob struct {
	*os.File
	size int64
}

func (b *blob) Size() int64 { return b.size }

// Open opens the blob under key. See parley.Blobs.
func (d *Disk) Open(ctx context.Context, key string) (parley.Blob, error) {
	const op = "files.Open"
	_, file, ok := d.path(key)
	if !ok {
		return nil, &parley.Error{Code: parley.ENOTFOUND, Op: op, Message: "file not found"}
	}
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &parley.Error{Code: parley.ENOTFOUND, Op: op, Message: "file not found", Err: err}
	}
	if err != nil {
		return nil, unavailable(op, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, unavailable(op, err)
	}
	return &blob{File: f, size: fi.Size()}, nil
}

// Delete removes the blob under key. See parley.Blobs.
func (d *Disk) Delete(ctx context.Context, key string) error {
	_, file, ok := d.path(key)
	if !ok {
		return nil
	}
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unavailable("files.Delete", err)
	}
	return nil
}

// Sweep removes temporary files older than olderThan: what writes cut by a
// crash left. It returns how many it removed. Writes in progress are never
// that old when olderThan exceeds the longest an upload may take.
func (d *Disk) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	n := 0
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(p); err == nil {
			n++
		}
		return nil
	})
	if err != nil {
		return n, unavailable("files.Sweep", err)
	}
	return n, nil
}
