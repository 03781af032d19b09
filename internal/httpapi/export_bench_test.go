package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// BenchmarkExportCSV measures GET /api/exports/conversations?format=csv on a
// running server: PARLEY_BENCH_EXPORT_MESSAGES messages (default 10,000) in
// conversations of 100, exported whole and a tenth of them, with the time,
// the rate and the peak of the process's live heap during the export (the
// server runs in this process). A streaming export's peak stays flat as the
// range grows.
//
//	PARLEY_BENCH_EXPORT_MESSAGES=100000 go test -run '^$' -bench ExportCSV -benchtime 3x ./internal/httpapi/
func BenchmarkExportCSV(b *testing.B) {
	n := 10000
	if v := os.Getenv("PARLEY_BENCH_EXPORT_MESSAGES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("PARLEY_BENCH_EXPORT_MESSAGES=%q: want a number of at least 100", v)
		}
	}
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open, envOptions{})
			convs := n / 100
			tenth := max(1, convs/10)
			start := time.Now()
			seedExport(b, e, tenth)
			mark := parley.Now().Add(time.Microsecond)
			for !parley.Now().After(mark) {
				time.Sleep(time.Millisecond)
			}
			seedExport(b, e, convs-tenth)
			b.Logf("seeded %d conversations, %d messages in %s", convs, convs*100, time.Since(start).Round(time.Millisecond))
			admin := e.session(e.users["admin"])
			for _, sz := range []struct {
				name  string
				query string
				msgs  int
			}{
				{fmt.Sprintf("messages=%d", tenth*100), "&to=" + mark.Format(time.RFC3339Nano), tenth * 100},
				{fmt.Sprintf("messages=%d", convs*100), "", convs * 100},
			} {
				b.Run(sz.name, func(b *testing.B) {
					var bytes int64
					var peak uint64
					var base uint64
					for b.Loop() {
						runtime.GC()
						base = liveHeap()
						stop := sampleHeap(&peak)
						req, _ := http.NewRequest("GET", e.srv.URL+"/api/exports/conversations?format=csv"+sz.query, nil)
						req.AddCookie(&http.Cookie{Name: "parley_session", Value: admin.cookie})
						res, err := e.client.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						bytes, err = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						stop()
						if err != nil || res.StatusCode != 200 {
							b.Fatalf("export: %d %v", res.StatusCode, err)
						}
					}
					el := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(el*1000, "ms/export")
					b.ReportMetric(float64(sz.msgs)/el, "msgs/s")
					b.ReportMetric(float64(bytes)/(1<<20), "MB-out")
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
					b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "heap-growth-MB")
				})
			}
		})
	}
}

// seedExport stores n conversations of 100 messages each, 8 at a time.
func seedExport(b *testing.B, e *env, n int) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() != nil {
					return
				}
				cust, _ := e.visitor()
				c := &parley.Conversation{Status: parley.StatusClosed, CustomerID: cust.ID, AssigneeID: e.users["agent_assigned"].ID}
				if err := e.store.CreateConversation(ctx, c); err != nil {
					failed.Store(err)
					return
				}
				for j := range 100 {
					m := &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: cust.ID,
						Kind: parley.KindText, Content: "Message " + strconv.Itoa(j) + ": hello, I have a question about my order, could you check it for me please?"}
					if j%2 == 1 {
						m.SenderType, m.SenderID = parley.SenderAgent, e.users["agent_assigned"].ID
					}
					if _, err := e.store.AppendMessage(ctx, m); err != nil {
						failed.Store(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("seeding: %v", err)
	}
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func liveHeap() uint64 {
	s := make([]metrics.Sample, 1)
	copy(s, heapSample)
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap records the peak of the live heap every 2 ms until stopped.
func sampleHeap(peak *uint64) (stop func()) {
	*peak = liveHeap()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if h := liveHeap(); h > *peak {
					*peak = h
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
