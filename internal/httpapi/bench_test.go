package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// BenchmarkSeedSend measures POST /api/messages/send on SQLite over
// loopback with 50 concurrent keep-alive clients, each a visitor writing to
// their own conversation. Reports req/s.
func BenchmarkSeedSend(b *testing.B) {
	e := newEnv(b, openSQLite, envOptions{})
	const clients = 50
	type visitor struct {
		token string
		body  []byte
	}
	vs := make([]visitor, clients)
	for i := range vs {
		cust, c := e.visitor()
		conv := e.conversation(cust, parley.StatusWaiting, "")
		body, _ := json.Marshal(map[string]string{"conversationId": conv.ID, "senderType": "customer",
			"message": "Hello, I have a question about my order.", "timestamp": "2025-01-02T03:04:05Z"})
		vs[i] = visitor{token: c.bearer, body: body}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 200, MaxIdleConnsPerHost: 200}}
	url := e.srv.URL + "/api/messages/send"
	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism((clients + 1) / max(1, runtimeProcs()))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		v := vs[int(next.Add(1)-1)%clients]
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(v.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+v.token)
			res, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				continue
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				failed.Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// BenchmarkSeedInbox measures GET /api/conversations/list?adminId=... on
// SQLite with PARLEY_BENCH_CONVERSATIONS conversations (default 100,000),
// one request at a time, as a senior agent (who sees every conversation,
// so totals count all of them) and as an agent (waiting ones and their own).
// Reports the p50 and p99 latency in milliseconds.
func BenchmarkSeedInbox(b *testing.B) {
	n := 100_000
	if s := os.Getenv("PARLEY_BENCH_CONVERSATIONS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	e := newEnv(b, openSQLite, envOptions{})
	ctx := context.Background()
	agents := []*parley.User{e.users["agent_assigned"], e.users["agent_unassigned"], e.users["agent_c"]}
	statuses := []parley.Status{parley.StatusWaiting, parley.StatusActive, parley.StatusClosed}
	seedStart := time.Now()
	for i := range n {
		c := &parley.Customer{TokenHash: fmt.Sprintf("%064x", i+1), Name: "Visitor"}
		if err := e.store.CreateCustomer(ctx, c); err != nil {
			b.Fatal(err)
		}
		st := statuses[i%3]
		conv := &parley.Conversation{Status: st, CustomerID: c.ID}
		if st != parley.StatusWaiting {
			conv.AssigneeID = agents[(i/3)%len(agents)].ID
		}
		if err := e.store.CreateConversation(ctx, conv); err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 {
			m := &parley.Message{ConversationID: conv.ID, SenderID: c.ID, SenderType: parley.SenderCustomer, Kind: parley.KindText, Content: "hi"}
			if _, err := e.store.AppendMessage(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("seeded %d conversations in %s", n, time.Since(seedStart).Round(time.Millisecond))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, who := range []string{"senior_agent", "agent_assigned"} {
		b.Run(who, func(b *testing.B) {
			c := e.session(e.users[who])
			url := e.srv.URL + "/api/conversations/list?adminId=" + e.users[who].ID + "&limit=50"
			// The listing must really cover the seeded conversations.
			r := e.do("GET", "/api/conversations/list?adminId="+e.users[who].ID+"&limit=50", c, nil)
			var page struct {
				Conversations []json.RawMessage
				TotalCount    int
			}
			r.json(b, &page)
			wantTotal := n
			if who != "senior_agent" {
				wantTotal = n/3 + 2*n/9 // waiting ones, and a third of the active and closed ones
			}
			if len(page.Conversations) != 50 || page.TotalCount < wantTotal-2 || page.TotalCount > wantTotal+2 {
				b.Fatalf("%s sees %d of %d conversations, want about %d", who, len(page.Conversations), page.TotalCount, wantTotal)
			}
			b.Logf("%s: totalCount %d", who, page.TotalCount)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				req, _ := http.NewRequest("GET", url, nil)
				req.AddCookie(&http.Cookie{Name: "parley_session", Value: c.cookie})
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat = append(lat, time.Since(t0))
				if res.StatusCode != 200 {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
