package sqlite

import (
	"database/sql"
	"testing"

	"github.com/parleychat/parley"
)

// TestAppendMemory: appends to a conversation the append loop remembers
// skip the lookup, and whatever changed the conversation meanwhile (a write
// of the store's own, another process, a repeated client id) still gets
// every append the answer the full path gives.
func TestAppendMemory(t *testing.T) {
	ctx := t.Context()
	s := MustOpen(t)
	c := mustConversation(t, s, parley.StatusWaiting, "")
	waiting := parley.ConversationState{Status: parley.StatusWaiting}
	// Another process writing the same database: the store's own writes move
	// its generation on, these do not.
	outside, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { outside.Close() })
	send := func(text, clientID string, expect *parley.ConversationState) (*parley.Message, bool, error) {
		t.Helper()
		m := customerSays(c, text)
		m.ClientMsgID, m.Expect = clientID, expect
		created, err := s.AppendMessage(ctx, m)
		return m, created, err
	}
	remembered := func() (convMemory, bool) {
		// Read between appends: the loop does not touch it until the next.
		mem, ok := s.memory.convs[c.ID]
		return mem, ok
	}
	stored := func() int { return count(t, s, "SELECT count(*) FROM messages WHERE conversation_id = ?", c.ID) }

	for i, text := range []string{"one", "two", "three"} {
		m, created, err := send(text, text, &waiting)
		if err != nil || !created || m.Seq != int64(i+1) {
			t.Fatalf("append %q: seq %d, created %v, %v", text, m.Seq, created, err)
		}
	}
	if mem, ok := remembered(); !ok || mem.last != 3 || mem.customers != 3 || mem.state != waiting {
		t.Fatalf("remembered %+v, %v; want seq 3, 3 customer messages, waiting", mem, ok)
	}

	// The same client id again: the stored message, nothing new.
	m, created, err := send("two, again", "two", &waiting)
	if err != nil || created || m.Seq != 2 || m.Content != "two" || stored() != 3 {
		t.Fatalf("repeated client id: seq %d %q, created %v, %v; %d stored", m.Seq, m.Content, created, err, stored())
	}

	// The store's own write: a claim.
	u := mustUser(t, s)
	active := parley.StatusActive
	if _, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{Status: &active, AssigneeID: &u.ID}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := send("too late", "late", &waiting); !parley.IsCode(err, parley.ECONFLICT) {
		t.Fatalf("append expecting the old state after a claim: %v, want ECONFLICT", err)
	}
	if n := s.rerun.Load(); n != 0 {
		t.Fatalf("%d batches run again: the claim did not make the loop forget the conversation", n)
	}
	claimed := parley.ConversationState{Status: parley.StatusActive, AssigneeID: u.ID}
	if m, created, err := send("four", "four", &claimed); err != nil || !created || m.Seq != 4 {
		t.Fatalf("append after the claim: seq %d, created %v, %v", m.Seq, created, err)
	}

	// Another process closes the conversation: what the loop remembers is
	// out of date, the conditional bump finds out.
	if mem, ok := remembered(); !ok || mem.state != claimed {
		t.Fatalf("remembered %+v, %v before the outside write", mem, ok)
	}
	if _, err := outside.ExecContext(ctx, "UPDATE conversations SET status = 'closed' WHERE id = ?", c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := send("closed meanwhile", "closed", &claimed); !parley.IsCode(err, parley.ECONFLICT) {
		t.Fatalf("append to a conversation closed by another process: %v, want ECONFLICT", err)
	}
	if n := stored(); n != 4 {
		t.Fatalf("%d messages stored, want 4: the refused append left one", n)
	}
	if n := s.rerun.Load(); n != 1 {
		t.Fatalf("%d batches run again, want 1: the one that found the conversation changed", n)
	}

	// Another process appends: the remembered seq is taken.
	if _, err := outside.ExecContext(ctx, "UPDATE conversations SET status = 'active' WHERE id = ?", c.ID); err != nil {
		t.Fatal(err)
	}
	if m, _, err := send("five", "five", nil); err != nil || m.Seq != 5 {
		t.Fatalf("append: seq %d, %v", m.Seq, err)
	}
	if _, err := outside.ExecContext(ctx, `INSERT INTO messages (id, conversation_id, seq, sender_type, kind, content, created_at, customer_through)
		VALUES (?, ?, 6, 'system', 'system', 'from outside', 1, 5)`, parley.NewID(), c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := outside.ExecContext(ctx, "UPDATE conversations SET last_seq = 6 WHERE id = ?", c.ID); err != nil {
		t.Fatal(err)
	}
	if m, _, err := send("seven", "seven", nil); err != nil || m.Seq != 7 {
		t.Fatalf("append after another process's: seq %d, %v; want 7", m.Seq, err)
	}
	page, err := s.ListMessages(ctx, c.ID, parley.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, m := range page {
		seqs = append(seqs, m.Seq)
	}
	if len(seqs) != 7 || seqs[0] != 1 || seqs[6] != 7 {
		t.Fatalf("seqs %v, want 1 to 7", seqs)
	}
	var last, customers int64
	if err := s.reader.QueryRowContext(ctx, "SELECT last_seq, customer_messages FROM conversations WHERE id = ?", c.ID).Scan(&last, &customers); err != nil {
		t.Fatal(err)
	}
	if last != 7 || customers != 6 {
		t.Fatalf("conversation at seq %d with %d customer messages, want 7 and 6", last, customers)
	}
}
