package postgres

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func count(t testing.TB, s *Store, sql string, args ...any) int {
	t.Helper()
	var n int
	must(t, s.pool.QueryRow(t.Context(), sql, args...).Scan(&n), sql)
	return n
}

// Deleting a customer removes their conversations with everything in them;
// deleting a user removes their sessions, tokens and own quick replies and
// unassigns their conversations.
func TestCascadeDelete(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	agent := mkUser(t, s)
	lead := mkUser(t, s)
	conv := mkConversation(t, s, agent.ID)
	m := &parley.Message{ConversationID: conv.ID, SenderType: parley.SenderCustomer, SenderID: conv.CustomerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{attachment("a.pdf")}}
	_, err := s.AppendMessage(ctx, m)
	must(t, err, "append")
	_, err = s.JoinConversation(ctx, conv.ID, agent.ID, parley.ParticipantAgent)
	must(t, err, "join")
	_, err = s.TransferConversation(ctx, &parley.Transfer{ConversationID: conv.ID, FromAgentID: agent.ID,
		ToAgentID: lead.ID, ByUserID: agent.ID, Reason: "shift"}, nil)
	must(t, err, "transfer")
	_, err = s.UpdateConversation(ctx, conv.ID, parley.ConversationUpdate{AssigneeID: &agent.ID})
	must(t, err, "reassign")
	now := parley.Now()
	must(t, s.CreateSession(ctx, &parley.Session{UserID: agent.ID, TokenHash: hash("sess"),
		IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}), "CreateSession")
	must(t, s.CreateAPIToken(ctx, &parley.APIToken{UserID: agent.ID, Name: "ci", TokenHash: hash("tok")}), "CreateAPIToken")
	must(t, s.CreateQuickReply(ctx, &parley.QuickReply{OwnerID: agent.ID, Shortcut: "hi", Text: "Hello"}), "CreateQuickReply")
	sop := &parley.SOPDocument{Title: "Refunds", CreatedBy: agent.ID}
	must(t, s.CreateSOP(ctx, sop), "CreateSOP")

	must(t, s.DeleteUser(ctx, agent.ID), "DeleteUser")
	for sql, want := range map[string]int{
		`SELECT count(*) FROM sessions`:                                0,
		`SELECT count(*) FROM api_tokens`:                              0,
		`SELECT count(*) FROM quick_replies`:                           0,
		`SELECT count(*) FROM conversations WHERE assignee_id IS NULL`: 1,
		`SELECT count(*) FROM transfers WHERE from_agent_id IS NULL`:   1,
	} {
		if got := count(t, s, sql); got != want {
			t.Errorf("after DeleteUser: %s = %d, want %d", sql, got, want)
		}
	}
	doc, err := s.GetSOP(ctx, sop.ID)
	must(t, err, "GetSOP")
	if doc.CreatedBy != "" {
		t.Errorf("SOP author after deletion = %q", doc.CreatedBy)
	}
	_, err = s.UpdateSOP(ctx, sop.ID, parley.SOPUpdate{Body: new("edited"), UpdatedBy: lead.ID})
	must(t, err, "UpdateSOP of an orphaned document")

	must(t, s.DeleteCustomer(ctx, conv.CustomerID), "DeleteCustomer")
	for _, table := range []string{"conversations", "messages", "attachments", "participants", "transfers"} {
		if got := count(t, s, `SELECT count(*) FROM `+table); got != 0 {
			t.Errorf("after DeleteCustomer: %d rows in %s", got, table)
		}
	}
	wantCode(t, s.DeleteCustomer(ctx, conv.CustomerID), parley.ENOTFOUND, "DeleteCustomer again")
	_, err = s.GetAttachment(ctx, m.Attachments[0].ID)
	wantCode(t, err, parley.ENOTFOUND, "GetAttachment after cascade")
}

// A transfer that fails part-way writes nothing: no transfer row, no note,
// no seq, no reassignment.
func TestTransferRollback(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	agent := mkUser(t, s)
	conv := mkConversation(t, s, agent.ID)
	_, err := s.AppendMessage(ctx, text(conv.ID, parley.SenderCustomer, conv.CustomerID, "help"))
	must(t, err, "append")
	before, err := s.GetConversation(ctx, conv.ID)
	must(t, err, "GetConversation")

	note := func() *parley.Message {
		return &parley.Message{SenderType: parley.SenderSystem, Kind: parley.KindSystem, Content: "transferred"}
	}
	// The target agent does not exist: the foreign key fails after the
	// transfer row and the note were written in the transaction.
	_, err = s.TransferConversation(ctx, &parley.Transfer{ConversationID: conv.ID, FromAgentID: agent.ID,
		ToAgentID: parley.NewID(), ByUserID: agent.ID}, note())
	wantCode(t, err, parley.ENOTFOUND, "transfer to an unknown agent")
	// The from agent is stale.
	other := mkUser(t, s)
	_, err = s.TransferConversation(ctx, &parley.Transfer{ConversationID: conv.ID, FromAgentID: other.ID,
		ToAgentID: other.ID, ByUserID: other.ID}, note())
	wantCode(t, err, parley.ECONFLICT, "transfer from a stale agent")

	after, err := s.GetConversation(ctx, conv.ID)
	must(t, err, "GetConversation")
	if after.LastSeq != before.LastSeq || after.AssigneeID != agent.ID || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("failed transfers changed the conversation: before %+v after %+v", before, after)
	}
	if n := count(t, s, `SELECT count(*) FROM transfers`); n != 0 {
		t.Errorf("%d transfers recorded", n)
	}
	if n := count(t, s, `SELECT count(*) FROM messages`); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}

	n := note()
	got, err := s.TransferConversation(ctx, &parley.Transfer{ConversationID: conv.ID, FromAgentID: agent.ID,
		ToAgentID: other.ID, ByUserID: agent.ID, Reason: "lunch"}, n)
	must(t, err, "transfer")
	if got.AssigneeID != other.ID || got.Status != parley.StatusActive || got.LastSeq != 2 || n.Seq != 2 {
		t.Errorf("after transfer: %+v, note seq %d", got, n.Seq)
	}
	ts, err := s.ListTransfers(ctx, conv.ID)
	must(t, err, "ListTransfers")
	if len(ts) != 1 || ts[0].Reason != "lunch" || ts[0].FromAgentID != agent.ID || ts[0].ToAgentID != other.ID {
		t.Errorf("ListTransfers = %+v", ts)
	}
	closed := parley.StatusClosed
	_, err = s.UpdateConversation(ctx, conv.ID, parley.ConversationUpdate{Status: &closed})
	must(t, err, "close")
	_, err = s.TransferConversation(ctx, &parley.Transfer{ConversationID: conv.ID, FromAgentID: other.ID,
		ToAgentID: agent.ID, ByUserID: other.ID}, note())
	wantCode(t, err, parley.ECONFLICT, "transfer of a closed conversation")
}

func TestOneOpenConversation(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	conv := mkConversation(t, s, "")
	err := s.CreateConversation(ctx, &parley.Conversation{Status: parley.StatusWaiting, CustomerID: conv.CustomerID})
	wantCode(t, err, parley.ECONFLICT, "second open conversation")
	closed := parley.StatusClosed
	c, err := s.UpdateConversation(ctx, conv.ID, parley.ConversationUpdate{Status: &closed})
	must(t, err, "close")
	if c.ClosedAt == nil {
		t.Error("closing left ClosedAt nil")
	}
	second := &parley.Conversation{Status: parley.StatusWaiting, CustomerID: conv.CustomerID}
	must(t, s.CreateConversation(ctx, second), "open after close")
	waiting := parley.StatusWaiting
	_, err = s.UpdateConversation(ctx, conv.ID, parley.ConversationUpdate{Status: &waiting})
	wantCode(t, err, parley.ECONFLICT, "reopen beside an open conversation")
	err = s.CreateConversation(ctx, &parley.Conversation{Status: parley.StatusWaiting, CustomerID: parley.NewID()})
	wantCode(t, err, parley.ENOTFOUND, "conversation of an unknown customer")
}
