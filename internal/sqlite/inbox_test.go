package sqlite

import (
	"database/sql"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// seedInbox writes n conversations (30% waiting and unassigned, 50% active
// and 20% closed spread over agents), a few messages each and the agents'
// read marks, straight into the tables in one transaction.
func seedInbox(t testing.TB, s *Store, n int, agents []*parley.User) {
	t.Helper()
	ctx := t.Context()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	prep := func(q string) *sql.Stmt {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	insCustomer := prep(`INSERT INTO customers (id, token_hash, first_seen, last_seen) VALUES (?, ?, ?, ?)`)
	insConv := prep(`INSERT INTO conversations (id, status, customer_id, assignee_id, created_at, updated_at,
		last_message_at, activity_at, last_seq, last_customer_seq, last_message_preview)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'hello')`)
	insMsg := prep(`INSERT INTO messages (id, conversation_id, seq, sender_id, sender_type, kind, content, created_at)
		VALUES (?, ?, ?, ?, ?, 'text', 'hello', ?)`)
	insPart := prep(`INSERT INTO participants (conversation_id, user_id, user_type, joined_at, last_seen_at, last_read_seq)
		VALUES (?, ?, 'agent', ?, ?, ?)`)
	base := parley.Now().Add(-1000000 * 1e6).UnixMicro()
	for i := range n {
		cu, id := parley.NewID(), parley.NewID()
		at := base + int64(i)*1000
		if _, err := insCustomer.ExecContext(ctx, cu, cu+cu[:28], at, at); err != nil {
			t.Fatal(err)
		}
		status, assignee := "waiting", any(nil)
		switch r := i % 10; {
		case r >= 8:
			status, assignee = "closed", agents[i%len(agents)].ID
		case r >= 3:
			status, assignee = "active", agents[i%len(agents)].ID
		}
		const msgs = 4
		if _, err := insConv.ExecContext(ctx, id, status, cu, assignee, at, at, at+msgs, at+msgs, msgs, msgs-1); err != nil {
			t.Fatal(err)
		}
		for sq := 1; sq <= msgs; sq++ {
			sender, st := cu, "customer"
			if sq%2 == 0 && assignee != nil {
				sender, st = assignee.(string), "agent"
			}
			if _, err := insMsg.ExecContext(ctx, parley.NewID(), id, sq, sender, st, at+int64(sq)); err != nil {
				t.Fatal(err)
			}
		}
		if assignee != nil {
			if _, err := insPart.ExecContext(ctx, id, assignee, at, at, 2); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
}

// TestInboxQueryPlans checks that every filter shape pages along an index:
// no plan step scans the conversations table, and no branch sorts it.
func TestInboxQueryPlans(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	var agents []*parley.User
	for range 5 {
		agents = append(agents, mustUser(t, s))
	}
	seedInbox(t, s, 4000, agents)
	checkInboxCounts(t, s)

	var customer string
	if err := s.reader.QueryRowContext(ctx, "SELECT customer_id FROM conversations LIMIT 1").Scan(&customer); err != nil {
		t.Fatal(err)
	}
	agent := agents[0].ID
	shapes := []struct {
		name string
		f    parley.InboxFilter
	}{
		{"no filter", parley.InboxFilter{}},
		{"no filter, viewer", parley.InboxFilter{Viewer: agent}},
		{"status", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting}}},
		{"two statuses", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting, parley.StatusActive}, Viewer: agent}},
		{"assignee", parley.InboxFilter{AssigneeID: agent, Viewer: agent}},
		{"assignee and status", parley.InboxFilter{AssigneeID: agent, Statuses: []parley.Status{parley.StatusActive}}},
		{"unassigned", parley.InboxFilter{Unassigned: true}},
		{"waiting or assigned to", parley.InboxFilter{WaitingOrAssignedTo: agent, Viewer: agent}},
		{"waiting or assigned to, open", parley.InboxFilter{WaitingOrAssignedTo: agent, Viewer: agent,
			Statuses: []parley.Status{parley.StatusWaiting, parley.StatusActive}}},
		{"customer", parley.InboxFilter{CustomerID: customer, Viewer: agent}},
	}
	// The check itself must catch what it looks for.
	for _, bad := range []string{
		"SELECT c.id FROM conversations c WHERE c.customer_ip = ?",
		"SELECT c.id FROM conversations c WHERE c.status = ? ORDER BY c.updated_at",
	} {
		if len(planProblems(t, s, "known bad", bad, []any{"x"})) == 0 {
			t.Errorf("the plan check passes %q", bad)
		}
	}
	for _, sh := range shapes {
		first, err := s.ListConversations(ctx, sh.f)
		if err != nil {
			t.Fatalf("%s: %v", sh.name, err)
		}
		for i, cur := range []string{"", first.NextCursor} {
			if i > 0 && cur == "" {
				continue
			}
			f := sh.f
			f.Cursor = cur
			q, err := newInboxQuery(f)
			if err != nil {
				t.Fatal(err)
			}
			name := sh.name
			if cur != "" {
				name += ", page 2"
			}
			page, args := q.pageSQL()
			checkPlan(t, s, name+": page", page, args)
			_, totals, targs := q.totalsSQL()
			for i := range totals {
				checkPlan(t, s, fmt.Sprintf("%s: totals %d", name, i+1), totals[i], targs[i])
			}
		}
	}
}

// checkPlan explains query and fails on a full scan of conversations, or on
// a sort of rows read straight from conversations (a branch that sorts has
// read everything it selects). Sorting a branch's output, at most limit+1
// rows, to merge branches is fine; so is sorting one customer's few
// conversations.
func checkPlan(t *testing.T, s *Store, name, query string, args []any) {
	t.Helper()
	for _, p := range planProblems(t, s, name, query, args) {
		t.Error(p)
	}
}

func planProblems(t *testing.T, s *Store, name, query string, args []any) []string {
	t.Helper()
	var problems []string
	rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	type node struct {
		parent int
		detail string
	}
	var order []int
	nodes := map[int]node{}
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		nodes[id] = node{parent, detail}
		order = append(order, id)
		depth := 0
		for p := parent; p != 0; p = nodes[p].parent {
			depth++
		}
		lines = append(lines, strings.Repeat("  ", depth)+detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s:\n\t%s", name, strings.Join(lines, "\n\t"))
	readsConversations := func(detail string) bool {
		return strings.HasPrefix(detail, "SCAN c ") || strings.HasPrefix(detail, "SEARCH c ") ||
			detail == "SCAN c" || strings.HasPrefix(detail, "SCAN conversations")
	}
	perCustomer := strings.Contains(query, "customer_id = ?")
	for _, id := range order {
		n := nodes[id]
		if readsConversations(n.detail) && strings.HasPrefix(n.detail, "SCAN") && !strings.Contains(n.detail, "USING") {
			problems = append(problems, fmt.Sprintf("%s: full table scan of conversations: %q", name, n.detail))
		}
		if !strings.Contains(n.detail, "TEMP B-TREE") || perCustomer {
			continue
		}
		for _, sib := range order {
			if nodes[sib].parent == n.parent && readsConversations(nodes[sib].detail) {
				problems = append(problems, fmt.Sprintf("%s: sorts rows read from conversations: %q after %q", name, n.detail, nodes[sib].detail))
			}
		}
	}
	return problems
}

// TestFillReadCounts: migration 0007's hook counts the read marks stored
// before it exactly as the triggers count those written after it.
func TestFillReadCounts(t *testing.T) {
	ctx := t.Context()
	s := MustOpen(t)
	a := &parley.User{Email: "a@example.com", Name: "A", PasswordHash: "x", Role: parley.RoleAgent, Availability: parley.Online}
	b := &parley.User{Email: "b@example.com", Name: "B", PasswordHash: "x", Role: parley.RoleAgent, Availability: parley.Online}
	for _, u := range []*parley.User{a, b} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range []parley.Status{parley.StatusWaiting, parley.StatusActive, parley.StatusActive, parley.StatusClosed} {
		cu := &parley.Customer{TokenHash: strings.Repeat(string(rune('a'+i)), 64)}
		if err := s.CreateCustomer(ctx, cu); err != nil {
			t.Fatal(err)
		}
		c := &parley.Conversation{Status: st, CustomerID: cu.ID}
		if st != parley.StatusWaiting {
			c.AssigneeID = a.ID
		}
		if err := s.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			m := &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: cu.ID, Kind: parley.KindText, Content: "hi"}
			if _, err := s.AppendMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		// a reads everything, b half of it.
		for u, seq := range map[string]int64{a.ID: 2, b.ID: int64(i % 2)} {
			if _, err := s.MarkRead(ctx, c.ID, u, parley.ParticipantAgent, seq); err != nil {
				t.Fatal(err)
			}
		}
	}
	counts := func() map[string]int {
		rows, err := s.writer.QueryContext(ctx, `SELECT user_id, status, assignee_id, conversations FROM inbox_read_counts WHERE conversations <> 0`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var u, st, as string
			var n int
			if err := rows.Scan(&u, &st, &as, &n); err != nil {
				t.Fatal(err)
			}
			out[u+" "+st+" "+as] = n
		}
		return out
	}
	want := counts()
	if len(want) != 3 || want[a.ID+" active "+a.ID] != 2 || want[a.ID+" waiting "] != 1 || want[a.ID+" closed "+a.ID] != 1 {
		t.Fatalf("the triggers counted %v", want)
	}
	// As before the migration: no buckets, no counts.
	if err := s.write(ctx, "test", func(tx *sql.Tx) error {
		for _, q := range []string{`UPDATE participants SET caught_status = NULL, caught_assignee = NULL`, `DELETE FROM inbox_read_counts`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := counts(); len(got) != 0 {
		t.Fatalf("counts left: %v", got)
	}
	if err := s.write(ctx, "test", func(tx *sql.Tx) error { return fillReadCounts(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	if got := counts(); !maps.Equal(got, want) {
		t.Errorf("after the hook %v, want %v", got, want)
	}
}

// TestUpgradeUnreadCounts stores messages under the schema of migration 7,
// where unread counts came from an index of customer messages, migrates,
// and checks every viewer's unread counts, then that appends go on counting
// from the migrated totals.
func TestUpgradeUnreadCounts(t *testing.T) {
	ctx := t.Context()
	s := openMigratedTo(t, 7)
	agent := &parley.User{Email: "a@example.com", Name: "A", PasswordHash: "x", Role: parley.RoleAgent, Availability: parley.Online}
	if err := s.CreateUser(ctx, agent); err != nil {
		t.Fatal(err)
	}
	// Senders in seq order (c customer, a agent) and the agent's read mark.
	convs := []struct {
		senders string
		read    int64
		id, cu  string
	}{{"cacca", 2, "", ""}, {"aa", 0, "", ""}, {"cccc", 4, "", ""}, {"", 0, "", ""}, {"acac", 1, "", ""}}
	for i := range convs {
		cu := &parley.Customer{TokenHash: strings.Repeat(string(rune('a'+i)), 64)}
		if err := s.CreateCustomer(ctx, cu); err != nil {
			t.Fatal(err)
		}
		c := &parley.Conversation{Status: parley.StatusActive, CustomerID: cu.ID, AssigneeID: agent.ID}
		if err := s.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		convs[i].id, convs[i].cu = c.ID, cu.ID
		if err := s.write(ctx, "test", func(tx *sql.Tx) error {
			lastCustomer := 0
			for j, who := range convs[i].senders {
				st, sender := "agent", agent.ID
				if who == 'c' {
					st, sender, lastCustomer = "customer", cu.ID, j+1
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO messages (id, conversation_id, seq, sender_id, sender_type, kind, content, created_at)
					VALUES (?, ?, ?, ?, ?, 'text', 'hi', ?)`, parley.NewID(), c.ID, j+1, sender, st, j+1); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `UPDATE conversations SET last_seq = ?, last_customer_seq = ? WHERE id = ?`,
				len(convs[i].senders), lastCustomer, c.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if convs[i].read > 0 {
			if _, err := s.MarkRead(ctx, c.ID, agent.ID, parley.ParticipantAgent, convs[i].read); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	unread := func(viewer string) map[string]int {
		p, err := s.ListConversations(ctx, parley.InboxFilter{Viewer: viewer})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, e := range p.Entries {
			out[e.Conversation.ID] = e.Unread
		}
		return out
	}
	check := func(when string, viewer string, want []int) {
		t.Helper()
		got := unread(viewer)
		for i, c := range convs {
			if got[c.id] != want[i] {
				t.Errorf("%s, viewer %q: conversation %d (%s, read to %d) has %d unread, want %d",
					when, viewer, i, c.senders, c.read, got[c.id], want[i])
			}
		}
	}
	check("after the migration", agent.ID, []int{2, 0, 0, 0, 2})
	check("after the migration", "", []int{3, 0, 4, 0, 2})
	for _, i := range []int{2, 3} {
		m := &parley.Message{ConversationID: convs[i].id, SenderType: parley.SenderCustomer, SenderID: convs[i].cu,
			Kind: parley.KindText, Content: "more"}
		if _, err := s.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	check("after new messages", agent.ID, []int{2, 0, 1, 1, 2})
	check("after new messages", "", []int{3, 0, 5, 1, 2})
}
