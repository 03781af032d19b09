package sqlite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parleychat/parley"
)

func mustUser(t testing.TB, s *Store) *parley.User {
	t.Helper()
	n := parley.NewID()[28:]
	u := &parley.User{Email: "a" + n + "@example.com", Name: "Agent " + n, PasswordHash: "x",
		Role: parley.RoleAgent, Availability: parley.Online}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func mustConversation(t testing.TB, s *Store, status parley.Status, assignee string) *parley.Conversation {
	t.Helper()
	n := parley.NewID()
	cu := &parley.Customer{TokenHash: n[:32] + n[:32]}
	if err := s.CreateCustomer(t.Context(), cu); err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	c := &parley.Conversation{Status: status, CustomerID: cu.ID, AssigneeID: assignee}
	if err := s.CreateConversation(t.Context(), c); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	return c
}

func customerSays(c *parley.Conversation, text string) *parley.Message {
	return &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID,
		Kind: parley.KindText, Content: text}
}

func count(t testing.TB, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.reader.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestAppendIdempotent(t *testing.T) {
	s := MustOpen(t)
	c := mustConversation(t, s, parley.StatusWaiting, "")
	first := customerSays(c, "hello")
	first.ClientMsgID = "k1"
	if created, err := s.AppendMessage(t.Context(), first); err != nil || !created {
		t.Fatalf("first append: created %v, %v", created, err)
	}
	again := customerSays(c, "hello, edited")
	again.ClientMsgID = "k1"
	created, err := s.AppendMessage(t.Context(), again)
	if err != nil || created {
		t.Fatalf("second append: created %v, %v; want false, nil", created, err)
	}
	if again.ID != first.ID || again.Seq != 1 || again.Content != "hello" || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("duplicate filled with %+v, want the first message %+v", again, first)
	}
	got, err := s.GetConversation(t.Context(), c.ID)
	if err != nil || got.LastSeq != 1 || got.LastMessagePreview != "hello" {
		t.Errorf("conversation after duplicate: %+v, %v", got, err)
	}
	if n := count(t, s, "SELECT count(*) FROM messages WHERE conversation_id = ?", c.ID); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
}

func TestConcurrentAppendersGapless(t *testing.T) {
	s := MustOpen(t)
	c := mustConversation(t, s, parley.StatusWaiting, "")
	const n = 50
	seqs := make([]int64, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			m := customerSays(c, fmt.Sprintf("message %d", i))
			if _, err := s.AppendMessage(t.Context(), m); err != nil {
				t.Errorf("AppendMessage %d: %v", i, err)
			}
			seqs[i] = m.Seq
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(seqs)
	for i, sq := range seqs {
		if sq != int64(i+1) {
			t.Fatalf("seqs %v, want 1..%d", seqs, n)
		}
	}
	got, err := s.GetConversation(t.Context(), c.ID)
	if err != nil || got.LastSeq != n || got.LastCustomerSeq != n {
		t.Errorf("conversation after %d appends: LastSeq %d LastCustomerSeq %d (%v)", n, got.LastSeq, got.LastCustomerSeq, err)
	}
}

// Appends that fail share a batch with appends that succeed: each failure
// must roll back alone, including one that fails after it already took a
// seq, whether it ran in a savepoint (its own id collides) or not (a
// trigger refuses the message, which makes the batch run again with
// savepoints).
func TestBatchIsolatesFailures(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	if _, err := s.writer.ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE INSERT ON messages
		WHEN new.content = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	c := mustConversation(t, s, parley.StatusWaiting, "")
	taken := customerSays(c, "first")
	if _, err := s.AppendMessage(ctx, taken); err != nil {
		t.Fatal(err)
	}
	const rounds = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	var good []int64
	start := make(chan struct{})
	for i := range rounds {
		wg.Go(func() {
			<-start
			var m *parley.Message
			want := ""
			switch i % 4 {
			case 1: // no such conversation: fails before writing anything
				m = customerSays(&parley.Conversation{ID: parley.NewID(), CustomerID: c.CustomerID}, "lost")
				want = parley.ENOTFOUND
			case 2: // a reused message id: fails after bumping the conversation
				m = customerSays(c, "clash")
				m.ID = taken.ID
				want = parley.ECONFLICT
			case 3: // refused by the trigger after bumping the conversation
				if i%8 == 3 {
					m = customerSays(c, "boom")
					want = parley.EINVALID
				} else {
					m = customerSays(c, fmt.Sprintf("ok %d", i))
				}
			default:
				m = customerSays(c, fmt.Sprintf("ok %d", i))
			}
			_, err := s.AppendMessage(ctx, m)
			if got := parley.ErrorCode(err); got != want {
				t.Errorf("append %d: code %q (%v), want %q", i, got, err, want)
			}
			if want == "" {
				mu.Lock()
				good = append(good, m.Seq)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(good)
	for i, sq := range good {
		if sq != int64(i+2) {
			t.Fatalf("successful appends got seqs %v, want 2..%d", good, len(good)+1)
		}
	}
	got, err := s.GetConversation(ctx, c.ID)
	if err != nil || got.LastSeq != int64(len(good)+1) {
		t.Errorf("LastSeq %d (%v), want %d", got.LastSeq, err, len(good)+1)
	}
	if n := count(t, s, "SELECT count(*) FROM messages"); n != len(good)+1 {
		t.Errorf("%d messages stored, want %d", n, len(good)+1)
	}
}

func TestAppendCancelledWritesNothing(t *testing.T) {
	s := MustOpen(t)
	c := mustConversation(t, s, parley.StatusWaiting, "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.AppendMessage(ctx, customerSays(c, "never")); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Errorf("AppendMessage(cancelled) = %v, want unavailable", err)
	}
	if n := count(t, s, "SELECT count(*) FROM messages"); n != 0 {
		t.Errorf("%d messages after a cancelled append", n)
	}
}

func TestCascadeDelete(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustConversation(t, s, parley.StatusActive, a.ID)
	keep := mustConversation(t, s, parley.StatusActive, a.ID)
	for _, conv := range []*parley.Conversation{c, keep} {
		if _, err := s.AppendMessage(ctx, customerSays(conv, "hi")); err != nil {
			t.Fatal(err)
		}
		file := &parley.Message{ConversationID: conv.ID, SenderType: parley.SenderAgent, SenderID: a.ID, Kind: parley.KindFile,
			Attachments: []*parley.Attachment{{Key: "k", URL: "/u", Type: parley.AttachmentImage, ContentType: "image/png",
				Size: 1, Name: "a.png", Checksum: fmt.Sprintf("%064d", 0)}}}
		if _, err := s.AppendMessage(ctx, file); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkRead(ctx, conv.ID, a.ID, parley.ParticipantAgent, 1); err != nil {
			t.Fatal(err)
		}
		tr := &parley.Transfer{ConversationID: conv.ID, FromAgentID: a.ID, ToAgentID: b.ID, ByUserID: a.ID}
		note := &parley.Message{SenderType: parley.SenderSystem, Kind: parley.KindSystem, Content: "Transferred"}
		if _, err := s.TransferConversation(ctx, tr, note); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteCustomer(ctx, c.CustomerID); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"messages": 0, "attachments": 0, "participants": 0, "transfers": 0} {
		if n := count(t, s, "SELECT count(*) FROM "+table+" WHERE conversation_id = ?", c.ID); n != want {
			t.Errorf("%s: %d rows of the deleted customer's conversation", table, n)
		}
		if n := count(t, s, "SELECT count(*) FROM "+table+" WHERE conversation_id = ?", keep.ID); n == 0 {
			t.Errorf("%s: the other conversation lost its rows", table)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM conversations WHERE id = ?", c.ID); n != 0 {
		t.Errorf("conversation survived its customer")
	}
	checkInboxCounts(t, s)
}

func TestTransferRollback(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	a := mustUser(t, s)
	c := mustConversation(t, s, parley.StatusActive, a.ID)
	if _, err := s.AppendMessage(ctx, customerSays(c, "hi")); err != nil {
		t.Fatal(err)
	}
	before, _ := s.GetConversation(ctx, c.ID)
	tr := &parley.Transfer{ConversationID: c.ID, FromAgentID: a.ID, ToAgentID: parley.NewID(), ByUserID: a.ID}
	note := &parley.Message{SenderType: parley.SenderSystem, Kind: parley.KindSystem, Content: "Transferred"}
	if _, err := s.TransferConversation(ctx, tr, note); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("transfer to a ghost: %v, want not_found", err)
	}
	after, _ := s.GetConversation(ctx, c.ID)
	if after.LastSeq != before.LastSeq || after.AssigneeID != a.ID || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("failed transfer changed the conversation: %+v", after)
	}
	if n := count(t, s, "SELECT count(*) FROM transfers"); n != 0 {
		t.Errorf("%d transfers after a failed one", n)
	}
	m := customerSays(c, "still there?")
	if _, err := s.AppendMessage(ctx, m); err != nil || m.Seq != 2 {
		t.Errorf("next append got seq %d (%v), want 2", m.Seq, err)
	}
}

// checkInboxCounts compares the trigger-kept inbox_counts with a count of
// the conversations themselves.
func checkInboxCounts(t testing.TB, s *Store) {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), `
		SELECT status, assignee, sum(n), sum(w) FROM (
			SELECT status, coalesce(assignee_id, '') AS assignee, 1 AS n, last_customer_seq > 0 AS w FROM conversations
			UNION ALL
			SELECT status, assignee_id, -conversations, -with_customer_messages FROM inbox_counts
		) GROUP BY status, assignee HAVING sum(n) <> 0 OR sum(w) <> 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var st, as string
		var n, w int
		if err := rows.Scan(&st, &as, &n, &w); err != nil {
			t.Fatal(err)
		}
		t.Errorf("inbox_counts off for (%s, %q): conversations by %d, with customer messages by %d", st, as, n, w)
	}
}

func TestInboxCountsFollowChanges(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	a, b := mustUser(t, s), mustUser(t, s)
	var convs []*parley.Conversation
	for i := range 12 {
		assignee := []string{"", a.ID, b.ID}[i%3]
		st := []parley.Status{parley.StatusWaiting, parley.StatusActive, parley.StatusClosed}[i%3]
		convs = append(convs, mustConversation(t, s, st, assignee))
	}
	checkInboxCounts(t, s)
	for i, c := range convs[:8] {
		if i%2 == 0 {
			if _, err := s.AppendMessage(ctx, customerSays(c, "q")); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkInboxCounts(t, s)
	steps := []parley.ConversationUpdate{
		{AssigneeID: ptr(b.ID)},
		{Status: ptr(parley.StatusClosed)},
		{Status: ptr(parley.StatusActive), AssigneeID: ptr(a.ID)},
		{AssigneeID: ptr("")},
	}
	for i, up := range steps {
		if _, err := s.UpdateConversation(ctx, convs[i].ID, up); err != nil && !parley.IsCode(err, parley.ECONFLICT) {
			t.Fatal(err)
		}
		checkInboxCounts(t, s)
	}
	if err := s.DeleteUser(ctx, a.ID); err != nil { // ON DELETE SET NULL
		t.Fatal(err)
	}
	checkInboxCounts(t, s)
	if err := s.DeleteCustomer(ctx, convs[1].CustomerID); err != nil { // cascade
		t.Fatal(err)
	}
	if err := s.DeleteConversation(ctx, convs[4].ID); err != nil {
		t.Fatal(err)
	}
	checkInboxCounts(t, s)
}

func ptr[T any](v T) *T { return &v }
