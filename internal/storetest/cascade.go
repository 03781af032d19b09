package storetest

import (
	"testing"

	"github.com/parleychat/parley"
)

var cascadeTests = []test{
	{"DeleteConversation", testCascadeConversation},
	{"DeleteCustomer", testCascadeCustomer},
	{"DeleteUser", testCascadeUser},
}

// fullConversation is a conversation with something in every dependent table.
type fullConversation struct {
	conv         *parley.Conversation
	messages     []*parley.Message
	attachment   *parley.Attachment
	participants int
}

func mustFullConversation(t testing.TB, s parley.Store, customerID string, agent, other *parley.User) fullConversation {
	t.Helper()
	c := mustConversationFor(t, s, customerID, parley.StatusActive, agent.ID)
	m1 := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, customerID, "hello"))
	m2 := mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: customerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{newAttachment("f.pdf")}})
	_, err := s.JoinConversation(t.Context(), c.ID, customerID, parley.ParticipantCustomer)
	must(t, err, "JoinConversation")
	_, err = s.MarkRead(t.Context(), c.ID, agent.ID, parley.ParticipantAgent, 2)
	must(t, err, "MarkRead")
	note := textMessage(c.ID, parley.SenderSystem, "", "Transferred")
	_, err = s.TransferConversation(t.Context(), &parley.Transfer{ConversationID: c.ID, FromAgentID: agent.ID, ToAgentID: other.ID, ByUserID: agent.ID}, note)
	must(t, err, "TransferConversation")
	ps, err := s.ListParticipants(t.Context(), c.ID)
	must(t, err, "ListParticipants")
	if len(ps) < 2 {
		t.Fatalf("ListParticipants = %d after a join and a read, want at least 2", len(ps))
	}
	return fullConversation{conv: c, messages: []*parley.Message{m1, m2, note}, attachment: m2.Attachments[0], participants: len(ps)}
}

func (fc fullConversation) checkGone(t testing.TB, s parley.Store, why string) {
	t.Helper()
	ctx := t.Context()
	_, err := s.GetConversation(ctx, fc.conv.ID)
	wantCode(t, err, parley.ENOTFOUND, "conversation "+why)
	for _, m := range fc.messages {
		_, err := s.GetMessage(ctx, m.ID)
		wantCode(t, err, parley.ENOTFOUND, "message "+why)
	}
	_, err = s.GetAttachment(ctx, fc.attachment.ID)
	wantCode(t, err, parley.ENOTFOUND, "attachment "+why)
	if n := len(mustMessages(t, s, fc.conv.ID, parley.MessageFilter{})); n != 0 {
		t.Errorf("%d messages listed %s", n, why)
	}
	ps, err := s.ListParticipants(ctx, fc.conv.ID)
	must(t, err, "ListParticipants")
	if len(ps) != 0 {
		t.Errorf("%d participants left %s", len(ps), why)
	}
	ts, err := s.ListTransfers(ctx, fc.conv.ID)
	must(t, err, "ListTransfers")
	if len(ts) != 0 {
		t.Errorf("%d transfers left %s", len(ts), why)
	}
}

func (fc fullConversation) checkIntact(t testing.TB, s parley.Store) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.GetConversation(ctx, fc.conv.ID); err != nil {
		t.Errorf("unrelated conversation: %v", err)
	}
	if n := len(mustMessages(t, s, fc.conv.ID, parley.MessageFilter{})); n != len(fc.messages) {
		t.Errorf("unrelated conversation has %d messages, want %d", n, len(fc.messages))
	}
	if _, err := s.GetAttachment(ctx, fc.attachment.ID); err != nil {
		t.Errorf("unrelated attachment: %v", err)
	}
	ps, err := s.ListParticipants(ctx, fc.conv.ID)
	must(t, err, "ListParticipants")
	if len(ps) != fc.participants {
		t.Errorf("unrelated conversation has %d participants, want %d", len(ps), fc.participants)
	}
	ts, err := s.ListTransfers(ctx, fc.conv.ID)
	must(t, err, "ListTransfers")
	if len(ts) != 1 {
		t.Errorf("unrelated conversation has %d transfers, want 1", len(ts))
	}
}

func testCascadeConversation(t *testing.T, s parley.Store) {
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	gone := mustFullConversation(t, s, mustCustomer(t, s).ID, a, b)
	kept := mustFullConversation(t, s, mustCustomer(t, s).ID, a, b)
	must(t, s.DeleteConversation(t.Context(), gone.conv.ID), "DeleteConversation")
	gone.checkGone(t, s, "after DeleteConversation")
	kept.checkIntact(t, s)
}

func testCascadeCustomer(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	cu := mustCustomer(t, s)
	old := mustFullConversation(t, s, cu.ID, a, b)
	_, err := s.UpdateConversation(ctx, old.conv.ID, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)})
	must(t, err, "UpdateConversation(close)")
	current := mustFullConversation(t, s, cu.ID, a, b)
	kept := mustFullConversation(t, s, mustCustomer(t, s).ID, a, b)

	must(t, s.DeleteCustomer(ctx, cu.ID), "DeleteCustomer")
	old.checkGone(t, s, "after DeleteCustomer (closed conversation)")
	current.checkGone(t, s, "after DeleteCustomer (open conversation)")
	kept.checkIntact(t, s)
	page, err := s.ListConversations(ctx, parley.InboxFilter{})
	must(t, err, "ListConversations")
	if page.Total != 1 {
		t.Errorf("inbox total %d after deleting a customer, want 1", page.Total)
	}
}

func testCascadeUser(t *testing.T, s parley.Store) {
	ctx := t.Context()
	doomed := mustUser(t, s, parley.RoleAgent)
	other := mustUser(t, s, parley.RoleAgent)

	se := mustSession(t, s, doomed.ID)
	keepSession := mustSession(t, s, other.ID)
	tok := newAPIToken(doomed.ID)
	must(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken")
	keepTok := newAPIToken(other.ID)
	must(t, s.CreateAPIToken(ctx, keepTok), "CreateAPIToken")
	personal := mustQuickReply(t, s, doomed.ID, "/mine")
	shared := mustQuickReply(t, s, "", "/ours")
	othersReply := mustQuickReply(t, s, other.ID, "/mine")
	d := newSOP(doomed.ID)
	must(t, s.CreateSOP(ctx, d), "CreateSOP")

	assigned := mustConversation(t, s, parley.StatusActive, doomed.ID)
	mustAppend(t, s, textMessage(assigned.ID, parley.SenderAgent, doomed.ID, "I'm on it"))
	notMine := mustConversation(t, s, parley.StatusActive, other.ID)
	// A transfer that names the user as from, to and actor.
	handed := mustConversation(t, s, parley.StatusActive, other.ID)
	_, err := s.TransferConversation(ctx, &parley.Transfer{ConversationID: handed.ID, FromAgentID: other.ID, ToAgentID: doomed.ID, ByUserID: doomed.ID},
		textMessage(handed.ID, parley.SenderSystem, "", "Transferred"))
	must(t, err, "TransferConversation")
	_, err = s.MarkRead(ctx, assigned.ID, doomed.ID, parley.ParticipantAgent, 1)
	must(t, err, "MarkRead")

	must(t, s.DeleteUser(ctx, doomed.ID), "DeleteUser")

	_, err = s.GetSessionByTokenHash(ctx, se.TokenHash)
	wantCode(t, err, parley.ENOTFOUND, "session of a deleted user")
	_, err = s.GetAPIToken(ctx, tok.ID)
	wantCode(t, err, parley.ENOTFOUND, "token of a deleted user")
	_, err = s.GetAPITokenByHash(ctx, tok.TokenHash)
	wantCode(t, err, parley.ENOTFOUND, "token of a deleted user (by hash)")
	_, err = s.GetQuickReply(ctx, personal.ID)
	wantCode(t, err, parley.ENOTFOUND, "personal quick reply of a deleted user")

	if _, err := s.GetSessionByTokenHash(ctx, keepSession.TokenHash); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	if _, err := s.GetAPIToken(ctx, keepTok.ID); err != nil {
		t.Errorf("another user's token: %v", err)
	}
	for _, q := range []*parley.QuickReply{shared, othersReply} {
		if _, err := s.GetQuickReply(ctx, q.ID); err != nil {
			t.Errorf("quick reply %s: %v", q.Shortcut, err)
		}
	}

	c := mustGetConversation(t, s, assigned.ID)
	if c.AssigneeID != "" {
		t.Errorf("conversation still assigned to the deleted user (%q)", c.AssigneeID)
	}
	if c.LastSeq != 1 || c.Status != parley.StatusActive {
		t.Errorf("unassigning changed more: LastSeq %d status %s", c.LastSeq, c.Status)
	}
	if n := len(mustMessages(t, s, assigned.ID, parley.MessageFilter{})); n != 1 {
		t.Errorf("the deleted user's messages: %d, want 1 (the timeline is kept)", n)
	}
	if c := mustGetConversation(t, s, notMine.ID); c.AssigneeID != other.ID {
		t.Errorf("another agent's conversation lost its assignee")
	}
	if c := mustGetConversation(t, s, handed.ID); c.AssigneeID != "" {
		t.Errorf("transferred conversation still assigned to the deleted user")
	}
	ts, err := s.ListTransfers(ctx, handed.ID)
	must(t, err, "ListTransfers")
	if len(ts) != 1 {
		t.Fatalf("transfers after DeleteUser: %d, want 1 (history is kept)", len(ts))
	}
	if ts[0].FromAgentID != other.ID || ts[0].ToAgentID != "" || ts[0].ByUserID != "" {
		t.Errorf("transfer after DeleteUser: from %q to %q by %q; want the deleted user's ids cleared", ts[0].FromAgentID, ts[0].ToAgentID, ts[0].ByUserID)
	}
	got, err := s.GetSOP(ctx, d.ID)
	must(t, err, "GetSOP (a deleted user's document is kept)")
	if got.CreatedBy != "" || got.UpdatedBy != "" {
		t.Errorf("document authors after DeleteUser: %q %q, want both cleared", got.CreatedBy, got.UpdatedBy)
	}
	n, err := s.CountUsers(ctx)
	must(t, err, "CountUsers")
	if n != 1 {
		t.Errorf("CountUsers = %d after DeleteUser, want 1", n)
	}
}
