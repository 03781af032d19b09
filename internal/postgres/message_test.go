package postgres

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

func TestAppendBumpsConversation(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	agent := mkUser(t, s)
	conv := mkConversation(t, s, agent.ID)

	m1 := text(conv.ID, parley.SenderCustomer, conv.CustomerID, "hello there")
	created, err := s.AppendMessage(ctx, m1)
	must(t, err, "append 1")
	if !created || m1.Seq != 1 || m1.ID == "" || m1.CreatedAt.IsZero() {
		t.Fatalf("append 1: created=%v %+v", created, m1)
	}
	note := &parley.Message{ConversationID: conv.ID, SenderType: parley.SenderAgent, SenderID: agent.ID,
		Kind: parley.KindNote, Content: "private"}
	_, err = s.AppendMessage(ctx, note)
	must(t, err, "append note")
	got, err := s.GetConversation(ctx, conv.ID)
	must(t, err, "GetConversation")
	if got.LastSeq != 2 || got.LastCustomerSeq != 1 || got.LastMessagePreview != "hello there" {
		t.Errorf("after note: last_seq %d, last_customer_seq %d, preview %q", got.LastSeq, got.LastCustomerSeq, got.LastMessagePreview)
	}
	if got.LastMessageAt == nil || !got.LastMessageAt.Equal(note.CreatedAt) {
		t.Errorf("LastMessageAt = %v, want %v", got.LastMessageAt, note.CreatedAt)
	}
	if note.CreatedAt.Before(m1.CreatedAt) {
		t.Errorf("created_at went backwards: %v then %v", m1.CreatedAt, note.CreatedAt)
	}
	stored, err := s.GetMessage(ctx, m1.ID)
	must(t, err, "GetMessage")
	if stored.Seq != 1 || stored.Content != m1.Content || !stored.CreatedAt.Equal(m1.CreatedAt) || stored.SenderID != conv.CustomerID {
		t.Errorf("GetMessage = %+v", stored)
	}
}

func TestAppendUnknownConversation(t *testing.T) {
	s := MustOpen(t)
	_, err := s.AppendMessage(t.Context(), text(parley.NewID(), parley.SenderSystem, "", "hi"))
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage(unknown conversation)")
}

func TestAppendIdempotent(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	conv := mkConversation(t, s, "")
	m := text(conv.ID, parley.SenderCustomer, conv.CustomerID, "once")
	m.ClientMsgID = "c-1"
	created, err := s.AppendMessage(ctx, m)
	must(t, err, "append")
	if !created {
		t.Fatal("first append not created")
	}
	again := text(conv.ID, parley.SenderCustomer, conv.CustomerID, "different text, same key")
	again.ClientMsgID = "c-1"
	created, err = s.AppendMessage(ctx, again)
	must(t, err, "append again")
	if created || again.ID != m.ID || again.Seq != 1 || again.Content != "once" || !again.CreatedAt.Equal(m.CreatedAt) {
		t.Fatalf("second append: created=%v %+v", created, again)
	}
	// The next append gets seq 2: the duplicate burnt no seq.
	next := text(conv.ID, parley.SenderCustomer, conv.CustomerID, "next")
	_, err = s.AppendMessage(ctx, next)
	must(t, err, "append next")
	if next.Seq != 2 {
		t.Errorf("seq after a duplicate = %d, want 2", next.Seq)
	}
	// Another sender may reuse the client id.
	agent := mkUser(t, s)
	other := text(conv.ID, parley.SenderAgent, agent.ID, "agent")
	other.ClientMsgID = "c-1"
	created, err = s.AppendMessage(ctx, other)
	must(t, err, "append by another sender")
	if !created || other.Seq != 3 {
		t.Errorf("another sender's append: created=%v seq=%d", created, other.Seq)
	}
}

// Identical appends racing store exactly one row, and every caller gets it.
func TestAppendRaceIdentical(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	for round := range 10 {
		conv := mkConversation(t, s, "")
		const n = 8
		msgs := make([]*parley.Message, n)
		created := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			msgs[i] = text(conv.ID, parley.SenderCustomer, conv.CustomerID, "race")
			msgs[i].ClientMsgID = fmt.Sprintf("race-%d", round)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				created[i], errs[i] = s.AppendMessage(ctx, msgs[i])
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range n {
			must(t, errs[i], "racing append")
			if created[i] {
				winners++
			}
			if msgs[i].ID != msgs[0].ID || msgs[i].Seq != 1 {
				t.Fatalf("round %d: caller %d got %s seq %d, caller 0 got %s", round, i, msgs[i].ID, msgs[i].Seq, msgs[0].ID)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d appends created, want 1", round, winners)
		}
		ms, err := s.ListMessages(ctx, conv.ID, parley.MessageFilter{})
		must(t, err, "ListMessages")
		got, err := s.GetConversation(ctx, conv.ID)
		must(t, err, "GetConversation")
		if len(ms) != 1 || got.LastSeq != 1 {
			t.Fatalf("round %d: %d messages stored, last_seq %d", round, len(ms), got.LastSeq)
		}
	}
}

// Fifty concurrent appenders to one conversation get seqs 1..50.
func TestAppendConcurrentSeqs(t *testing.T) {
	s := mustOpenOptions(t, Options{MaxConns: 16})
	ctx := t.Context()
	conv := mkConversation(t, s, "")
	const n = 50
	seqs := make([]int64, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := text(conv.ID, parley.SenderCustomer, conv.CustomerID, fmt.Sprintf("m%d", i))
			if _, err := s.AppendMessage(ctx, m); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			seqs[i] = m.Seq
		}()
	}
	wg.Wait()
	must(t, firstErr, "concurrent append")
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i, seq := range seqs {
		if seq != int64(i+1) {
			t.Fatalf("seqs = %v, want 1..%d", seqs, n)
		}
	}
	ms, err := s.ListMessages(ctx, conv.ID, parley.MessageFilter{})
	must(t, err, "ListMessages")
	for i, m := range ms {
		if m.Seq != int64(i+1) {
			t.Fatalf("listed seq %d at %d", m.Seq, i)
		}
		if i > 0 && m.CreatedAt.Before(ms[i-1].CreatedAt) {
			t.Errorf("created_at of seq %d is before seq %d's", m.Seq, ms[i-1].Seq)
		}
	}
	got, err := s.GetConversation(ctx, conv.ID)
	must(t, err, "GetConversation")
	if len(ms) != n || got.LastSeq != n || got.LastCustomerSeq != n {
		t.Errorf("%d messages, last_seq %d, last_customer_seq %d", len(ms), got.LastSeq, got.LastCustomerSeq)
	}
}

func attachment(name string) *parley.Attachment {
	return &parley.Attachment{Key: "k/" + name, URL: "/files/" + name, Type: parley.AttachmentDocument,
		ContentType: "application/pdf", Size: 1234, Name: name, Checksum: hash(name)}
}

func TestAppendAttachments(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	conv := mkConversation(t, s, "")
	m := &parley.Message{ConversationID: conv.ID, SenderType: parley.SenderCustomer, SenderID: conv.CustomerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{attachment("b.pdf"), attachment("a.pdf"), attachment("c.pdf")}}
	_, err := s.AppendMessage(ctx, m)
	must(t, err, "append file")
	got, err := s.GetMessage(ctx, m.ID)
	must(t, err, "GetMessage")
	if len(got.Attachments) != 3 {
		t.Fatalf("%d attachments", len(got.Attachments))
	}
	for i, a := range got.Attachments {
		want := m.Attachments[i]
		if a.ID != want.ID || a.Name != want.Name || a.MessageID != m.ID || a.ConversationID != conv.ID ||
			!a.CreatedAt.Equal(m.CreatedAt) || a.Size != 1234 || a.Checksum != want.Checksum {
			t.Errorf("attachment %d = %+v, want %+v", i, a, want)
		}
	}
	conv2, err := s.GetConversation(ctx, conv.ID)
	must(t, err, "GetConversation")
	if conv2.LastMessagePreview != "b.pdf" {
		t.Errorf("preview %q", conv2.LastMessagePreview)
	}
	a, err := s.GetAttachment(ctx, m.Attachments[1].ID)
	must(t, err, "GetAttachment")
	if a.Name != "a.pdf" {
		t.Errorf("GetAttachment = %+v", a)
	}
	ms, err := s.ListMessages(ctx, conv.ID, parley.MessageFilter{})
	must(t, err, "ListMessages")
	if len(ms) != 1 || len(ms[0].Attachments) != 3 || ms[0].Attachments[2].Name != "c.pdf" {
		t.Errorf("ListMessages = %+v", ms)
	}

	// A duplicate attachment id fails the whole append: no message, no seq.
	dup := &parley.Message{ConversationID: conv.ID, SenderType: parley.SenderCustomer, SenderID: conv.CustomerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{attachment("x.pdf")}}
	dup.Attachments[0].ID = m.Attachments[0].ID
	_, err = s.AppendMessage(ctx, dup)
	wantCode(t, err, parley.ECONFLICT, "append with a reused attachment id")
	conv3, err := s.GetConversation(ctx, conv.ID)
	must(t, err, "GetConversation")
	if conv3.LastSeq != 1 {
		t.Errorf("failed append left last_seq %d", conv3.LastSeq)
	}
}

func TestListMessagesWindows(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	agent := mkUser(t, s)
	conv := mkConversation(t, s, agent.ID)
	for i := 1; i <= 10; i++ {
		m := text(conv.ID, parley.SenderCustomer, conv.CustomerID, fmt.Sprintf("m%d", i))
		if i%3 == 0 {
			m = &parley.Message{ConversationID: conv.ID, SenderType: parley.SenderAgent, SenderID: agent.ID,
				Kind: parley.KindNote, Content: fmt.Sprintf("n%d", i)}
		}
		_, err := s.AppendMessage(ctx, m)
		must(t, err, "append")
	}
	seqs := func(ms []*parley.Message) []int64 {
		var out []int64
		for _, m := range ms {
			out = append(out, m.Seq)
		}
		return out
	}
	for _, c := range []struct {
		f    parley.MessageFilter
		want string
	}{
		{parley.MessageFilter{}, "[1 2 3 4 5 6 7 8 9 10]"},
		{parley.MessageFilter{AfterSeq: 7}, "[8 9 10]"},
		{parley.MessageFilter{AfterSeq: 2, Limit: 3}, "[3 4 5]"},
		{parley.MessageFilter{BeforeSeq: 9, Limit: 3}, "[6 7 8]"},
		{parley.MessageFilter{BeforeSeq: 9, Limit: 3, ExcludeNotes: true}, "[5 7 8]"},
		{parley.MessageFilter{ExcludeNotes: true}, "[1 2 4 5 7 8 10]"},
	} {
		ms, err := s.ListMessages(ctx, conv.ID, c.f)
		must(t, err, "ListMessages")
		if got := fmt.Sprint(seqs(ms)); got != c.want {
			t.Errorf("ListMessages(%+v) = %s, want %s", c.f, got, c.want)
		}
	}
	for _, limit := range []int{-1, parley.MaxMessagePage + 1} {
		_, err := s.ListMessages(ctx, conv.ID, parley.MessageFilter{Limit: limit})
		wantCode(t, err, parley.EINVALID, fmt.Sprintf("ListMessages(limit %d)", limit))
	}
}

// BenchmarkAppendParallel appends from many writers at once across 1,000
// conversations, the shape of a busy desk, and reports messages per second
// with the server's synchronous_commit setting.
func BenchmarkAppendParallel(b *testing.B) {
	for _, writers := range []int{16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := mustOpenOptions(b, Options{MaxConns: int32(writers)})
			ctx := b.Context()
			var syncCommit string
			if err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&syncCommit); err != nil {
				b.Fatal(err)
			}
			const n = 10_000
			convs := seedConversations(b, s, n)
			var next atomic.Int64
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((writers + procs - 1) / procs)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c := convs[next.Add(1)%n]
					m := text(c.ID, parley.SenderCustomer, c.CustomerID, "Hello, I need help with my order")
					if _, err := s.AppendMessage(ctx, m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.Logf("synchronous_commit=%s writers=%d appended %d in %s", syncCommit, writers, b.N, elapsed.Round(time.Millisecond))
		})
	}
}

// seedConversations creates n waiting conversations, each of its own
// customer, in two statements.
func seedConversations(tb testing.TB, s *Store, n int) []*parley.Conversation {
	tb.Helper()
	ctx := context.Background()
	_, err := s.pool.Exec(ctx, `WITH cu AS (
			INSERT INTO customers (id, token_hash, first_seen, last_seen)
			SELECT gen_random_uuid(), encode(sha256(('seed' || i)::bytea), 'hex'), now(), now()
			FROM generate_series(1, $1) i RETURNING id
		)
		INSERT INTO conversations (id, status, customer_id, created_at, updated_at, activity_at)
		SELECT gen_random_uuid(), 'waiting', id, now(), now(), now() FROM cu`, n)
	if err != nil {
		tb.Fatalf("seed conversations: %v", err)
	}
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		tb.Fatalf("vacuum: %v", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversationColumns+` FROM conversations`)
	if err != nil {
		tb.Fatal(err)
	}
	convs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.Conversation, error) { return scanConversation(r) })
	if err != nil {
		tb.Fatal(err)
	}
	return convs
}
