package storetest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// Benchmark sizes, from the environment so CI can run them small.
const (
	envConversations       = "PARLEY_BENCH_CONVERSATIONS"        // InboxPage: conversations seeded
	envMessages            = "PARLEY_BENCH_MESSAGES"             // InboxPage: messages seeded
	envAppendConversations = "PARLEY_BENCH_APPEND_CONVERSATIONS" // AppendParallel: conversations written to
	envResumeMessages      = "PARLEY_BENCH_RESUME_MESSAGES"      // ListMessagesAfter: timeline length
	envWriters             = "PARLEY_BENCH_WRITERS"              // goroutines writing at once
)

func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		tb.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// RunBenchmarks measures the hot paths of a store: appending under
// contention, inbox pages over a large data set, and resuming a timeline.
// open must return a fresh, migrated, empty store.
func RunBenchmarks(b *testing.B, open func(tb testing.TB) parley.Store) {
	// Each benchmark opens its store in a parent that only holds
	// sub-benchmarks: Go runs such a parent once, so seeding happens once
	// while the measured children are rerun with growing b.N.
	b.Run("AppendParallel", func(b *testing.B) { benchAppendParallel(b, open(b)) })
	b.Run("InboxPage", func(b *testing.B) { benchInboxPage(b, open(b)) })
	b.Run("ListMessagesAfter", func(b *testing.B) { benchListMessagesAfter(b, open(b)) })
}

// Settler is implemented by a store whose database needs upkeep after a
// bulk load before its query plans mean anything: PostgreSQL's statistics
// and visibility map, which autovacuum keeps up on a running server, and
// which a benchmark that has just written a million rows must refresh
// itself (the more so where autovacuum is off).
type Settler interface {
	SettleForBenchmark(ctx context.Context) error
}

// settle runs s's upkeep after seeding, when it has any.
func settle(b *testing.B, s parley.Store) {
	st, ok := s.(Settler)
	if !ok {
		return
	}
	start := time.Now()
	if err := st.SettleForBenchmark(b.Context()); err != nil {
		b.Fatalf("settling after seeding: %v", err)
	}
	b.Logf("settled after seeding in %s", time.Since(start).Round(time.Millisecond))
}

// seeded ends a benchmark's seeding of s: it logs what was written since
// start, settles the store, and returns the log line (the parent
// benchmark's log is only shown with -v, so a measured child repeats it).
func seeded(b *testing.B, s parley.Store, start time.Time, convs int, msgs int64, writers int) string {
	el := time.Since(start)
	line := fmt.Sprintf("seeded %d conversations and %d messages with %d writers in %s (%.0f messages/s)",
		convs, msgs, writers, el.Round(time.Millisecond), float64(msgs)/el.Seconds())
	b.Log(line)
	settle(b, s)
	return line
}

// seededStores caches what was written into a store, so a benchmark that is
// entered again with the same store does not write it again.
var seededStores sync.Map // parley.Store -> *seedOnce

type seedOnce struct {
	once sync.Once
	data any
}

func seedStore[T any](s parley.Store, seed func() T) T {
	v, _ := seededStores.LoadOrStore(s, new(seedOnce))
	so := v.(*seedOnce)
	so.once.Do(func() { so.data = seed() })
	return so.data.(T)
}

// parallel runs work(i) for i in [0, n) on writers goroutines and returns
// the first error.
func parallel(ctx context.Context, n, writers int, work func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, writers) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := work(ctx, i); err != nil {
					cancel(fmt.Errorf("item %d: %w", i, err))
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func createConversations(ctx context.Context, s parley.Store, n, writers int, status func(i int) (parley.Status, string)) ([]*parley.Conversation, error) {
	convs := make([]*parley.Conversation, n)
	err := parallel(ctx, n, writers, func(ctx context.Context, i int) error {
		cu := newCustomer()
		if err := s.CreateCustomer(ctx, cu); err != nil {
			return err
		}
		st, assignee := status(i)
		c := &parley.Conversation{Status: st, CustomerID: cu.ID, AssigneeID: assignee, CustomerIP: cu.IP}
		if err := s.CreateConversation(ctx, c); err != nil {
			return err
		}
		convs[i] = c
		return nil
	})
	return convs, err
}

func benchAppendParallel(b *testing.B, s parley.Store) {
	n := max(1, envInt(b, envAppendConversations, 1000))
	writers := envInt(b, envWriters, 32)
	convs := seedStore(s, func() []*parley.Conversation {
		convs, err := createConversations(b.Context(), s, n, writers, func(int) (parley.Status, string) { return parley.StatusWaiting, "" })
		if err != nil {
			b.Fatalf("seeding: %v", err)
		}
		return convs
	})
	// Shared by every round so client ids never repeat on the reused store.
	var next atomic.Int64
	b.Run(fmt.Sprintf("conversations=%d", n), func(b *testing.B) {
		ctx := b.Context()
		// SetParallelism multiplies GOMAXPROCS; round up to reach the writers.
		b.SetParallelism(max(1, (writers+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				c := convs[int(i)%len(convs)]
				m := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "benchmark message")
				m.ClientMsgID = "b" + strconv.FormatInt(i, 10)
				if _, err := s.AppendMessage(ctx, m); err != nil {
					b.Errorf("AppendMessage: %v", err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// inboxData is the large data set InboxPage reads.
type inboxData struct {
	agents []*parley.User
	convs  int
	msgs   int
	// seeding describes how the data was written. The parent benchmark's
	// log is only shown with -v, so the first measured child logs it.
	seeding string
	logged  sync.Once
}

func seedInbox(b *testing.B, s parley.Store) *inboxData {
	ctx := b.Context()
	nConv := max(1, envInt(b, envConversations, 100000))
	nMsg := envInt(b, envMessages, 1000000)
	writers := envInt(b, envWriters, 32)
	start := time.Now()
	d := &inboxData{convs: nConv, msgs: nMsg}
	for range 5 {
		u := newUser(parley.RoleAgent)
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatalf("seeding agents: %v", err)
		}
		d.agents = append(d.agents, u)
	}
	var written atomic.Int64
	err := parallel(ctx, nConv, writers, func(ctx context.Context, i int) error {
		// 30% waiting and unassigned, 50% active, 20% closed, spread over
		// the agents.
		status, assignee := parley.StatusWaiting, ""
		switch r := i % 10; {
		case r >= 8:
			status, assignee = parley.StatusClosed, d.agents[i%len(d.agents)].ID
		case r >= 3:
			status, assignee = parley.StatusActive, d.agents[i%len(d.agents)].ID
		}
		cu := newCustomer()
		if err := s.CreateCustomer(ctx, cu); err != nil {
			return err
		}
		c := &parley.Conversation{Status: status, CustomerID: cu.ID, AssigneeID: assignee, CustomerIP: cu.IP}
		if err := s.CreateConversation(ctx, c); err != nil {
			return err
		}
		count := nMsg / nConv
		if i < nMsg%nConv {
			count++
		}
		agent := assignee
		if agent == "" {
			agent = d.agents[0].ID
		}
		for j := range count {
			m := textMessage(c.ID, parley.SenderCustomer, cu.ID, "Hello, I have a question about order "+strconv.Itoa(i))
			if j%2 == 1 {
				m = textMessage(c.ID, parley.SenderAgent, agent, "Thanks for waiting, let me check that for you.")
			}
			m.ClientMsgID = strconv.Itoa(j)
			if _, err := s.AppendMessage(ctx, m); err != nil {
				return err
			}
			written.Add(1)
		}
		// The assignee has read half, so unread counts are not all zero.
		if assignee != "" && count > 0 {
			if _, err := s.MarkRead(ctx, c.ID, assignee, parley.ParticipantAgent, int64(count/2)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seeding: %v", err)
	}
	d.seeding = seeded(b, s, start, nConv, written.Load(), writers)
	return d
}

func benchInboxPage(b *testing.B, s parley.Store) {
	d := seedStore(s, func() *inboxData { return seedInbox(b, s) })
	agent := d.agents[0].ID
	first, err := s.ListConversations(b.Context(), parley.InboxFilter{Limit: 50})
	if err != nil {
		b.Fatalf("ListConversations: %v", err)
	}
	// want is the page size when the data set determines it exactly (-1
	// when it depends on how statuses fell).
	shapes := []struct {
		name string
		f    parley.InboxFilter
		want int
	}{
		{"all", parley.InboxFilter{Limit: 50}, min(50, d.convs)},
		{"status=waiting", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting}, Limit: 50}, -1},
		{"assignee", parley.InboxFilter{AssigneeID: agent, Viewer: agent, Limit: 50}, -1},
		{"waitingOrAssignedTo", parley.InboxFilter{WaitingOrAssignedTo: agent, Viewer: agent, Limit: 50}, -1},
		{"page2", parley.InboxFilter{Limit: 50, Cursor: first.NextCursor}, min(50, max(0, d.convs-50))},
	}
	for _, sh := range shapes {
		if sh.name == "page2" && first.NextCursor == "" {
			continue
		}
		b.Run(sh.name, func(b *testing.B) {
			d.logged.Do(func() { b.Log(d.seeding) })
			ctx := b.Context()
			var page *parley.InboxPage
			var err error
			b.ReportAllocs()
			for b.Loop() {
				page, err = s.ListConversations(ctx, sh.f)
				if err != nil {
					b.Fatalf("ListConversations: %v", err)
				}
			}
			if sh.want >= 0 && len(page.Entries) != sh.want {
				b.Fatalf("page of %d rows, want %d", len(page.Entries), sh.want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/page")
		})
	}
}

func benchListMessagesAfter(b *testing.B, s parley.Store) {
	n := max(100, envInt(b, envResumeMessages, 5000))
	writers := envInt(b, envWriters, 32)
	c := seedStore(s, func() *parley.Conversation {
		convs, err := createConversations(b.Context(), s, 1, 1, func(int) (parley.Status, string) { return parley.StatusWaiting, "" })
		if err != nil {
			b.Fatalf("seeding: %v", err)
		}
		c := convs[0]
		err = parallel(b.Context(), n, writers, func(ctx context.Context, i int) error {
			_, err := s.AppendMessage(ctx, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "message "+strconv.Itoa(i)))
			return err
		})
		if err != nil {
			b.Fatalf("seeding: %v", err)
		}
		return c
	})
	for _, sh := range []struct {
		name string
		f    parley.MessageFilter
		want int
	}{
		{"tail=50", parley.MessageFilter{AfterSeq: int64(n - 50)}, 50},
		{"page=500", parley.MessageFilter{AfterSeq: int64(n / 2), Limit: 500}, min(500, n-n/2)},
		{"before=50", parley.MessageFilter{BeforeSeq: int64(n/2 + 1), Limit: 50}, 50},
	} {
		b.Run(sh.name, func(b *testing.B) {
			ctx := b.Context()
			var got []*parley.Message
			var err error
			b.ReportAllocs()
			for b.Loop() {
				got, err = s.ListMessages(ctx, c.ID, sh.f)
				if err != nil {
					b.Fatalf("ListMessages: %v", err)
				}
			}
			if len(got) != sh.want {
				b.Fatalf("ListMessages returned %d, want %d", len(got), sh.want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/page")
		})
	}
}
