package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleychat/parley"
)

// chunkSize is the most bytes one blob_chunks row holds. Writes and reads
// move one chunk at a time, so a blob of any size costs about one chunk of
// memory per upload or download in progress.
const chunkSize = 256 << 10

// Blobs is parley.Blobs in the database (tables blobs and blob_chunks), so
// that every node of a cluster sees every file. Each chunk is written in a
// statement of its own: an upload from a slow client holds no connection
// and no transaction between chunks. A blob becomes visible only once its
// last chunk is in (complete); a write that fails deletes what it wrote,
// and Sweep removes what a crash left.
type Blobs struct {
	pool *pgxpool.Pool
}

var _ parley.Blobs = (*Blobs)(nil)

// Blobs returns the blob store in s's database (its schema comes with
// Migrate).
func (s *Store) Blobs() *Blobs { return &Blobs{pool: s.pool} }

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// Put writes r to a new blob, chunk by chunk. See parley.Blobs.
func (b *Blobs) Put(ctx context.Context, r io.Reader) (key string, size int64, err error) {
	const op = "postgres.Blobs.Put"
	id := parley.NewID()
	if _, err := b.pool.Exec(ctx, `INSERT INTO blobs (key) VALUES ($1)`, id); err != nil {
		return "", 0, translate(op, err)
	}
	defer func() {
		if err != nil {
			// The caller's context may be what ended; the cleanup must run.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			b.pool.Exec(cctx, `DELETE FROM blobs WHERE key = $1`, id)
		}
	}()
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	for n := 0; ; n++ {
		m, rerr := fill(r, buf)
		if rerr != nil && rerr != io.EOF {
			return "", 0, fmt.Errorf("%s: reading: %w", op, rerr)
		}
		if cerr := ctx.Err(); cerr != nil {
			return "", 0, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "the upload was cancelled", Err: cerr}
		}
		if m > 0 {
			if _, err := b.pool.Exec(ctx, `INSERT INTO blob_chunks (key, n, data) VALUES ($1, $2, $3)`, id, n, buf[:m]); err != nil {
				return "", 0, translate(op, err)
			}
			size += int64(m)
		}
		if rerr == io.EOF {
			break
		}
	}
	if _, err := b.pool.Exec(ctx, `UPDATE blobs SET size = $2, complete = true WHERE key = $1`, id, size); err != nil {
		return "", 0, translate(op, err)
	}
	return id, size, nil
}

// fill reads into buf until it is full or r ends. Only io.EOF ends a
// stream: any other error, io.ErrUnexpectedEOF from a body cut short
// included, comes back as it is (io.ReadFull would turn a short stream into
// that same error, so it cannot tell the two apart).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Open returns the complete blob under key. See parley.Blobs.
func (b *Blobs) Open(ctx context.Context, key string) (parley.Blob, error) {
	const op = "postgres.Blobs.Open"
	if !parley.ValidID(key) {
		return nil, notFound(op, "file")
	}
	var size int64
	err := b.pool.QueryRow(ctx, `SELECT size FROM blobs WHERE key = $1 AND complete`, key).Scan(&size)
	if noRows(err) {
		return nil, notFound(op, "file")
	}
	if err != nil {
		return nil, translate(op, err)
	}
	return &dbBlob{pool: b.pool, ctx: context.WithoutCancel(ctx), key: key, size: size, chunk: -1}, nil
}

// Delete removes the blob under key and its chunks. See parley.Blobs.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	if !parley.ValidID(key) {
		return nil
	}
	_, err := b.pool.Exec(ctx, `DELETE FROM blobs WHERE key = $1`, key)
	return translate("postgres.Blobs.Delete", err)
}

// Sweep deletes incomplete blobs older than olderThan: writes a crash cut.
// It returns how many it deleted.
func (b *Blobs) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	tag, err := b.pool.Exec(ctx, `DELETE FROM blobs WHERE NOT complete AND created_at < now() - $1::interval`,
		fmt.Sprintf("%d microseconds", olderThan.Microseconds()))
	if err != nil {
		return 0, translate("postgres.Blobs.Sweep", err)
	}
	return int(tag.RowsAffected()), nil
}

// dbBlob reads a blob chunk by chunk, keeping the last chunk it fetched, so
// sequential reads (http.ServeContent copies 32 KiB at a time) fetch each
// chunk once.
type dbBlob struct {
	pool *pgxpool.Pool
	ctx  context.Context
	key  string
	size int64

	mu    sync.Mutex // guards chunk and data: ReadAt may be called concurrently
	chunk int64
	data  []byte
	off   int64 // Read and Seek's position
}

func (d *dbBlob) Size() int64 { return d.size }

func (d *dbBlob) Close() error {
	d.mu.Lock()
	d.data, d.chunk = nil, -1
	d.mu.Unlock()
	return nil
}

// ReadAt reads len(p) bytes at off, fetching the chunks they span.
func (d *dbBlob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("postgres: negative offset")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for n < len(p) {
		if off >= d.size {
			return n, io.EOF
		}
		c := off / chunkSize
		if c != d.chunk {
			var data []byte
			err := d.pool.QueryRow(d.ctx, `SELECT data FROM blob_chunks WHERE key = $1 AND n = $2`, d.key, c).Scan(&data)
			if err != nil {
				return n, translate("postgres.Blobs.Read", err)
			}
			d.chunk, d.data = c, data
		}
		start := int(off - c*chunkSize)
		if start >= len(d.data) {
			return n, translate("postgres.Blobs.Read", fmt.Errorf("chunk %d of %s is short", c, d.key))
		}
		m := copy(p[n:], d.data[start:])
		n += m
		off += int64(m)
	}
	return n, nil
}

func (d *dbBlob) Read(p []byte) (int, error) {
	if d.off >= d.size {
		return 0, io.EOF
	}
	if rest := d.size - d.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := d.ReadAt(p, d.off)
	d.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

func (d *dbBlob) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = d.off + offset
	case io.SeekEnd:
		abs = d.size + offset
	default:
		return 0, errors.New("postgres: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("postgres: negative position")
	}
	d.off = abs
	return abs, nil
}

// BlobStats is what the database's blob store holds.
type BlobStats struct {
	Blobs      int64 // complete or not
	Incomplete int64
	Chunks     int64
	Bytes      int64 // of the complete blobs
}

// Stats counts the blobs and chunks stored, for operators (and for tests
// that check a failed write left nothing).
func (b *Blobs) Stats(ctx context.Context) (BlobStats, error) {
	var st BlobStats
	err := b.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE NOT complete),
		coalesce(sum(size) FILTER (WHERE complete), 0)::bigint, (SELECT count(*) FROM blob_chunks) FROM blobs`).
		Scan(&st.Blobs, &st.Incomplete, &st.Bytes, &st.Chunks)
	return st, translate("postgres.Blobs.Stats", err)
}
