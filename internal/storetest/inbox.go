package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

var inboxTests = []test{
	{"FiltersOrderUnread", testInboxFilters},
	{"PaginationWalksEveryRowOnce", testInboxPagination},
	{"ActivityMovesToTop", testInboxActivity},
	{"DefaultAndMaxLimit", testInboxLimits},
	{"Invalid", testInboxInvalid},
	{"UnreadTotalsFollowEveryChange", testInboxUnreadTotals},
}

// inboxFixture is a small inbox whose expected answers are computed here
// from what was written, independently of the store.
type inboxFixture struct {
	convs        map[string]*parley.Conversation
	customerSeqs map[string][]int64          // conversation -> seqs of customer messages
	lastRead     map[string]map[string]int64 // viewer -> conversation -> last read seq
}

func (fx *inboxFixture) activity(c *parley.Conversation) (at int64) {
	if c.LastMessageAt != nil {
		return c.LastMessageAt.UnixMicro()
	}
	return c.CreatedAt.UnixMicro()
}

// expect returns, newest activity first, the conversations keep selects.
func (fx *inboxFixture) expect(keep func(c *parley.Conversation) bool) []*parley.Conversation {
	var out []*parley.Conversation
	for _, c := range fx.convs {
		if keep(c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *parley.Conversation) int {
		if x, y := fx.activity(a), fx.activity(b); x != y {
			if x > y {
				return -1
			}
			return 1
		}
		return -strings.Compare(a.ID, b.ID)
	})
	return out
}

func (fx *inboxFixture) unread(viewer, convID string) int {
	read := fx.lastRead[viewer][convID]
	n := 0
	for _, sq := range fx.customerSeqs[convID] {
		if sq > read {
			n++
		}
	}
	return n
}

// refresh rereads every conversation so expectations use stored times.
func (fx *inboxFixture) refresh(t testing.TB, s parley.Store) {
	t.Helper()
	for id := range fx.convs {
		fx.convs[id] = mustGetConversation(t, s, id)
	}
}

func (fx *inboxFixture) add(t testing.TB, s parley.Store, status parley.Status, assignee string) *parley.Conversation {
	t.Helper()
	c := mustConversation(t, s, status, assignee)
	fx.convs[c.ID] = c
	return c
}

func (fx *inboxFixture) say(t testing.TB, s parley.Store, c *parley.Conversation, st parley.SenderType, sender string) {
	t.Helper()
	var m *parley.Message
	switch st {
	case parley.SenderCustomer:
		m = textMessage(c.ID, st, c.CustomerID, "question")
	case parley.SenderSystem:
		m = textMessage(c.ID, st, "", "Assigned")
	default:
		m = textMessage(c.ID, st, sender, "answer")
	}
	mustAppend(t, s, m)
	if st == parley.SenderCustomer {
		fx.customerSeqs[c.ID] = append(fx.customerSeqs[c.ID], m.Seq)
	}
}

func (fx *inboxFixture) read(t testing.TB, s parley.Store, viewer string, c *parley.Conversation, seq int64) {
	t.Helper()
	_, err := s.MarkRead(t.Context(), c.ID, viewer, parley.ParticipantAgent, seq)
	must(t, err, "MarkRead")
	if fx.lastRead[viewer] == nil {
		fx.lastRead[viewer] = map[string]int64{}
	}
	fx.lastRead[viewer][c.ID] = max(fx.lastRead[viewer][c.ID], seq)
}

// checkInbox lists f page by page with each limit and compares every page to
// want: order, rows, unread counts and totals.
func (fx *inboxFixture) checkInbox(t testing.TB, s parley.Store, name string, f parley.InboxFilter, want []*parley.Conversation) {
	t.Helper()
	wantUnreadConvs := 0
	for _, c := range want {
		if fx.unread(f.Viewer, c.ID) > 0 {
			wantUnreadConvs++
		}
	}
	for _, limit := range []int{parley.MaxPageSize, 3, 1} {
		f.Limit = limit
		f.Cursor = ""
		var got []parley.InboxEntry
		for pages := 1; ; pages++ {
			page, err := s.ListConversations(t.Context(), f)
			if err != nil {
				t.Errorf("%s (limit %d, page %d): %v", name, limit, pages, err)
				return
			}
			if len(page.Entries) > limit {
				t.Errorf("%s (limit %d): page of %d", name, limit, len(page.Entries))
			}
			if page.Total != len(want) {
				t.Errorf("%s (limit %d, page %d): Total %d, want %d", name, limit, pages, page.Total, len(want))
			}
			if page.UnreadConversations != wantUnreadConvs {
				t.Errorf("%s (limit %d, page %d): UnreadConversations %d, want %d", name, limit, pages, page.UnreadConversations, wantUnreadConvs)
			}
			got = append(got, page.Entries...)
			if page.NextCursor == "" {
				break
			}
			if len(page.Entries) == 0 {
				t.Errorf("%s (limit %d): empty page %d with a next cursor", name, limit, pages)
				break
			}
			if pages > len(want)+2 {
				t.Errorf("%s (limit %d): %d pages for %d rows", name, limit, pages, len(want))
				break
			}
			f.Cursor = page.NextCursor
		}
		var gotIDs []string
		for _, e := range got {
			gotIDs = append(gotIDs, e.Conversation.ID)
		}
		if !slices.Equal(gotIDs, convIDs(want)) {
			t.Errorf("%s (limit %d): got\n\t%v\nwant (newest activity first)\n\t%v", name, limit, gotIDs, convIDs(want))
			continue
		}
		for i, e := range got {
			roundTrip(t, name+" entry", e.Conversation, want[i])
			if u := fx.unread(f.Viewer, want[i].ID); e.Unread != u {
				t.Errorf("%s (limit %d): Unread of %s = %d, want %d", name, limit, want[i].ID, e.Unread, u)
			}
		}
	}
}

func newInboxFixture() *inboxFixture {
	return &inboxFixture{
		convs:        map[string]*parley.Conversation{},
		customerSeqs: map[string][]int64{},
		lastRead:     map[string]map[string]int64{},
	}
}

func testInboxFilters(t *testing.T, s parley.Store) {
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	fx := newInboxFixture()
	w1 := fx.add(t, s, parley.StatusWaiting, "")
	w2 := fx.add(t, s, parley.StatusWaiting, "")
	w3 := fx.add(t, s, parley.StatusWaiting, b.ID)
	a1 := fx.add(t, s, parley.StatusActive, a.ID)
	a2 := fx.add(t, s, parley.StatusActive, a.ID)
	a3 := fx.add(t, s, parley.StatusActive, b.ID)
	c1 := fx.add(t, s, parley.StatusClosed, a.ID)
	c2 := fx.add(t, s, parley.StatusClosed, "")
	_ = w2
	_ = a2
	_ = c2

	// Messages in an order unrelated to creation, so activity differs from it.
	fx.say(t, s, a1, parley.SenderCustomer, "")
	fx.say(t, s, w1, parley.SenderCustomer, "")
	fx.say(t, s, a1, parley.SenderAgent, a.ID)
	fx.say(t, s, c1, parley.SenderCustomer, "")
	fx.say(t, s, a3, parley.SenderCustomer, "")
	fx.say(t, s, w1, parley.SenderCustomer, "")
	fx.say(t, s, a1, parley.SenderCustomer, "")
	fx.say(t, s, a1, parley.SenderSystem, "")
	fx.say(t, s, w3, parley.SenderCustomer, "")
	fx.say(t, s, a3, parley.SenderAgent, b.ID)
	fx.say(t, s, w1, parley.SenderCustomer, "")
	note := &parley.Message{ConversationID: a3.ID, SenderType: parley.SenderAgent, SenderID: b.ID, Kind: parley.KindNote, Content: "vip"}
	mustAppend(t, s, note)

	fx.read(t, s, a.ID, a1, 1) // a1: customer seqs 1,3 -> 1 unread for A
	fx.read(t, s, a.ID, c1, 1) // all read
	fx.read(t, s, b.ID, w1, 2) // w1: customer seqs 1,2,3 -> 1 unread for B
	fx.read(t, s, b.ID, a3, 9) // read past the end
	fx.read(t, s, a.ID, w3, 0) // joined, nothing read
	fx.refresh(t, s)

	all := func(*parley.Conversation) bool { return true }
	status := func(sts ...parley.Status) func(*parley.Conversation) bool {
		return func(c *parley.Conversation) bool { return slices.Contains(sts, c.Status) }
	}
	cases := []struct {
		name string
		f    parley.InboxFilter
		keep func(c *parley.Conversation) bool
	}{
		{"all", parley.InboxFilter{}, all},
		{"all, viewer A", parley.InboxFilter{Viewer: a.ID}, all},
		{"all, viewer B", parley.InboxFilter{Viewer: b.ID}, all},
		{"all, unknown viewer", parley.InboxFilter{Viewer: parley.NewID()}, all},
		{"waiting", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting}}, status(parley.StatusWaiting)},
		{"waiting+active, viewer A", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting, parley.StatusActive}, Viewer: a.ID},
			status(parley.StatusWaiting, parley.StatusActive)},
		{"closed", parley.InboxFilter{Statuses: []parley.Status{parley.StatusClosed}}, status(parley.StatusClosed)},
		{"assignee A, viewer A", parley.InboxFilter{AssigneeID: a.ID, Viewer: a.ID},
			func(c *parley.Conversation) bool { return c.AssigneeID == a.ID }},
		{"assignee A, active", parley.InboxFilter{AssigneeID: a.ID, Statuses: []parley.Status{parley.StatusActive}},
			func(c *parley.Conversation) bool { return c.AssigneeID == a.ID && c.Status == parley.StatusActive }},
		{"assignee nobody has", parley.InboxFilter{AssigneeID: parley.NewID()}, func(*parley.Conversation) bool { return false }},
		{"unassigned", parley.InboxFilter{Unassigned: true}, func(c *parley.Conversation) bool { return c.AssigneeID == "" }},
		{"unassigned waiting, viewer B", parley.InboxFilter{Unassigned: true, Statuses: []parley.Status{parley.StatusWaiting}, Viewer: b.ID},
			func(c *parley.Conversation) bool { return c.AssigneeID == "" && c.Status == parley.StatusWaiting }},
		{"customer", parley.InboxFilter{CustomerID: w1.CustomerID}, func(c *parley.Conversation) bool { return c.CustomerID == w1.CustomerID }},
		{"waiting or assigned to A, viewer A", parley.InboxFilter{WaitingOrAssignedTo: a.ID, Viewer: a.ID},
			func(c *parley.Conversation) bool { return c.Status == parley.StatusWaiting || c.AssigneeID == a.ID }},
		{"waiting or assigned to B, viewer B", parley.InboxFilter{WaitingOrAssignedTo: b.ID, Viewer: b.ID},
			func(c *parley.Conversation) bool { return c.Status == parley.StatusWaiting || c.AssigneeID == b.ID }},
		{"waiting or assigned to A, open only", parley.InboxFilter{WaitingOrAssignedTo: a.ID, Statuses: []parley.Status{parley.StatusWaiting, parley.StatusActive}},
			func(c *parley.Conversation) bool {
				return (c.Status == parley.StatusWaiting || c.AssigneeID == a.ID) && c.Status != parley.StatusClosed
			}},
	}
	for _, tc := range cases {
		fx.checkInbox(t, s, tc.name, tc.f, fx.expect(tc.keep))
	}
}

func testInboxPagination(t *testing.T, s parley.Store) {
	agent := mustUser(t, s, parley.RoleAgent)
	fx := newInboxFixture()
	var convs []*parley.Conversation
	for i := range 26 {
		st := []parley.Status{parley.StatusWaiting, parley.StatusActive, parley.StatusClosed}[i%3]
		assignee := ""
		if st != parley.StatusWaiting {
			assignee = agent.ID
		}
		convs = append(convs, fx.add(t, s, st, assignee))
	}
	// Touch every third conversation so activity and creation orders differ.
	for i := len(convs) - 1; i >= 0; i -= 3 {
		fx.say(t, s, convs[i/2], parley.SenderCustomer, "")
	}
	fx.refresh(t, s)
	want := fx.expect(func(*parley.Conversation) bool { return true })
	for _, limit := range []int{1, 2, 5, 13, 25, 26, 27} {
		seen := map[string]int{}
		var order []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatalf("limit %d: more than 30 pages", limit)
			}
			page, err := s.ListConversations(t.Context(), parley.InboxFilter{Limit: limit, Cursor: cursor})
			must(t, err, fmt.Sprintf("ListConversations(limit %d, page %d)", limit, pages+1))
			for _, e := range page.Entries {
				seen[e.Conversation.ID]++
				order = append(order, e.Conversation.ID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("limit %d: %s listed %d times", limit, id, n)
			}
		}
		if !slices.Equal(order, convIDs(want)) {
			t.Errorf("limit %d: walked %d rows in order\n\t%v\nwant %d\n\t%v", limit, len(order), order, len(want), convIDs(want))
		}
	}
	fx.checkInbox(t, s, "status active", parley.InboxFilter{Statuses: []parley.Status{parley.StatusActive}},
		fx.expect(func(c *parley.Conversation) bool { return c.Status == parley.StatusActive }))
}

func testInboxActivity(t *testing.T, s parley.Store) {
	ctx := t.Context()
	var convs []*parley.Conversation
	for range 4 {
		convs = append(convs, mustConversation(t, s, parley.StatusWaiting, ""))
	}
	first := func() string {
		page, err := s.ListConversations(ctx, parley.InboxFilter{Limit: 1})
		must(t, err, "ListConversations")
		if len(page.Entries) != 1 {
			t.Fatalf("ListConversations(limit 1) = %d entries", len(page.Entries))
		}
		return page.Entries[0].Conversation.ID
	}
	if got := first(); got != convs[3].ID {
		t.Errorf("top of the inbox = %s, want the newest conversation %s", got, convs[3].ID)
	}
	for _, i := range []int{0, 2, 1} {
		c := convs[i]
		mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "ping"))
		if got := first(); got != c.ID {
			t.Errorf("after a message in conversation %d the top is %s, want %s", i, got, c.ID)
		}
	}
	// A note is activity too: LastMessageAt moves with every message.
	agent := mustUser(t, s, parley.RoleAgent)
	c := convs[3]
	mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID, Kind: parley.KindNote, Content: "n"})
	if got := first(); got != c.ID {
		t.Errorf("after a note the top is %s, want %s", got, c.ID)
	}
}

func testInboxLimits(t *testing.T, s parley.Store) {
	ctx := t.Context()
	n := parley.DefaultPageSize + 2
	for range n {
		mustConversation(t, s, parley.StatusWaiting, "")
	}
	page, err := s.ListConversations(ctx, parley.InboxFilter{})
	must(t, err, "ListConversations(limit 0)")
	if len(page.Entries) != parley.DefaultPageSize || page.NextCursor == "" || page.Total != n {
		t.Errorf("limit 0: %d entries, cursor %q, total %d; want %d, a cursor, %d", len(page.Entries), page.NextCursor, page.Total, parley.DefaultPageSize, n)
	}
	page, err = s.ListConversations(ctx, parley.InboxFilter{Cursor: page.NextCursor})
	must(t, err, "ListConversations(page 2)")
	if len(page.Entries) != 2 || page.NextCursor != "" {
		t.Errorf("page 2: %d entries, cursor %q; want 2 and none", len(page.Entries), page.NextCursor)
	}
	page, err = s.ListConversations(ctx, parley.InboxFilter{Limit: parley.MaxPageSize})
	must(t, err, "ListConversations(max limit)")
	if len(page.Entries) != n || page.NextCursor != "" {
		t.Errorf("max limit: %d entries, cursor %q; want %d and none", len(page.Entries), page.NextCursor, n)
	}
}

func testInboxInvalid(t *testing.T, s parley.Store) {
	ctx := t.Context()
	for range 3 {
		mustConversation(t, s, parley.StatusWaiting, "")
	}
	page, err := s.ListConversations(ctx, parley.InboxFilter{Limit: 1})
	must(t, err, "ListConversations")
	good := page.NextCursor
	if good == "" {
		t.Fatalf("no cursor after the first of 3 rows")
	}
	cases := []struct {
		name string
		f    parley.InboxFilter
	}{
		{"negative limit", parley.InboxFilter{Limit: -1}},
		{"limit over max", parley.InboxFilter{Limit: parley.MaxPageSize + 1}},
		{"unknown status", parley.InboxFilter{Statuses: []parley.Status{"snoozed"}}},
		{"one unknown status among good", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting, ""}}},
		{"garbage cursor", parley.InboxFilter{Cursor: "garbage"}},
		{"non-base64 cursor", parley.InboxFilter{Cursor: "%%%%"}},
		{"truncated cursor", parley.InboxFilter{Cursor: good[:len(good)/2]}},
		{"cursor with junk appended", parley.InboxFilter{Cursor: good + "!"}},
		{"long cursor", parley.InboxFilter{Cursor: strings.Repeat("QUFB", 500)}},
	}
	for _, tc := range cases {
		_, err := s.ListConversations(ctx, tc.f)
		wantCode(t, err, parley.EINVALID, "ListConversations("+tc.name+")")
	}
}

// testInboxUnreadTotals: the totals and unread counts stay exact through a
// long run of the changes that move them (a store may keep them as
// counters): customer and agent messages, read marks raised (past the last
// message too), status and assignee changes, deleted conversations and a
// deleted assignee, checked for every viewer and filter along the way.
func testInboxUnreadTotals(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agents := []*parley.User{mustUser(t, s, parley.RoleAgent), mustUser(t, s, parley.RoleAgent), mustUser(t, s, parley.RoleAgent)}
	doomed := mustUser(t, s, parley.RoleAgent)
	fx := newInboxFixture()
	statuses := []parley.Status{parley.StatusWaiting, parley.StatusActive, parley.StatusClosed}
	for i := range 12 {
		assignee := ""
		if i%3 != 0 {
			assignee = agents[i%len(agents)].ID
		}
		if i == 4 {
			assignee = doomed.ID
		}
		fx.add(t, s, statuses[i%3], assignee)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func() *parley.Conversation {
		ids := slices.Sorted(maps.Keys(fx.convs))
		return fx.convs[ids[rng.IntN(len(ids))]]
	}
	readers := append(slices.Clone(agents), doomed)
	check := func(step string) {
		t.Helper()
		fx.refresh(t, s)
		for _, v := range append([]string{""}, agents[0].ID, agents[1].ID) {
			fx.checkInbox(t, s, step+" all", parley.InboxFilter{Viewer: v}, fx.expect(func(*parley.Conversation) bool { return true }))
			fx.checkInbox(t, s, step+" active", parley.InboxFilter{Viewer: v, Statuses: []parley.Status{parley.StatusActive}},
				fx.expect(func(c *parley.Conversation) bool { return c.Status == parley.StatusActive }))
			fx.checkInbox(t, s, step+" unassigned", parley.InboxFilter{Viewer: v, Unassigned: true},
				fx.expect(func(c *parley.Conversation) bool { return c.AssigneeID == "" }))
			for _, a := range agents[:2] {
				fx.checkInbox(t, s, step+" assigned", parley.InboxFilter{Viewer: v, AssigneeID: a.ID},
					fx.expect(func(c *parley.Conversation) bool { return c.AssigneeID == a.ID }))
				fx.checkInbox(t, s, step+" waiting or own", parley.InboxFilter{Viewer: v, WaitingOrAssignedTo: a.ID},
					fx.expect(func(c *parley.Conversation) bool {
						return c.Status == parley.StatusWaiting || c.AssigneeID == a.ID
					}))
			}
		}
	}
	for step := range 240 {
		c := pick()
		switch r := rng.IntN(20); {
		case r < 6:
			fx.say(t, s, c, parley.SenderCustomer, "")
		case r < 8:
			fx.say(t, s, c, parley.SenderAgent, agents[0].ID)
		case r < 14:
			cur := mustGetConversation(t, s, c.ID)
			fx.read(t, s, readers[rng.IntN(len(readers))].ID, c, rng.Int64N(cur.LastSeq+2))
		case r < 16:
			st := statuses[rng.IntN(len(statuses))]
			_, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{Status: &st})
			if err != nil && !parley.IsCode(err, parley.ECONFLICT) { // a customer's second open conversation
				t.Fatalf("UpdateConversation: %v", err)
			}
		case r < 19:
			a := ""
			if k := rng.IntN(len(readers) + 1); k < len(readers) {
				a = readers[k].ID
			}
			_, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{AssigneeID: &a})
			must(t, err, "UpdateConversation")
		default:
			if len(fx.convs) > 6 {
				// Gone while agents are caught up on it.
				fx.say(t, s, c, parley.SenderCustomer, "")
				for _, a := range agents[:2] {
					fx.read(t, s, a.ID, c, mustGetConversation(t, s, c.ID).LastSeq)
				}
				must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
				delete(fx.convs, c.ID)
			}
		}
		if step == 120 {
			// The doomed agent's conversations lose their assignee, with
			// agents caught up on them.
			a := doomed.ID
			fx.say(t, s, c, parley.SenderCustomer, "")
			_, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{AssigneeID: &a})
			must(t, err, "UpdateConversation")
			for _, c := range fx.convs {
				if cur := mustGetConversation(t, s, c.ID); cur.AssigneeID == doomed.ID {
					for _, a := range agents[:2] {
						fx.read(t, s, a.ID, c, cur.LastSeq)
					}
				}
			}
			check("before DeleteUser")
			must(t, s.DeleteUser(ctx, doomed.ID), "DeleteUser")
			readers = agents
		}
	}
	check("after the run")
	// A reassignment alone (the status stays) moves the read marks too.
	c := fx.add(t, s, parley.StatusActive, agents[0].ID)
	fx.say(t, s, c, parley.SenderCustomer, "")
	for _, a := range agents[:2] {
		fx.read(t, s, a.ID, c, mustGetConversation(t, s, c.ID).LastSeq)
	}
	for _, to := range []string{agents[1].ID, ""} {
		_, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{AssigneeID: &to})
		must(t, err, "UpdateConversation")
		check("reassigned to " + to)
	}
}
