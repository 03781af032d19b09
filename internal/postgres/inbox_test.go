package postgres

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// seedInbox fills an empty store in SQL, fast: agents, one customer and one
// conversation per n (10% waiting and unassigned, 20% active, the rest
// closed), msgs messages each alternating customer and agent, and read marks
// of the assignee on two thirds of the assigned conversations. It returns
// an agent id with conversations assigned and a customer id.
func seedInbox(tb testing.TB, s *Store, agents, n, msgs int) (agent, customer string) {
	tb.Helper()
	ctx := context.Background()
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (id, email, name, password_hash, role, availability, created_at, updated_at)
			SELECT gen_random_uuid(), 'agent' || i || '@example.com', 'Agent ' || i, 'x', 'agent', 'online', now(), now()
			FROM generate_series(1, $1) i`, []any{agents}},
		{`INSERT INTO customers (id, token_hash, name, first_seen, last_seen)
			SELECT gen_random_uuid(), encode(sha256(i::text::bytea), 'hex'), 'Customer ' || i,
				now() - i * interval '1 second', now()
			FROM generate_series(1, $1) i`, []any{n}},
		{`WITH a AS (SELECT array_agg(id ORDER BY email) AS ids FROM users),
			cu AS (SELECT id, row_number() OVER (ORDER BY first_seen DESC) AS i FROM customers),
			x AS (
				SELECT cu.id AS customer_id, cu.i,
					CASE WHEN cu.i % 10 = 0 THEN 'waiting' WHEN cu.i % 10 IN (1, 2) THEN 'active' ELSE 'closed' END AS status,
					now() - random() * interval '30 days' AS at
				FROM cu
			)
			INSERT INTO conversations (id, status, customer_id, assignee_id, created_at, updated_at, closed_at,
				last_message_at, activity_at, last_seq, last_customer_seq, last_message_preview)
			SELECT gen_random_uuid(), x.status, x.customer_id,
				CASE WHEN x.status = 'waiting' OR x.i % 7 = 0 THEN NULL ELSE a.ids[1 + x.i % cardinality(a.ids)] END,
				x.at - interval '1 hour', x.at, CASE WHEN x.status = 'closed' THEN x.at END,
				CASE WHEN $1 > 0 THEN x.at END, x.at, $1, 0, 'last words'
			FROM x, a`, []any{msgs}},
		{`UPDATE conversations SET last_customer_seq =
			CASE WHEN assignee_id IS NULL OR last_seq % 2 = 1 THEN last_seq ELSE last_seq - 1 END`, nil},
		{`INSERT INTO messages (id, conversation_id, seq, sender_id, sender_type, kind, content, created_at)
			SELECT gen_random_uuid(), c.id, g.seq,
				CASE WHEN g.seq % 2 = 1 OR c.assignee_id IS NULL THEN c.customer_id ELSE c.assignee_id END,
				CASE WHEN g.seq % 2 = 1 OR c.assignee_id IS NULL THEN 'customer' ELSE 'agent' END,
				'text', 'message ' || g.seq, c.activity_at - (c.last_seq - g.seq) * interval '1 second'
			FROM conversations c, generate_series(1, $1) AS g(seq)`, []any{msgs}},
		{`INSERT INTO participants (conversation_id, user_id, user_type, joined_at, last_seen_at, last_read_seq)
			SELECT id, assignee_id, 'agent', created_at, activity_at, greatest(last_seq - 1, 0)
			FROM conversations WHERE assignee_id IS NOT NULL AND ('x' || substr(id::text, 1, 8))::bit(32)::int % 3 <> 0`, nil},
	}
	for _, st := range steps {
		if _, err := s.pool.Exec(ctx, st.sql, st.args...); err != nil {
			tb.Fatalf("seed: %v\n%s", err, st.sql)
		}
	}
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		tb.Fatalf("vacuum analyze: %v", err)
	}
	err := s.pool.QueryRow(ctx, `SELECT assignee_id, customer_id FROM conversations
		WHERE assignee_id IS NOT NULL ORDER BY activity_at DESC LIMIT 1`).Scan(&agent, &customer)
	if err != nil {
		tb.Fatalf("seed: pick agent: %v", err)
	}
	return agent, customer
}

// inboxShapes are the filter shapes the inbox uses, for plans and timings.
func inboxShapes(agent, customer string) []struct {
	name string
	f    parley.InboxFilter
} {
	return []struct {
		name string
		f    parley.InboxFilter
	}{
		{"all", parley.InboxFilter{Viewer: agent}},
		{"status", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting}, Viewer: agent}},
		{"statuses", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting, parley.StatusActive}, Viewer: agent}},
		{"assignee", parley.InboxFilter{AssigneeID: agent, Viewer: agent}},
		{"unassigned", parley.InboxFilter{Unassigned: true, Viewer: agent}},
		{"waiting_or_mine", parley.InboxFilter{WaitingOrAssignedTo: agent, Viewer: agent}},
		{"customer", parley.InboxFilter{CustomerID: customer, Viewer: agent}},
		{"no_viewer", parley.InboxFilter{}},
	}
}

func explain(tb testing.TB, s *Store, sql string, args []any) string {
	tb.Helper()
	rows, err := s.pool.Query(context.Background(), "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		tb.Fatalf("explain: %v", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatalf("explain: %v", err)
	}
	return strings.Join(lines, "\n")
}

// Every filter shape pages along an index of conversations, first page and
// later pages alike, never by scanning the table, and no shape's totals scan
// conversations or read marks.
func TestInboxQueryPlans(t *testing.T) {
	s := MustOpen(t)
	agent, customer := seedInbox(t, s, 20, 4000, 3)
	for _, sh := range inboxShapes(agent, customer) {
		page, err := s.ListConversations(t.Context(), sh.f)
		must(t, err, sh.name)
		cursors := []string{""}
		if page.NextCursor != "" {
			cursors = append(cursors, page.NextCursor)
		}
		for i, cur := range cursors {
			f := sh.f
			f.Cursor = cur
			st, err := inboxSQL(f)
			must(t, err, sh.name)
			plan := explain(t, s, st.page, st.pageArgs)
			t.Logf("%s, page %d:\n%s", sh.name, i+1, plan)
			if strings.Contains(plan, "Seq Scan on conversations") {
				t.Errorf("%s, page %d: the page query scans conversations sequentially", sh.name, i+1)
			}
			if !strings.Contains(plan, "using conversations_") && !strings.Contains(plan, "Index Scan on conversations_") {
				t.Errorf("%s, page %d: the page query uses no index of conversations", sh.name, i+1)
			}
		}
		st, err := inboxSQL(sh.f)
		must(t, err, sh.name)
		plan := explain(t, s, st.totals, st.totalsArgs)
		t.Logf("%s, totals:\n%s", sh.name, plan)
		// The totals sum the counters' buckets; only a customer's few
		// conversations are counted, by index.
		if strings.Contains(plan, "Seq Scan on conversations") || strings.Contains(plan, "Seq Scan on participants") {
			t.Errorf("%s: the totals scan conversations or read marks", sh.name)
		}
	}
}

// ListConversations against a brute-force reading of the same data.
func TestInboxAgainstBruteForce(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	agent, customer := seedInbox(t, s, 5, 300, 4)
	for _, sh := range inboxShapes(agent, customer) {
		f := sh.f
		f.Limit = 7
		var got []parley.InboxEntry
		var total, unreadConvs int
		for pages := 0; ; pages++ {
			page, err := s.ListConversations(ctx, f)
			must(t, err, sh.name)
			if pages == 0 {
				total, unreadConvs = page.Total, page.UnreadConversations
			}
			got = append(got, page.Entries...)
			if page.NextCursor == "" {
				break
			}
			if len(page.Entries) != 7 {
				t.Fatalf("%s: a middle page has %d entries", sh.name, len(page.Entries))
			}
			f.Cursor = page.NextCursor
		}
		want := bruteInbox(t, s, sh.f)
		if total != len(want) {
			t.Errorf("%s: Total %d, want %d", sh.name, total, len(want))
		}
		wantUnread := 0
		for _, e := range want {
			if e.unread > 0 {
				wantUnread++
			}
		}
		if unreadConvs != wantUnread {
			t.Errorf("%s: UnreadConversations %d, want %d", sh.name, unreadConvs, wantUnread)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: paged %d entries, want %d", sh.name, len(got), len(want))
		}
		for i := range got {
			if got[i].Conversation.ID != want[i].id || got[i].Unread != want[i].unread {
				t.Fatalf("%s: entry %d is %s unread %d, want %s unread %d", sh.name, i,
					got[i].Conversation.ID, got[i].Unread, want[i].id, want[i].unread)
			}
		}
		if len(want) == 0 && sh.name != "customer" {
			t.Errorf("%s: the seed selects nothing; the test proves little", sh.name)
		}
	}
	_, err := s.ListConversations(ctx, parley.InboxFilter{Cursor: "garbage"})
	wantCode(t, err, parley.EINVALID, "bad cursor")
	_, err = s.ListConversations(ctx, parley.InboxFilter{Statuses: []parley.Status{"open"}})
	wantCode(t, err, parley.EINVALID, "bad status")
	_, err = s.ListConversations(ctx, parley.InboxFilter{Limit: parley.MaxPageSize + 1})
	wantCode(t, err, parley.EINVALID, "bad limit")
}

type bruteEntry struct {
	id     string
	unread int
}

// bruteInbox computes the inbox the slow, obvious way: every conversation
// and message read into Go, filtered, counted and sorted there.
func bruteInbox(t *testing.T, s *Store, f parley.InboxFilter) []bruteEntry {
	t.Helper()
	ctx := t.Context()
	type conv struct {
		id, status, customer, assignee string
		at                             time.Time
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text, status, customer_id::text, coalesce(assignee_id::text, ''),
		coalesce(last_message_at, created_at) FROM conversations`)
	must(t, err, "brute conversations")
	convs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (conv, error) {
		var c conv
		err := r.Scan(&c.id, &c.status, &c.customer, &c.assignee, &c.at)
		return c, err
	})
	must(t, err, "brute conversations")
	read := map[string]int64{}
	rows, err = s.pool.Query(ctx, `SELECT conversation_id::text, user_id::text, last_read_seq FROM participants WHERE user_type = 'agent'`)
	must(t, err, "brute participants")
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (int, error) {
		var cid, uid string
		var seq int64
		err := r.Scan(&cid, &uid, &seq)
		if uid == f.Viewer {
			read[cid] = seq
		}
		return 0, err
	})
	must(t, err, "brute participants")
	customerSeqs := map[string][]int64{}
	rows, err = s.pool.Query(ctx, `SELECT conversation_id::text, seq FROM messages WHERE sender_type = 'customer'`)
	must(t, err, "brute messages")
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (int, error) {
		var cid string
		var seq int64
		err := r.Scan(&cid, &seq)
		customerSeqs[cid] = append(customerSeqs[cid], seq)
		return 0, err
	})
	must(t, err, "brute messages")

	var sel []conv
	for _, c := range convs {
		if len(f.Statuses) > 0 {
			ok := false
			for _, st := range f.Statuses {
				ok = ok || string(st) == c.status
			}
			if !ok {
				continue
			}
		}
		if f.AssigneeID != "" && c.assignee != f.AssigneeID ||
			f.Unassigned && c.assignee != "" ||
			f.CustomerID != "" && c.customer != f.CustomerID ||
			f.WaitingOrAssignedTo != "" && c.status != "waiting" && c.assignee != f.WaitingOrAssignedTo {
			continue
		}
		sel = append(sel, c)
	}
	// Newest activity first, ties by id descending.
	for i := 1; i < len(sel); i++ {
		for j := i; j > 0; j-- {
			a, b := sel[j-1], sel[j]
			if a.at.After(b.at) || a.at.Equal(b.at) && a.id > b.id {
				break
			}
			sel[j-1], sel[j] = b, a
		}
	}
	out := make([]bruteEntry, len(sel))
	for i, c := range sel {
		n := 0
		for _, seq := range customerSeqs[c.id] {
			if seq > read[c.id] {
				n++
			}
		}
		out[i] = bruteEntry{id: c.id, unread: n}
	}
	return out
}

// BenchmarkInboxLarge times one 50-row inbox page (with unread counts and
// totals) per filter shape on 100,000 conversations and 1,000,000 messages.
// Seeding takes a minute or so.
func BenchmarkInboxLarge(b *testing.B) {
	s := MustOpen(b)
	start := time.Now()
	agent, customer := seedInbox(b, s, 50, 100_000, 10)
	b.Logf("seeded 100,000 conversations and 1,000,000 messages in %s", time.Since(start).Round(time.Second))
	for _, sh := range inboxShapes(agent, customer) {
		b.Run(sh.name, func(b *testing.B) {
			ctx := context.Background()
			var total int
			for b.Loop() {
				page, err := s.ListConversations(ctx, sh.f)
				if err != nil {
					b.Fatal(err)
				}
				total = page.Total
			}
			b.ReportMetric(float64(total), "total")
		})
		b.Run(sh.name+"/page2", func(b *testing.B) {
			ctx := context.Background()
			first, err := s.ListConversations(ctx, sh.f)
			if err != nil {
				b.Fatal(err)
			}
			f := sh.f
			f.Cursor = first.NextCursor
			for b.Loop() {
				if _, err := s.ListConversations(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestInboxFoldWhileWriting folds the inbox deltas over and over while
// conversations change (messages, read marks, status, assignee, deletions)
// from several goroutines, then checks every shape's totals against the
// brute-force count, and that a last fold leaves one row per bucket.
func TestInboxFoldWhileWriting(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	agent, customer := seedInbox(t, s, 5, 300, 4)
	var agents, convs []string
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM users ORDER BY email`)
	must(t, err, "agents")
	agents, err = pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err, "agents")
	rows, err = s.pool.Query(ctx, `SELECT id::text FROM conversations ORDER BY id`)
	must(t, err, "conversations")
	convs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err, "conversations")

	stop := make(chan struct{})
	folded := make(chan int)
	go func() {
		n := 0
		defer func() { folded <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.foldInboxDeltas(context.Background(), 0); err != nil {
				t.Errorf("fold: %v", err)
				return
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 150 {
				c := convs[r.IntN(len(convs))]
				a := agents[r.IntN(len(agents))]
				var err error
				switch op := r.IntN(10); {
				case op < 4:
					cur, gerr := s.GetConversation(ctx, c)
					if gerr != nil {
						continue // deleted meanwhile
					}
					_, err = s.AppendMessage(ctx, &parley.Message{ConversationID: c, SenderType: parley.SenderCustomer,
						SenderID: cur.CustomerID, Kind: parley.KindText, Content: "more"})
				case op < 7:
					_, err = s.MarkRead(ctx, c, a, parley.ParticipantAgent, int64(r.IntN(8)))
				case op < 8:
					st := []parley.Status{parley.StatusWaiting, parley.StatusActive, parley.StatusClosed}[r.IntN(3)]
					_, err = s.UpdateConversation(ctx, c, parley.ConversationUpdate{Status: &st})
				case op < 9:
					_, err = s.UpdateConversation(ctx, c, parley.ConversationUpdate{AssigneeID: &a})
				case i%50 == 0:
					err = s.DeleteConversation(ctx, c)
				}
				if err != nil && !parley.IsCode(err, parley.ENOTFOUND) && !parley.IsCode(err, parley.ECONFLICT) {
					t.Errorf("change %d of writer %d: %v", i, w, err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if n := <-folded; n == 0 {
		t.Fatal("no fold ran while writing")
	}
	check := func(when string) {
		t.Helper()
		for _, sh := range inboxShapes(agent, customer) {
			page, err := s.ListConversations(ctx, sh.f)
			must(t, err, sh.name)
			want := bruteInbox(t, s, sh.f)
			unread := 0
			for _, e := range want {
				if e.unread > 0 {
					unread++
				}
			}
			if page.Total != len(want) || page.UnreadConversations != unread {
				t.Errorf("%s, %s: Total %d, UnreadConversations %d; want %d, %d", when, sh.name,
					page.Total, page.UnreadConversations, len(want), unread)
			}
		}
	}
	check("after the writes")
	_, err = s.foldInboxDeltas(ctx, 0)
	must(t, err, "last fold")
	check("after the last fold")
	for _, q := range []string{
		`SELECT count(*) - count(DISTINCT (status, assignee_id)) FROM inbox_count_deltas`,
		`SELECT count(*) - count(DISTINCT (user_id, status, assignee_id)) FROM inbox_read_deltas`,
	} {
		if n := count(t, s, q); n != 0 {
			t.Errorf("%d rows more than buckets after a fold: %s", n, q)
		}
	}
}
