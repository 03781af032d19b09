package postgres

import (
	"bytes"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/blobstest"
)

func TestBlobsConformance(t *testing.T) {
	blobstest.Run(t, func(tb testing.TB) blobstest.Subject {
		s := MustOpen(tb)
		return blobstest.Subject{Blobs: s.Blobs(), Count: func(tb testing.TB) int {
			var n int
			if err := s.pool.QueryRow(tb.Context(), `SELECT (SELECT count(*) FROM blobs) + (SELECT count(*) FROM blob_chunks)`).Scan(&n); err != nil {
				tb.Fatal(err)
			}
			return n
		}}
	})
}

func TestBlobsChunksAndSweep(t *testing.T) {
	s := MustOpen(t)
	b := s.Blobs()
	ctx := t.Context()
	key, size, err := b.Put(ctx, bytes.NewReader(make([]byte, 2*chunkSize+1)))
	if err != nil || size != 2*chunkSize+1 {
		t.Fatalf("Put = %d, %v", size, err)
	}
	var chunks int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM blob_chunks WHERE key = $1`, key).Scan(&chunks)
	if chunks != 3 {
		t.Errorf("%d chunks for 2 chunks and a byte, want 3", chunks)
	}
	// What a crash mid-write leaves: an incomplete blob, invisible to Open
	// and swept once stale.
	stale, fresh := "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	s.pool.Exec(ctx, `INSERT INTO blobs (key, created_at) VALUES ($1, now() - interval '2 hours'), ($2, now())`, stale, fresh)
	s.pool.Exec(ctx, `INSERT INTO blob_chunks (key, n, data) VALUES ($1, 0, 'x'), ($2, 0, 'y')`, stale, fresh)
	if _, err := b.Open(ctx, stale); err == nil {
		t.Error("Open returned an incomplete blob")
	}
	n, err := b.Sweep(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	var left int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM blobs WHERE key IN ($1, $2)`, stale, fresh).Scan(&left)
	if left != 1 {
		t.Errorf("%d of the stale and the fresh incomplete blob left, want 1 (the fresh)", left)
	}
	if _, err := b.Open(ctx, key); err != nil {
		t.Errorf("Sweep touched a complete blob: %v", err)
	}
}
