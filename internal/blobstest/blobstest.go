// Package blobstest is the conformance suite every parley.Blobs must pass:
// internal/files (on disk) and internal/postgres (in the database) run it
// from their tests, so both keep the promises blobs.go makes.
package blobstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/parleychat/parley"
)

// Subject is a fresh, empty blob store under test.
type Subject struct {
	Blobs parley.Blobs
	// Count returns how many things the store holds, complete or not: files
	// (temporary ones included), rows, chunks. An empty store has 0; a
	// failed Put must leave it where it was.
	Count func(tb testing.TB) int
}

// Run runs the suite. open returns a fresh, empty store for each subtest
// and arranges for it to be released when tb ends.
func Run(t *testing.T, open func(tb testing.TB) Subject) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Subject)
	}{
		{"RoundTrip", testRoundTrip},
		{"SeekAndReadAt", testSeekAndReadAt},
		{"UnknownKeys", testUnknownKeys},
		{"Delete", testDelete},
		{"FailingReader", testFailingReader},
		{"CancelledContext", testCancelled},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// data returns n reproducible pseudo-random bytes.
func data(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// oneByteReader hides any WriterTo/ReaderFrom and yields short reads.
type shortReader struct {
	r   io.Reader
	max int
}

func (s *shortReader) Read(p []byte) (int, error) {
	if len(p) > s.max {
		p = p[:s.max]
	}
	return s.r.Read(p)
}

func put(t testing.TB, b parley.Blobs, content []byte) string {
	t.Helper()
	key, n, err := b.Put(t.Context(), &shortReader{r: bytes.NewReader(content), max: 7919})
	if err != nil {
		t.Fatalf("Put(%d bytes): %v", len(content), err)
	}
	if n != int64(len(content)) {
		t.Fatalf("Put(%d bytes) stored %d", len(content), n)
	}
	if key == "" || len(key) > 500 {
		t.Fatalf("Put returned the key %q", key)
	}
	return key
}

func readAll(t testing.TB, b parley.Blobs, key string) []byte {
	t.Helper()
	bl, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer bl.Close()
	got, err := io.ReadAll(bl)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	if bl.Size() != int64(len(got)) {
		t.Errorf("Size() = %d, read %d bytes", bl.Size(), len(got))
	}
	return got
}

func testRoundTrip(t *testing.T, s Subject) {
	keys := map[string]bool{}
	for i, n := range []int{0, 1, 1000, 64<<10 - 1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 1<<20 + 12345} {
		content := data(n, uint64(i))
		key := put(t, s.Blobs, content)
		if keys[key] {
			t.Fatalf("Put reused the key %q", key)
		}
		keys[key] = true
		got := readAll(t, s.Blobs, key)
		if sha256.Sum256(got) != sha256.Sum256(content) {
			t.Errorf("%d bytes: read back differs (got %d bytes)", n, len(got))
		}
	}
	if c := s.Count(t); c == 0 {
		t.Errorf("Count = 0 with %d blobs stored", len(keys))
	}
}

func testSeekAndReadAt(t *testing.T, s Subject) {
	const n = 600<<10 + 77
	content := data(n, 42)
	key := put(t, s.Blobs, content)
	bl, err := s.Blobs.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	if bl.Size() != n {
		t.Fatalf("Size() = %d, want %d", bl.Size(), n)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		off := r.IntN(n)
		l := r.IntN(300 << 10)
		buf := make([]byte, l)
		got, err := bl.ReadAt(buf, int64(off))
		want := min(l, n-off)
		if got != want {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, want %d (%v)", l, off, got, want, err)
		}
		if got < l && !errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt short of the end: err %v, want io.EOF", err)
		}
		if got == l && err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt: %v", err)
		}
		if !bytes.Equal(buf[:got], content[off:off+got]) {
			t.Fatalf("ReadAt(%d bytes at %d): wrong bytes", l, off)
		}

		pos, err := bl.Seek(int64(off), io.SeekStart)
		if err != nil || pos != int64(off) {
			t.Fatalf("Seek(%d) = %d, %v", off, pos, err)
		}
		m, err := io.ReadFull(bl, buf[:want])
		if err != nil || m != want || !bytes.Equal(buf[:m], content[off:off+m]) {
			t.Fatalf("Read after Seek(%d): %d bytes, %v", off, m, err)
		}
	}
	if end, err := bl.Seek(0, io.SeekEnd); err != nil || end != n {
		t.Errorf("Seek(0, End) = %d, %v; want %d", end, err, n)
	}
	if m, err := bl.Read(make([]byte, 10)); m != 0 || err != io.EOF {
		t.Errorf("Read at the end = %d, %v; want 0, io.EOF", m, err)
	}
	if pos, err := bl.Seek(-10, io.SeekCurrent); err != nil || pos != n-10 {
		t.Errorf("Seek(-10, Current) = %d, %v", pos, err)
	}
	if _, err := bl.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative offset succeeded")
	}
	if m, err := bl.ReadAt(make([]byte, 4), n); m != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt at the end = %d, %v; want 0, io.EOF", m, err)
	}
	if _, err := bl.ReadAt(make([]byte, 4), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
}

func testUnknownKeys(t *testing.T, s Subject) {
	ctx := t.Context()
	real := put(t, s.Blobs, []byte("hello"))
	for _, key := range []string{"", parley.NewID(), "../../etc/passwd", "/etc/passwd", "..", ".", "a/b",
		"x\x00y", real + "/../" + real, real + "x", " " + real, "' OR 1=1 --"} {
		_, err := s.Blobs.Open(ctx, key)
		if parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("Open(%q) = %v, want not_found", key, err)
		}
		if err := s.Blobs.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) = %v, want nil", key, err)
		}
	}
	if got := readAll(t, s.Blobs, real); string(got) != "hello" {
		t.Errorf("the real blob reads %q after deleting unknown keys", got)
	}
}

func testDelete(t *testing.T, s Subject) {
	ctx := t.Context()
	before := s.Count(t)
	a := put(t, s.Blobs, data(300<<10, 7))
	b := put(t, s.Blobs, []byte("keep me"))
	if err := s.Blobs.Delete(ctx, a); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Blobs.Open(ctx, a); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Open after Delete = %v, want not_found", err)
	}
	if err := s.Blobs.Delete(ctx, a); err != nil {
		t.Errorf("Delete again = %v, want nil", err)
	}
	if got := readAll(t, s.Blobs, b); string(got) != "keep me" {
		t.Errorf("the other blob reads %q", got)
	}
	if err := s.Blobs.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	if c := s.Count(t); c != before {
		t.Errorf("Count = %d after deleting everything put, want %d", c, before)
	}
}

// failing yields n good bytes, then fails with err.
type failing struct {
	left int
	err  error
}

func (f *failing) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, f.err
	}
	n := min(len(p), f.left, 10000)
	for i := range p[:n] {
		p[i] = byte(i)
	}
	f.left -= n
	return n, nil
}

var errCut = errors.New("the client went away")

func testFailingReader(t *testing.T, s Subject) {
	before := s.Count(t)
	for _, n := range []int{0, 1, 300 << 10, 1<<20 + 3} {
		limit := &parley.Error{Code: parley.ETOOLARGE, Message: "over the limit"}
		for _, cause := range []error{errCut, io.ErrUnexpectedEOF, limit} {
			key, _, err := s.Blobs.Put(t.Context(), &failing{left: n, err: cause})
			if err == nil {
				t.Fatalf("Put of a reader failing after %d bytes succeeded (key %q)", n, key)
			}
			if !errors.Is(err, cause) {
				t.Errorf("Put's error %v does not carry the reader's %v", err, cause)
			}
			if cause == limit && parley.ErrorCode(err) != parley.ETOOLARGE {
				t.Errorf("Put's error code %q, want the reader's too_large", parley.ErrorCode(err))
			}
			if c := s.Count(t); c != before {
				t.Fatalf("a Put failing after %d bytes left %d things behind", n, c-before)
			}
		}
	}
}

// cancelling cancels its context once it has yielded n bytes, then keeps
// yielding, as a request body does while its client disconnects.
type cancelling struct {
	left   int
	cancel context.CancelFunc
}

func (c *cancelling) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.cancel()
	}
	n := min(len(p), 10000)
	c.left -= n
	return n, nil
}

func testCancelled(t *testing.T, s Subject) {
	before := s.Count(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, _, err := s.Blobs.Put(ctx, &cancelling{left: 500 << 10, cancel: cancel})
	if err == nil {
		t.Fatal("Put went on after its context ended")
	}
	if c := s.Count(t); c != before {
		t.Errorf("a cancelled Put left %d things behind", c-before)
	}
}

func testConcurrent(t *testing.T, s Subject) {
	const n = 8
	var wg sync.WaitGroup
	keys := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], _, errs[i] = s.Blobs.Put(t.Context(), bytes.NewReader(data(200<<10+i, uint64(100+i))))
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent Put %d: %v", i, errs[i])
		}
		if seen[keys[i]] {
			t.Fatalf("two Puts got the key %q", keys[i])
		}
		seen[keys[i]] = true
		if got := readAll(t, s.Blobs, keys[i]); !bytes.Equal(got, data(200<<10+i, uint64(100+i))) {
			t.Errorf("blob %d reads back wrong", i)
		}
	}
}
