package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var conversationTests = []test{
	{"CreateGetRoundTrip", testConversationRoundTrip},
	{"CreateRejected", testConversationCreateRejected},
	{"OneOpenPerCustomer", testOneOpenPerCustomer},
	{"ConcurrentCreateOneWins", testConcurrentCreate},
	{"Update", testConversationUpdate},
	{"UpdateRejected", testConversationUpdateRejected},
	{"ConditionalUpdate", testConditionalUpdate},
	{"ConcurrentClaimOneWins", testConcurrentClaim},
	{"Delete", testConversationDelete},
}

var participantTests = []test{
	{"JoinAndList", testJoinAndList},
	{"MarkRead", testMarkRead},
	{"Rejected", testParticipantRejected},
}

var transferTests = []test{
	{"Transfer", testTransfer},
	{"ConflictWritesNothing", testTransferConflict},
	{"UnknownAgentWritesNothing", testTransferUnknownAgent},
	{"InvalidWritesNothing", testTransferInvalid},
}

func testConversationRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	for _, tc := range []struct {
		status   parley.Status
		assignee string
	}{
		{parley.StatusWaiting, ""},
		{parley.StatusActive, agent.ID},
		{parley.StatusClosed, agent.ID},
	} {
		cu := mustCustomer(t, s)
		start := time.Now()
		c := &parley.Conversation{
			Status:     tc.status,
			CustomerID: cu.ID,
			AssigneeID: tc.assignee,
			CustomerIP: "2001:db8::7",
			Metadata:   parley.Metadata{"page": "/checkout", "tags": []any{"vip"}},
		}
		must(t, s.CreateConversation(ctx, c), "CreateConversation("+string(tc.status)+")")
		if !parley.ValidID(c.ID) {
			t.Fatalf("CreateConversation filled ID %q", c.ID)
		}
		checkFresh(t, "CreatedAt", c.CreatedAt, start)
		checkFresh(t, "UpdatedAt", c.UpdatedAt, start)
		if tc.status == parley.StatusClosed {
			if c.ClosedAt == nil {
				t.Errorf("a conversation created closed has no ClosedAt")
			} else {
				checkFresh(t, "ClosedAt", *c.ClosedAt, start)
			}
		} else if c.ClosedAt != nil {
			t.Errorf("an open conversation has ClosedAt %s", c.ClosedAt)
		}
		if c.LastMessageAt != nil || c.LastSeq != 0 || c.LastCustomerSeq != 0 || c.LastMessagePreview != "" {
			t.Errorf("new conversation has message fields set: %+v", c)
		}
		got, err := s.GetConversation(ctx, c.ID)
		must(t, err, "GetConversation")
		roundTrip(t, "GetConversation("+string(tc.status)+")", got, c)
	}
}

func conversationTotal(t testing.TB, s parley.Store) int {
	t.Helper()
	page, err := s.ListConversations(t.Context(), parley.InboxFilter{})
	must(t, err, "ListConversations")
	return page.Total
}

func testConversationCreateRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cu := mustCustomer(t, s)
	cases := []struct {
		name string
		edit func(c *parley.Conversation)
		code string
	}{
		{"unknown customer", func(c *parley.Conversation) { c.CustomerID = parley.NewID() }, parley.ENOTFOUND},
		{"unknown assignee", func(c *parley.Conversation) { c.AssigneeID = parley.NewID() }, parley.ENOTFOUND},
		{"bad status", func(c *parley.Conversation) { c.Status = "open" }, parley.EINVALID},
		{"empty status", func(c *parley.Conversation) { c.Status = "" }, parley.EINVALID},
		{"malformed customer id", func(c *parley.Conversation) { c.CustomerID = "cust" }, parley.EINVALID},
		{"malformed assignee id", func(c *parley.Conversation) { c.AssigneeID = "agent" }, parley.EINVALID},
		{"long ip", func(c *parley.Conversation) { c.CustomerIP = strings.Repeat("1", 65) }, parley.EINVALID},
		{"NUL in ip", func(c *parley.Conversation) { c.CustomerIP = "1\x00" }, parley.EINVALID},
		{"huge metadata", func(c *parley.Conversation) {
			c.Metadata = parley.Metadata{"x": strings.Repeat("x", parley.MaxMetadataBytes)}
		}, parley.EINVALID},
	}
	for _, tc := range cases {
		c := &parley.Conversation{Status: parley.StatusWaiting, CustomerID: cu.ID}
		tc.edit(c)
		wantCode(t, s.CreateConversation(ctx, c), tc.code, "CreateConversation("+tc.name+")")
	}
	if n := conversationTotal(t, s); n != 0 {
		t.Errorf("%d conversations after rejected creations, want 0", n)
	}
	// The customer can still open one.
	mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
}

func testOneOpenPerCustomer(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	cu := mustCustomer(t, s)
	_, err := s.GetOpenConversation(ctx, cu.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetOpenConversation(none yet)")

	first := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	for _, st := range []parley.Status{parley.StatusWaiting, parley.StatusActive} {
		c := &parley.Conversation{Status: st, CustomerID: cu.ID, AssigneeID: agent.ID}
		wantCode(t, s.CreateConversation(ctx, c), parley.ECONFLICT, "second open conversation ("+string(st)+")")
	}
	open, err := s.GetOpenConversation(ctx, cu.ID)
	must(t, err, "GetOpenConversation")
	roundTrip(t, "GetOpenConversation", open, first)

	// A closed conversation does not count against the rule.
	archived := mustConversationFor(t, s, cu.ID, parley.StatusClosed, "")

	// Another customer is unaffected.
	other := mustConversation(t, s, parley.StatusWaiting, "")

	closed, err := s.UpdateConversation(ctx, first.ID, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)})
	must(t, err, "UpdateConversation(close)")
	if closed.ClosedAt == nil {
		t.Errorf("closing did not set ClosedAt")
	}
	_, err = s.GetOpenConversation(ctx, cu.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetOpenConversation(after close)")

	second := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	open, err = s.GetOpenConversation(ctx, cu.ID)
	must(t, err, "GetOpenConversation")
	if open.ID != second.ID {
		t.Errorf("GetOpenConversation = %s, want the new %s", open.ID, second.ID)
	}

	for _, id := range []string{first.ID, archived.ID} {
		_, err = s.UpdateConversation(ctx, id, parley.ConversationUpdate{Status: ptr(parley.StatusWaiting)})
		wantCode(t, err, parley.ECONFLICT, "reopening while another is open")
		got, err := s.GetConversation(ctx, id)
		must(t, err, "GetConversation")
		if got.Status != parley.StatusClosed || got.ClosedAt == nil {
			t.Errorf("refused reopen changed the conversation: status %s, ClosedAt %v", got.Status, got.ClosedAt)
		}
	}
	got, err := s.GetConversation(ctx, other.ID)
	must(t, err, "GetConversation(other)")
	roundTrip(t, "other customer's conversation", got, other)
}

func testConcurrentCreate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cu := mustCustomer(t, s)
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.CreateConversation(ctx, &parley.Conversation{Status: parley.StatusWaiting, CustomerID: cu.ID})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch parley.ErrorCode(err) {
		case "":
			ok++
		case parley.ECONFLICT:
		default:
			t.Errorf("concurrent CreateConversation: %v (code %s), want nil or conflict", err, parley.ErrorCode(err))
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent creations succeeded, want exactly 1", ok, n)
	}
	if total := conversationTotal(t, s); total != 1 {
		t.Errorf("%d conversations stored, want 1", total)
	}
}

func testConversationUpdate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusWaiting, "")
	cases := []struct {
		name  string
		up    parley.ConversationUpdate
		apply func(c *parley.Conversation)
	}{
		{"claim", parley.ConversationUpdate{Status: ptr(parley.StatusActive), AssigneeID: ptr(a.ID)},
			func(c *parley.Conversation) { c.Status, c.AssigneeID = parley.StatusActive, a.ID }},
		{"reassign", parley.ConversationUpdate{AssigneeID: ptr(b.ID)}, func(c *parley.Conversation) { c.AssigneeID = b.ID }},
		{"metadata", parley.ConversationUpdate{Metadata: parley.Metadata{"priority": "high"}},
			func(c *parley.Conversation) { c.Metadata = parley.Metadata{"priority": "high"} }},
		{"unassign", parley.ConversationUpdate{AssigneeID: ptr("")}, func(c *parley.Conversation) { c.AssigneeID = "" }},
		{"close", parley.ConversationUpdate{Status: ptr(parley.StatusClosed)}, func(c *parley.Conversation) { c.Status = parley.StatusClosed }},
		{"reopen", parley.ConversationUpdate{Status: ptr(parley.StatusWaiting)}, func(c *parley.Conversation) { c.Status = parley.StatusWaiting }},
		{"expect both, holding", parley.ConversationUpdate{
			Status: ptr(parley.StatusActive), AssigneeID: ptr(a.ID),
			ExpectStatus: ptr(parley.StatusWaiting), ExpectAssigneeID: ptr(""),
		}, func(c *parley.Conversation) { c.Status, c.AssigneeID = parley.StatusActive, a.ID }},
	}
	for _, tc := range cases {
		before := mustGetConversation(t, s, c.ID)
		start := time.Now()
		got, err := s.UpdateConversation(ctx, c.ID, tc.up)
		if err != nil {
			t.Errorf("UpdateConversation(%s): %v", tc.name, err)
			continue
		}
		want := *before
		tc.apply(&want)
		checkFresh(t, "UpdateConversation("+tc.name+").UpdatedAt", got.UpdatedAt, start)
		want.UpdatedAt = got.UpdatedAt
		switch {
		case want.Status == parley.StatusClosed && before.Status != parley.StatusClosed:
			if got.ClosedAt == nil {
				t.Errorf("UpdateConversation(%s): ClosedAt not set", tc.name)
			} else {
				checkFresh(t, "ClosedAt", *got.ClosedAt, start)
			}
			want.ClosedAt = got.ClosedAt
		case want.Status != parley.StatusClosed:
			want.ClosedAt = nil
		}
		roundTrip(t, "UpdateConversation("+tc.name+") result", got, &want)
		roundTrip(t, "GetConversation after UpdateConversation("+tc.name+")", mustGetConversation(t, s, c.ID), &want)
	}
}

func testConversationUpdateRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusWaiting, "")
	cases := []struct {
		name string
		up   parley.ConversationUpdate
		code string
	}{
		{"bad status", parley.ConversationUpdate{Status: ptr(parley.Status("snoozed"))}, parley.EINVALID},
		{"malformed assignee", parley.ConversationUpdate{AssigneeID: ptr("bob")}, parley.EINVALID},
		{"unknown assignee", parley.ConversationUpdate{AssigneeID: ptr(parley.NewID())}, parley.ENOTFOUND},
		{"huge metadata", parley.ConversationUpdate{Metadata: parley.Metadata{"x": strings.Repeat("x", parley.MaxMetadataBytes)}}, parley.EINVALID},
		{"valid status with bad assignee", parley.ConversationUpdate{Status: ptr(parley.StatusActive), AssigneeID: ptr("x")}, parley.EINVALID},
	}
	for _, tc := range cases {
		_, err := s.UpdateConversation(ctx, c.ID, tc.up)
		wantCode(t, err, tc.code, "UpdateConversation("+tc.name+")")
		roundTrip(t, "conversation after rejected UpdateConversation("+tc.name+")", mustGetConversation(t, s, c.ID), c)
	}
}

func testConditionalUpdate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, a.ID)
	for _, tc := range []struct {
		name string
		up   parley.ConversationUpdate
	}{
		{"status differs", parley.ConversationUpdate{Status: ptr(parley.StatusClosed), ExpectStatus: ptr(parley.StatusWaiting)}},
		{"assignee differs", parley.ConversationUpdate{AssigneeID: ptr(b.ID), ExpectAssigneeID: ptr(b.ID)}},
		{"expected unassigned", parley.ConversationUpdate{AssigneeID: ptr(b.ID), ExpectAssigneeID: ptr("")}},
		{"one of two differs", parley.ConversationUpdate{
			AssigneeID: ptr(b.ID), ExpectStatus: ptr(parley.StatusActive), ExpectAssigneeID: ptr(b.ID),
		}},
		{"metadata only, status differs", parley.ConversationUpdate{Metadata: parley.Metadata{"a": "b"}, ExpectStatus: ptr(parley.StatusClosed)}},
	} {
		_, err := s.UpdateConversation(ctx, c.ID, tc.up)
		wantCode(t, err, parley.ECONFLICT, "UpdateConversation("+tc.name+")")
		roundTrip(t, "conversation after failed condition ("+tc.name+")", mustGetConversation(t, s, c.ID), c)
	}
	got, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{
		AssigneeID: ptr(b.ID), ExpectStatus: ptr(parley.StatusActive), ExpectAssigneeID: ptr(a.ID),
	})
	must(t, err, "UpdateConversation(conditions hold)")
	if got.AssigneeID != b.ID {
		t.Errorf("AssigneeID = %q, want %q", got.AssigneeID, b.ID)
	}
	_, err = s.UpdateConversation(ctx, parley.NewID(), parley.ConversationUpdate{Status: ptr(parley.StatusClosed), ExpectStatus: ptr(parley.StatusActive)})
	wantCode(t, err, parley.ENOTFOUND, "UpdateConversation(unknown id with an expectation)")
}

func testConcurrentClaim(t *testing.T, s parley.Store) {
	ctx := t.Context()
	const n = 8
	var agents []*parley.User
	for range n {
		agents = append(agents, mustUser(t, s, parley.RoleAgent))
	}
	for round := range 3 {
		c := mustConversation(t, s, parley.StatusWaiting, "")
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, a := range agents {
			wg.Go(func() {
				<-start
				_, errs[i] = s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{
					Status: ptr(parley.StatusActive), AssigneeID: ptr(a.ID), ExpectAssigneeID: ptr(""),
				})
			})
		}
		close(start)
		wg.Wait()
		winner := ""
		wins := 0
		for i, err := range errs {
			switch parley.ErrorCode(err) {
			case "":
				wins++
				winner = agents[i].ID
			case parley.ECONFLICT:
			default:
				t.Errorf("round %d: concurrent claim: %v, want nil or conflict", round, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d claims won, want exactly 1", round, wins)
			continue
		}
		got := mustGetConversation(t, s, c.ID)
		if got.AssigneeID != winner || got.Status != parley.StatusActive {
			t.Errorf("round %d: stored assignee %q status %s, want the winner %q active", round, got.AssigneeID, got.Status, winner)
		}
	}
}

func testConversationDelete(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusWaiting, "")
	keep := mustConversation(t, s, parley.StatusWaiting, "")
	must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
	_, err := s.GetConversation(ctx, c.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetConversation(deleted)")
	wantCode(t, s.DeleteConversation(ctx, c.ID), parley.ENOTFOUND, "DeleteConversation(again)")
	_, err = s.GetOpenConversation(ctx, c.CustomerID)
	wantCode(t, err, parley.ENOTFOUND, "GetOpenConversation(deleted)")
	// The customer remains and may open a new conversation.
	if _, err := s.GetCustomer(ctx, c.CustomerID); err != nil {
		t.Errorf("customer gone with their conversation: %v", err)
	}
	mustConversationFor(t, s, c.CustomerID, parley.StatusWaiting, "")
	roundTrip(t, "other conversation", mustGetConversation(t, s, keep.ID), keep)
}

func testJoinAndList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusWaiting, "")
	other := mustConversation(t, s, parley.StatusWaiting, "")

	start := time.Now()
	pc, err := s.JoinConversation(ctx, c.ID, c.CustomerID, parley.ParticipantCustomer)
	must(t, err, "JoinConversation(customer)")
	want := parley.Participant{ConversationID: c.ID, UserID: c.CustomerID, UserType: parley.ParticipantCustomer,
		JoinedAt: pc.JoinedAt, LastSeenAt: pc.LastSeenAt}
	checkFresh(t, "JoinedAt", pc.JoinedAt, start)
	checkFresh(t, "LastSeenAt", pc.LastSeenAt, start)
	roundTrip(t, "JoinConversation(customer)", pc, &want)

	time.Sleep(2 * time.Millisecond)
	pa, err := s.JoinConversation(ctx, c.ID, agent.ID, parley.ParticipantAgent)
	must(t, err, "JoinConversation(agent)")
	_, err = s.JoinConversation(ctx, other.ID, agent.ID, parley.ParticipantAgent)
	must(t, err, "JoinConversation(agent, other conversation)")

	_, err = s.MarkRead(ctx, c.ID, c.CustomerID, parley.ParticipantCustomer, 3)
	must(t, err, "MarkRead")
	time.Sleep(2 * time.Millisecond)
	again, err := s.JoinConversation(ctx, c.ID, c.CustomerID, parley.ParticipantCustomer)
	must(t, err, "JoinConversation(again)")
	if !again.JoinedAt.Equal(pc.JoinedAt) {
		t.Errorf("joining again moved JoinedAt from %s to %s", pc.JoinedAt, again.JoinedAt)
	}
	if !again.LastSeenAt.After(pc.LastSeenAt) {
		t.Errorf("joining again did not move LastSeenAt forward (%s then %s)", pc.LastSeenAt, again.LastSeenAt)
	}
	if again.LastReadSeq != 3 {
		t.Errorf("joining again changed LastReadSeq to %d, want 3", again.LastReadSeq)
	}

	ps, err := s.ListParticipants(ctx, c.ID)
	must(t, err, "ListParticipants")
	if len(ps) != 2 {
		t.Fatalf("ListParticipants = %d participants, want 2", len(ps))
	}
	roundTrip(t, "ListParticipants[0] (customer, joined first)", ps[0], again)
	roundTrip(t, "ListParticipants[1] (agent)", ps[1], pa)

	ps, err = s.ListParticipants(ctx, parley.NewID())
	must(t, err, "ListParticipants(unknown conversation)")
	if len(ps) != 0 {
		t.Errorf("ListParticipants(unknown conversation) = %d, want 0", len(ps))
	}
}

func testMarkRead(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)

	// MarkRead joins first when needed.
	start := time.Now()
	p, err := s.MarkRead(ctx, c.ID, agent.ID, parley.ParticipantAgent, 5)
	must(t, err, "MarkRead(not joined)")
	if p.LastReadSeq != 5 || p.ConversationID != c.ID || p.UserID != agent.ID || p.UserType != parley.ParticipantAgent {
		t.Errorf("MarkRead returned %+v", p)
	}
	checkFresh(t, "JoinedAt", p.JoinedAt, start)

	for _, step := range []struct{ seq, want int64 }{{3, 5}, {5, 5}, {9, 9}, {0, 9}, {10, 10}} {
		p, err := s.MarkRead(ctx, c.ID, agent.ID, parley.ParticipantAgent, step.seq)
		must(t, err, "MarkRead")
		if p.LastReadSeq != step.want {
			t.Errorf("MarkRead(%d) -> LastReadSeq %d, want %d", step.seq, p.LastReadSeq, step.want)
		}
	}
	ps, err := s.ListParticipants(ctx, c.ID)
	must(t, err, "ListParticipants")
	if len(ps) != 1 || ps[0].LastReadSeq != 10 {
		t.Errorf("ListParticipants after MarkRead = %+v, want one participant at 10", ps)
	}

	// The same id as a customer is a different participant.
	pc, err := s.MarkRead(ctx, c.ID, agent.ID, parley.ParticipantCustomer, 1)
	must(t, err, "MarkRead(as customer)")
	if pc.LastReadSeq != 1 {
		t.Errorf("customer participant LastReadSeq %d, want 1", pc.LastReadSeq)
	}
	ps, err = s.ListParticipants(ctx, c.ID)
	must(t, err, "ListParticipants")
	if len(ps) != 2 {
		t.Errorf("ListParticipants = %d, want 2 (agent and customer rows)", len(ps))
	}
}

func testParticipantRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusWaiting, "")

	_, err := s.MarkRead(ctx, c.ID, agent.ID, parley.ParticipantAgent, -1)
	wantCode(t, err, parley.EINVALID, "MarkRead(-1)")
	_, err = s.JoinConversation(ctx, c.ID, agent.ID, parley.ParticipantType("bot"))
	wantCode(t, err, parley.EINVALID, "JoinConversation(bad type)")
	_, err = s.MarkRead(ctx, c.ID, agent.ID, parley.ParticipantType(""), 1)
	wantCode(t, err, parley.EINVALID, "MarkRead(empty type)")
	_, err = s.JoinConversation(ctx, parley.NewID(), agent.ID, parley.ParticipantAgent)
	wantCode(t, err, parley.ENOTFOUND, "JoinConversation(unknown conversation)")
	_, err = s.MarkRead(ctx, parley.NewID(), agent.ID, parley.ParticipantAgent, 1)
	wantCode(t, err, parley.ENOTFOUND, "MarkRead(unknown conversation)")

	ps, err := s.ListParticipants(ctx, c.ID)
	must(t, err, "ListParticipants")
	if len(ps) != 0 {
		t.Errorf("rejected joins left %d participants", len(ps))
	}
}

// snapshot is what a failed write must leave as it was.
type snapshot struct {
	conv      *parley.Conversation
	messages  int
	transfers int
}

func takeSnapshot(t testing.TB, s parley.Store, convID string) snapshot {
	t.Helper()
	ts, err := s.ListTransfers(t.Context(), convID)
	must(t, err, "ListTransfers")
	return snapshot{
		conv:      mustGetConversation(t, s, convID),
		messages:  len(mustMessages(t, s, convID, parley.MessageFilter{})),
		transfers: len(ts),
	}
}

func (sn snapshot) check(t testing.TB, s parley.Store, what string) {
	t.Helper()
	after := takeSnapshot(t, s, sn.conv.ID)
	roundTrip(t, what+": conversation", after.conv, sn.conv)
	if after.messages != sn.messages {
		t.Errorf("%s: %d messages, want %d", what, after.messages, sn.messages)
	}
	if after.transfers != sn.transfers {
		t.Errorf("%s: %d transfers, want %d", what, after.transfers, sn.transfers)
	}
}

func transferNote(convID, content string) *parley.Message {
	return textMessage(convID, parley.SenderSystem, "", content)
}

func testTransfer(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	lead := mustUser(t, s, parley.RoleTeamLead)
	c := mustConversation(t, s, parley.StatusWaiting, "")
	mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "hello"))

	start := time.Now()
	t1 := &parley.Transfer{ConversationID: c.ID, ToAgentID: a.ID, ByUserID: lead.ID, Reason: "first pick"}
	note1 := transferNote(c.ID, "Assigned to "+a.Name)
	got, err := s.TransferConversation(ctx, t1, note1)
	must(t, err, "TransferConversation(unassigned -> a)")
	if !parley.ValidID(t1.ID) {
		t.Errorf("TransferConversation filled transfer ID %q", t1.ID)
	}
	checkFresh(t, "Transfer.CreatedAt", t1.CreatedAt, start)
	if !parley.ValidID(note1.ID) || note1.Seq != 2 {
		t.Errorf("note filled with ID %q seq %d, want a valid id and seq 2", note1.ID, note1.Seq)
	}
	checkFresh(t, "note.CreatedAt", note1.CreatedAt, start)
	if got.Status != parley.StatusActive || got.AssigneeID != a.ID || got.LastSeq != 2 {
		t.Errorf("after transfer: status %s assignee %q LastSeq %d; want active, %q, 2", got.Status, got.AssigneeID, got.LastSeq, a.ID)
	}
	if got.LastMessagePreview != note1.Content {
		t.Errorf("LastMessagePreview = %q, want the system note %q", got.LastMessagePreview, note1.Content)
	}
	if got.LastCustomerSeq != 1 {
		t.Errorf("LastCustomerSeq = %d after a system note, want 1", got.LastCustomerSeq)
	}
	roundTrip(t, "GetConversation after transfer", mustGetConversation(t, s, c.ID), got)
	stored, err := s.GetMessage(ctx, note1.ID)
	must(t, err, "GetMessage(note)")
	roundTrip(t, "stored transfer note", stored, note1)

	time.Sleep(2 * time.Millisecond)
	t2 := &parley.Transfer{ConversationID: c.ID, FromAgentID: a.ID, ToAgentID: b.ID, ByUserID: a.ID, Reason: "shift ends"}
	got, err = s.TransferConversation(ctx, t2, transferNote(c.ID, "Transferred to "+b.Name))
	must(t, err, "TransferConversation(a -> b)")
	if got.AssigneeID != b.ID || got.LastSeq != 3 {
		t.Errorf("after second transfer: assignee %q LastSeq %d", got.AssigneeID, got.LastSeq)
	}

	ts, err := s.ListTransfers(ctx, c.ID)
	must(t, err, "ListTransfers")
	if len(ts) != 2 {
		t.Fatalf("ListTransfers = %d, want 2", len(ts))
	}
	roundTrip(t, "ListTransfers[0] (oldest)", ts[0], t1)
	roundTrip(t, "ListTransfers[1]", ts[1], t2)
	ts, err = s.ListTransfers(ctx, parley.NewID())
	must(t, err, "ListTransfers(unknown)")
	if len(ts) != 0 {
		t.Errorf("ListTransfers(unknown conversation) = %d", len(ts))
	}
}

func testTransferConflict(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, a.ID)
	mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "hi"))
	sn := takeSnapshot(t, s, c.ID)

	for _, tc := range []struct {
		name string
		from string
	}{
		{"from someone else", b.ID},
		{"from unassigned", ""},
	} {
		tr := &parley.Transfer{ConversationID: c.ID, FromAgentID: tc.from, ToAgentID: b.ID, ByUserID: b.ID}
		_, err := s.TransferConversation(ctx, tr, transferNote(c.ID, "Transferred"))
		wantCode(t, err, parley.ECONFLICT, "TransferConversation("+tc.name+")")
		sn.check(t, s, "after TransferConversation("+tc.name+")")
	}

	closed := mustConversation(t, s, parley.StatusClosed, a.ID)
	sn = takeSnapshot(t, s, closed.ID)
	tr := &parley.Transfer{ConversationID: closed.ID, FromAgentID: a.ID, ToAgentID: b.ID, ByUserID: a.ID}
	_, err := s.TransferConversation(ctx, tr, transferNote(closed.ID, "Transferred"))
	wantCode(t, err, parley.ECONFLICT, "TransferConversation(closed)")
	sn.check(t, s, "after TransferConversation(closed)")
}

func testTransferUnknownAgent(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, a.ID)
	mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "hi"))
	sn := takeSnapshot(t, s, c.ID)

	tr := &parley.Transfer{ConversationID: c.ID, FromAgentID: a.ID, ToAgentID: parley.NewID(), ByUserID: a.ID}
	note := transferNote(c.ID, "Transferred to a ghost")
	note.ID = parley.NewID()
	tr.ID = parley.NewID()
	_, err := s.TransferConversation(ctx, tr, note)
	wantCode(t, err, parley.ENOTFOUND, "TransferConversation(unknown agent)")
	sn.check(t, s, "after TransferConversation(unknown agent)")
	_, err = s.GetMessage(ctx, note.ID)
	wantCode(t, err, parley.ENOTFOUND, "note of a failed transfer")

	// The seq the failed transfer would have used is still free.
	m := mustAppend(t, s, textMessage(c.ID, parley.SenderAgent, a.ID, "still here"))
	if m.Seq != 2 {
		t.Errorf("next message after a failed transfer got seq %d, want 2", m.Seq)
	}

	tr = &parley.Transfer{ConversationID: parley.NewID(), ToAgentID: a.ID, ByUserID: a.ID}
	_, err = s.TransferConversation(ctx, tr, transferNote(tr.ConversationID, "x"))
	wantCode(t, err, parley.ENOTFOUND, "TransferConversation(unknown conversation)")
}

func testTransferInvalid(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, a.ID)
	sn := takeSnapshot(t, s, c.ID)
	cases := []struct {
		name string
		edit func(tr *parley.Transfer, note *parley.Message)
	}{
		{"no target", func(tr *parley.Transfer, _ *parley.Message) { tr.ToAgentID = "" }},
		{"malformed target", func(tr *parley.Transfer, _ *parley.Message) { tr.ToAgentID = "b" }},
		{"no actor", func(tr *parley.Transfer, _ *parley.Message) { tr.ByUserID = "" }},
		{"long reason", func(tr *parley.Transfer, _ *parley.Message) { tr.Reason = strings.Repeat("r", parley.MaxReasonLen+1) }},
		{"NUL in reason", func(tr *parley.Transfer, _ *parley.Message) { tr.Reason = "\x00" }},
		{"empty note", func(_ *parley.Transfer, n *parley.Message) { n.Content = "" }},
		{"note with a sender", func(_ *parley.Transfer, n *parley.Message) { n.SenderID = a.ID }},
	}
	for _, tc := range cases {
		tr := &parley.Transfer{ConversationID: c.ID, FromAgentID: a.ID, ToAgentID: b.ID, ByUserID: a.ID, Reason: "ok"}
		note := transferNote(c.ID, "Transferred")
		tc.edit(tr, note)
		_, err := s.TransferConversation(ctx, tr, note)
		wantCode(t, err, parley.EINVALID, "TransferConversation("+tc.name+")")
		sn.check(t, s, "after TransferConversation("+tc.name+")")
	}
}
