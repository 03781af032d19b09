package httpapi_test

import (
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/httpapi"
)

// Attachment benchmarks (docs/benchmarks.md, "Attachments"). The blob store
// is the disk in a temporary directory, or PostgreSQL's with
// PARLEY_BENCH_BLOBS=postgres (and PARLEY_TEST_POSTGRES_URL).

const benchFileSize = 20 << 20

func benchEnv(b *testing.B) (*env, *fixture, cred) {
	open, blobs := openSQLite, "disk"
	if os.Getenv("PARLEY_BENCH_BLOBS") == "postgres" {
		if os.Getenv("PARLEY_TEST_POSTGRES_URL") == "" {
			b.Skip("SKIP: PARLEY_BENCH_BLOBS=postgres needs PARLEY_TEST_POSTGRES_URL")
		}
		open, blobs = openPostgres, "postgres"
	}
	e := newEnv(b, open, envOptions{blobs: blobs})
	fx := e.fixture()
	return e, fx, e.session(e.users["agent_assigned"])
}

// streamedUpload posts a file of size bytes that is made as it is sent (a
// PDF header, then pseudo-random bytes), so the client holds no copy of it
// and the server's memory is what a figure shows.
func streamedUpload(e *env, c cred, conv string, size int, seed uint64) (int, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("conversationId", conv)
		mw.WriteField("fileType", "document")
		w, _ := mw.CreateFormFile("file", "big.pdf")
		w.Write([]byte("%PDF-1.7\n"))
		rnd := rand.New(rand.NewPCG(seed, 7))
		block := make([]byte, 64<<10)
		for left := size - 9; left > 0; left -= len(block) {
			for i := 0; i < len(block); i += 8 {
				v := rnd.Uint64()
				for j := 0; j < 8; j++ {
					block[i+j] = byte(v >> (8 * j))
				}
			}
			if _, err := w.Write(block[:min(left, len(block))]); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/files/upload", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: c.cookie})
	req.Header.Set("X-CSRF-Token", c.csrf)
	res, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// BenchmarkUpload20MB uploads one 20 MB file at a time over loopback: MB/s
// is the upload throughput, checksum, type detection, fsync and append
// included.
func BenchmarkUpload20MB(b *testing.B) {
	e, fx, c := benchEnv(b)
	b.SetBytes(benchFileSize)
	b.ResetTimer()
	for i := range b.N {
		st, err := streamedUpload(e, c, fx.convA.ID, benchFileSize, uint64(i))
		if err != nil || st != http.StatusCreated {
			b.Fatalf("upload: %d %v", st, err)
		}
	}
}

// BenchmarkParallelUploads20x20MB runs 20 uploads of 20 MB at once, b.N
// times, sampling the process's live heap every 5 ms: heap-peak-MB stays
// flat (a few MB of buffers per upload) however large the files, since
// nothing holds a file in memory. The client side is streamed too.
func BenchmarkParallelUploads20x20MB(b *testing.B) {
	e, fx, c := benchEnv(b)
	const parallel = 20
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	b.SetBytes(parallel * benchFileSize)
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		var failed atomic.Int64
		for j := range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if st, err := streamedUpload(e, c, fx.convA.ID, benchFileSize, uint64(i*parallel+j)); err != nil || st != http.StatusCreated {
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d of %d uploads failed", n, parallel)
		}
	}
	b.StopTimer()
	close(stop)
	sampler.Wait()
	b.ReportMetric(float64(base)/(1<<20), "heap-base-MB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "heap-peak-MB")
	msgs, _ := e.messageCount(fx.convA.ID)
	if want := 1 + b.N*parallel; msgs != want {
		b.Errorf("%d messages, want %d", msgs, want)
	}
}
