package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// Retimer overwrites the times a store recorded, so that a report can be
// checked against fixed data. Each store's tests implement it in SQL; no
// production code path moves a recorded time.
type Retimer interface {
	// RetimeConversation sets a conversation's creation time and, when not
	// nil, when it was first assigned, first answered and closed.
	RetimeConversation(ctx context.Context, id string, created time.Time, firstAssigned, firstResponse, closed *time.Time) error
	// RetimeRating sets when a conversation was rated.
	RetimeRating(ctx context.Context, conversationID string, at time.Time) error
}

var workflowTests = []struct {
	name string
	fn   func(t *testing.T, s parley.Store, r Retimer)
}{
	{"Assign/RoundRobin", plain(testAssignRoundRobin)},
	{"Assign/Capacity", plain(testAssignCapacity)},
	{"Assign/Rejected", plain(testAssignRejected)},
	{"Assign/ConcurrentClaims", plain(testAssignConcurrentClaims)},
	{"Assign/ConcurrentOffers", plain(testAssignConcurrentOffers)},
	{"Assign/WaitingQueue", plain(testWaitingConversations)},
	{"Rating", plain(testRating)},
	{"SOP/Versions", plain(testSOPVersions)},
	{"SOP/Search", plain(testSOPSearch)},
	{"SOP/Pins", plain(testSOPPins)},
	{"Report/Rejected", plain(testReportRejected)},
	{"Report/FixedData", testReportFixedData},
	{"Report/Empty", plain(testReportEmpty)},
}

func plain(fn func(t *testing.T, s parley.Store)) func(t *testing.T, s parley.Store, r Retimer) {
	return func(t *testing.T, s parley.Store, _ Retimer) { fn(t, s) }
}

// RunWorkflow runs the conformance checks of parley.WorkflowStore. open is
// as for Run; retime gives the Retimer of a store open returned.
func RunWorkflow(t *testing.T, open func(tb testing.TB) parley.Store, retime func(s parley.Store) Retimer) {
	for _, tc := range workflowTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			tc.fn(t, s, retime(s))
		})
	}
}

func onlineAgent(t testing.TB, s parley.Store, name string, maxChats int) *parley.User {
	t.Helper()
	u := newUser(parley.RoleAgent)
	u.Name, u.MaxChats = name, maxChats
	must(t, s.CreateUser(t.Context(), u), "CreateUser")
	return u
}

func testAssignRoundRobin(t *testing.T, s parley.Store) {
	ctx := t.Context()
	var online []*parley.User
	for i := range 3 {
		online = append(online, onlineAgent(t, s, "Agent "+itoa(i), 0))
	}
	away := onlineAgent(t, s, "Away", 0)
	_, err := s.UpdateUser(ctx, away.ID, parley.UserUpdate{Availability: ptr(parley.Away)})
	must(t, err, "UpdateUser(away)")
	off := onlineAgent(t, s, "Disabled", 0)
	_, err = s.UpdateUser(ctx, off.ID, parley.UserUpdate{Disabled: ptr(true)})
	must(t, err, "UpdateUser(disabled)")
	byID := slices.Clone(online)
	slices.SortFunc(byID, func(a, b *parley.User) int { return compare(a.ID, b.ID) })

	// Never assigned: in id order; then whoever was assigned longest ago.
	var got []string
	for range 7 {
		c := mustConversation(t, s, parley.StatusWaiting, "")
		out, err := s.AssignWaiting(ctx, c.ID, "")
		must(t, err, "AssignWaiting")
		if out.Status != parley.StatusActive || out.AssigneeID == "" {
			t.Fatalf("AssignWaiting: status %s assignee %q, want active and assigned", out.Status, out.AssigneeID)
		}
		roundTrip(t, "AssignWaiting result", out, mustGetConversation(t, s, c.ID))
		got = append(got, out.AssigneeID)
	}
	var want []string
	for i := range 7 {
		want = append(want, byID[i%3].ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("round-robin order %v, want %v", got, want)
	}
	// A claim counts as an assignment: the claimer goes to the back.
	c := mustConversation(t, s, parley.StatusWaiting, "")
	_, err = s.AssignWaiting(ctx, c.ID, byID[2].ID)
	must(t, err, "AssignWaiting(claim)")
	c = mustConversation(t, s, parley.StatusWaiting, "")
	out, err := s.AssignWaiting(ctx, c.ID, "")
	must(t, err, "AssignWaiting after a claim")
	if out.AssigneeID != byID[1].ID {
		t.Errorf("after %s claimed, the next offer went to %s, want %s", byID[2].Name, out.AssigneeID, byID[1].ID)
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testAssignCapacity(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := onlineAgent(t, s, "Alice", 2)
	c1 := mustConversation(t, s, parley.StatusWaiting, "")
	c2 := mustConversation(t, s, parley.StatusWaiting, "")
	c3 := mustConversation(t, s, parley.StatusWaiting, "")
	for _, c := range []*parley.Conversation{c1, c2} {
		out, err := s.AssignWaiting(ctx, c.ID, "")
		must(t, err, "AssignWaiting")
		if out.AssigneeID != a.ID {
			t.Fatalf("assigned to %q, want %s", out.AssigneeID, a.ID)
		}
	}
	// Full: an offer finds nobody and leaves the conversation waiting; a
	// claim is refused.
	out, err := s.AssignWaiting(ctx, c3.ID, "")
	must(t, err, "AssignWaiting with everyone full")
	if out.AssigneeID != "" || out.Status != parley.StatusWaiting {
		t.Errorf("with everyone full: assignee %q status %s, want it waiting", out.AssigneeID, out.Status)
	}
	_, err = s.AssignWaiting(ctx, c3.ID, a.ID)
	wantCode(t, err, parley.ECONFLICT, "claim by a full agent")
	if got := mustGetConversation(t, s, c3.ID); got.AssigneeID != "" || got.Status != parley.StatusWaiting {
		t.Errorf("a refused claim changed the conversation: %+v", got)
	}
	// Closing one frees a slot.
	_, err = s.UpdateConversation(ctx, c1.ID, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)})
	must(t, err, "close")
	out, err = s.AssignWaiting(ctx, c3.ID, "")
	must(t, err, "AssignWaiting after a slot freed")
	if out.AssigneeID != a.ID {
		t.Errorf("after a slot freed: assignee %q, want %s", out.AssigneeID, a.ID)
	}
	// MaxChats 0 is no limit; offline agents get nothing.
	b := onlineAgent(t, s, "Bob", 0)
	for range 3 {
		c := mustConversation(t, s, parley.StatusWaiting, "")
		out, err := s.AssignWaiting(ctx, c.ID, "")
		must(t, err, "AssignWaiting(no limit)")
		if out.AssigneeID != b.ID {
			t.Errorf("assignee %q, want the unlimited %s", out.AssigneeID, b.ID)
		}
	}
	_, err = s.UpdateUser(ctx, b.ID, parley.UserUpdate{Availability: ptr(parley.Offline)})
	must(t, err, "UpdateUser(offline)")
	c := mustConversation(t, s, parley.StatusWaiting, "")
	out, err = s.AssignWaiting(ctx, c.ID, "")
	must(t, err, "AssignWaiting(offline)")
	if out.AssigneeID != "" {
		t.Errorf("an offline agent was assigned %s", out.ID)
	}
	// A claim does not need the claimer online.
	out, err = s.AssignWaiting(ctx, c.ID, b.ID)
	must(t, err, "claim while offline")
	if out.AssigneeID != b.ID {
		t.Errorf("claim: assignee %q", out.AssigneeID)
	}
}

func testAssignRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := onlineAgent(t, s, "Alice", 0)
	active := mustConversation(t, s, parley.StatusActive, a.ID)
	closed := mustConversation(t, s, parley.StatusClosed, "")
	assignedWaiting := mustConversation(t, s, parley.StatusWaiting, a.ID)
	for _, c := range []*parley.Conversation{active, closed, assignedWaiting} {
		for _, agent := range []string{"", a.ID} {
			_, err := s.AssignWaiting(ctx, c.ID, agent)
			wantCode(t, err, parley.ECONFLICT, "AssignWaiting("+string(c.Status)+", agent "+quote(agent)+")")
		}
	}
	waiting := mustConversation(t, s, parley.StatusWaiting, "")
	_, err := s.AssignWaiting(ctx, parley.NewID(), "")
	wantCode(t, err, parley.ENOTFOUND, "AssignWaiting(unknown conversation)")
	_, err = s.AssignWaiting(ctx, "nope", a.ID)
	wantCode(t, err, parley.ENOTFOUND, "AssignWaiting(malformed conversation)")
	_, err = s.AssignWaiting(ctx, waiting.ID, parley.NewID())
	wantCode(t, err, parley.ENOTFOUND, "AssignWaiting(unknown agent)")
	_, err = s.AssignWaiting(ctx, waiting.ID, "nope")
	wantCode(t, err, parley.ENOTFOUND, "AssignWaiting(malformed agent)")
	if got := mustGetConversation(t, s, waiting.ID); got.AssigneeID != "" || got.Status != parley.StatusWaiting {
		t.Errorf("refused assignments changed the conversation: %+v", got)
	}
}

// testAssignConcurrentClaims: agents claiming one conversation at once:
// exactly one wins, the others get a conflict.
func testAssignConcurrentClaims(t *testing.T, s parley.Store) {
	ctx := t.Context()
	const n = 6
	var agents []*parley.User
	for i := range n {
		agents = append(agents, onlineAgent(t, s, "Agent "+itoa(i), 5))
	}
	for round := range 3 {
		c := mustConversation(t, s, parley.StatusWaiting, "")
		errs := make([]error, n+2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n + 2 {
			wg.Go(func() {
				<-start
				agent := ""
				if i < n {
					agent = agents[i].ID
				}
				var out *parley.Conversation
				out, errs[i] = s.AssignWaiting(ctx, c.ID, agent)
				if errs[i] == nil && out.AssigneeID == "" {
					errs[i] = parley.Errorf(parley.ECONFLICT, "nobody took it")
				}
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch parley.ErrorCode(err) {
			case "":
				wins++
			case parley.ECONFLICT:
			default:
				t.Errorf("round %d: %v, want nil or conflict", round, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d of the concurrent claims and offers won, want 1", round, wins)
		}
	}
}

// testAssignConcurrentOffers: conversations created and offered at once are
// each assigned at most once, and nobody gets more than MaxChats.
func testAssignConcurrentOffers(t *testing.T, s parley.Store) {
	ctx := t.Context()
	const agents, maxChats, conversations = 3, 2, 16
	var us []*parley.User
	for i := range agents {
		us = append(us, onlineAgent(t, s, "Agent "+itoa(i), maxChats))
	}
	var wg sync.WaitGroup
	errs := make(chan error, conversations*2)
	ids := make([]string, conversations)
	for i := range conversations {
		wg.Go(func() {
			cu := newCustomer()
			if err := s.CreateCustomer(ctx, cu); err != nil {
				errs <- err
				return
			}
			c := &parley.Conversation{Status: parley.StatusWaiting, CustomerID: cu.ID}
			if err := s.CreateConversation(ctx, c); err != nil {
				errs <- err
				return
			}
			ids[i] = c.ID
			// Two offers of the same conversation, as two nodes might make.
			var inner sync.WaitGroup
			for range 2 {
				inner.Go(func() {
					if _, err := s.AssignWaiting(ctx, c.ID, ""); err != nil && !parley.IsCode(err, parley.ECONFLICT) {
						errs <- err
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent offers: %v", err)
	}
	perAgent := map[string]int{}
	assigned := 0
	for _, id := range ids {
		if id == "" {
			continue
		}
		c := mustGetConversation(t, s, id)
		if c.AssigneeID != "" {
			assigned++
			perAgent[c.AssigneeID]++
			if c.Status != parley.StatusActive {
				t.Errorf("%s assigned but %s", c.ID, c.Status)
			}
		}
	}
	if assigned != agents*maxChats {
		t.Errorf("%d conversations assigned, want %d (every slot, no more)", assigned, agents*maxChats)
	}
	for _, u := range us {
		if perAgent[u.ID] != maxChats {
			t.Errorf("%s has %d conversations, want %d", u.Name, perAgent[u.ID], maxChats)
		}
	}
	waiting, err := s.WaitingConversations(ctx, parley.MaxPageSize)
	must(t, err, "WaitingConversations")
	if len(waiting) != conversations-agents*maxChats {
		t.Errorf("%d conversations still wait, want %d", len(waiting), conversations-agents*maxChats)
	}
}

func testWaitingConversations(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := onlineAgent(t, s, "Alice", 0)
	var want []string
	for i := range 5 {
		c := mustConversation(t, s, parley.StatusWaiting, "")
		if i == 2 {
			_, err := s.AssignWaiting(ctx, c.ID, a.ID)
			must(t, err, "claim")
			continue
		}
		want = append(want, c.ID)
	}
	mustConversation(t, s, parley.StatusClosed, "")
	mustConversation(t, s, parley.StatusWaiting, a.ID) // waiting but someone's: not in the queue
	got, err := s.WaitingConversations(ctx, 10)
	must(t, err, "WaitingConversations")
	if !slices.Equal(got, want) {
		t.Errorf("WaitingConversations = %v, want %v (oldest first)", got, want)
	}
	got, err = s.WaitingConversations(ctx, 2)
	must(t, err, "WaitingConversations(2)")
	if !slices.Equal(got, want[:2]) {
		t.Errorf("WaitingConversations(2) = %v, want %v", got, want[:2])
	}
	for _, bad := range []int{0, -1, parley.MaxPageSize + 1} {
		_, err := s.WaitingConversations(ctx, bad)
		wantCode(t, err, parley.EINVALID, "WaitingConversations("+itoa(bad)+")")
	}
}

func testRating(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusClosed, "")
	start := time.Now()
	r := &parley.Rating{ConversationID: c.ID, Score: 4, Comment: "Quick and kind ✓"}
	must(t, s.CreateRating(ctx, r), "CreateRating")
	checkFresh(t, "CreatedAt", r.CreatedAt, start)
	got, err := s.GetRating(ctx, c.ID)
	must(t, err, "GetRating")
	roundTrip(t, "GetRating", got, r)
	err = s.CreateRating(ctx, &parley.Rating{ConversationID: c.ID, Score: 1})
	wantCode(t, err, parley.ECONFLICT, "CreateRating twice")
	if got, _ := s.GetRating(ctx, c.ID); got == nil || got.Score != 4 {
		t.Errorf("a second rating changed the first: %+v", got)
	}
	err = s.CreateRating(ctx, &parley.Rating{ConversationID: parley.NewID(), Score: 3})
	wantCode(t, err, parley.ENOTFOUND, "CreateRating(unknown conversation)")
	other := mustConversation(t, s, parley.StatusClosed, "")
	for _, bad := range []parley.Rating{
		{ConversationID: other.ID, Score: 0},
		{ConversationID: other.ID, Score: 6},
		{ConversationID: other.ID, Score: 3, Comment: string(make([]rune, parley.MaxRatingCommentLen+1))},
		{ConversationID: other.ID, Score: 3, Comment: "a\x00b"},
		{ConversationID: "nope", Score: 3},
	} {
		wantCode(t, s.CreateRating(ctx, &bad), parley.EINVALID, "CreateRating(invalid)")
	}
	_, err = s.GetRating(ctx, other.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetRating(not rated)")
	_, err = s.GetRating(ctx, "nope")
	wantCode(t, err, parley.ENOTFOUND, "GetRating(malformed)")
	must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
	_, err = s.GetRating(ctx, c.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetRating after the conversation was deleted")
}

func testSOPVersions(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleTeamLead)
	b := mustUser(t, s, parley.RoleAdmin)
	d := newSOP(a.ID)
	must(t, s.CreateSOP(ctx, d), "CreateSOP")
	_, err := s.UpdateSOP(ctx, d.ID, parley.SOPUpdate{Body: ptr("Second body"), UpdatedBy: b.ID, ExpectVersion: 1})
	must(t, err, "UpdateSOP 2")
	_, err = s.UpdateSOP(ctx, d.ID, parley.SOPUpdate{Title: ptr("Third title"), Tags: []string{}, UpdatedBy: a.ID, ExpectVersion: 2})
	must(t, err, "UpdateSOP 3")
	_, err = s.UpdateSOP(ctx, d.ID, parley.SOPUpdate{Title: ptr("Lost"), UpdatedBy: b.ID, ExpectVersion: 2})
	wantCode(t, err, parley.ECONFLICT, "UpdateSOP(stale version)")
	vs, err := s.ListSOPVersions(ctx, d.ID)
	must(t, err, "ListSOPVersions")
	if len(vs) != 3 {
		t.Fatalf("%d versions, want 3 (a refused update keeps none)", len(vs))
	}
	cur, err := s.GetSOP(ctx, d.ID)
	must(t, err, "GetSOP")
	want := []struct {
		version     int
		title, body string
		tags        []string
		by          string
	}{
		{3, "Third title", "Second body", nil, a.ID},
		{2, d.Title, "Second body", d.Tags, b.ID},
		{1, d.Title, d.Body, d.Tags, a.ID},
	}
	for i, w := range want {
		v := vs[i]
		if v.DocumentID != d.ID || v.Version != w.version || v.Title != w.title || v.Body != w.body ||
			!slices.Equal(v.Tags, w.tags) || v.ChangedBy != w.by {
			t.Errorf("version %d = %+v, want %+v", i, v, w)
		}
		checkTimesOf(t, "ChangedAt", v.ChangedAt)
	}
	if !vs[0].ChangedAt.Equal(cur.UpdatedAt) || !vs[2].ChangedAt.Equal(d.CreatedAt) {
		t.Errorf("version times %v / %v, want the document's %v / %v", vs[0].ChangedAt, vs[2].ChangedAt, cur.UpdatedAt, d.CreatedAt)
	}
	if vs, err := s.ListSOPVersions(ctx, parley.NewID()); err != nil || len(vs) != 0 {
		t.Errorf("ListSOPVersions(unknown) = %v, %v; want empty", vs, err)
	}
	if vs, err := s.ListSOPVersions(ctx, "nope"); err != nil || len(vs) != 0 {
		t.Errorf("ListSOPVersions(malformed) = %v, %v; want empty", vs, err)
	}
	// The author's account goes; their versions stay, unsigned.
	must(t, s.DeleteUser(ctx, b.ID), "DeleteUser")
	vs, err = s.ListSOPVersions(ctx, d.ID)
	must(t, err, "ListSOPVersions after DeleteUser")
	if len(vs) != 3 || vs[1].ChangedBy != "" {
		t.Errorf("after the author was deleted: %+v", vs)
	}
	must(t, s.DeleteSOP(ctx, d.ID), "DeleteSOP")
	if vs, err := s.ListSOPVersions(ctx, d.ID); err != nil || len(vs) != 0 {
		t.Errorf("ListSOPVersions after DeleteSOP = %v, %v; want empty", vs, err)
	}
}

func checkTimesOf(t testing.TB, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC || tm.Nanosecond()%1000 != 0 || tm.IsZero() {
		t.Errorf("%s = %v: want a UTC time at microsecond precision", what, tm)
	}
}

func testSOPSearch(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleTeamLead)
	mk := func(title, body string, tags ...string) string {
		d := &parley.SOPDocument{Title: title, Body: body, Tags: tags, CreatedBy: a.ID, UpdatedBy: a.ID}
		must(t, s.CreateSOP(ctx, d), "CreateSOP("+title+")")
		return d.ID
	}
	refunds := mk("Refunds", "Check the **order** first.", "billing", "Payments")
	shipping := mk("Shipping delays", "Apologise; offer 10% off.", "logistics")
	escalation := mk("Escalation", "Call the TEAM lead when a customer asks for a refund.", "process")
	cafe := mk("Café hours", "Ünïcode body", "Ops_team")
	names := map[string]string{refunds: "Refunds", shipping: "Shipping", escalation: "Escalation", cafe: "Café"}
	for _, tc := range []struct {
		f    parley.SOPFilter
		want []string
	}{
		{parley.SOPFilter{}, []string{cafe, escalation, refunds, shipping}},
		{parley.SOPFilter{Query: "refund"}, []string{escalation, refunds}},    // body, title
		{parley.SOPFilter{Query: "REFUND"}, []string{escalation, refunds}},    // ASCII folds
		{parley.SOPFilter{Query: "team LEAD"}, []string{escalation}},          // body, mixed case
		{parley.SOPFilter{Query: "PAYM"}, []string{refunds}},                  // part of a tag
		{parley.SOPFilter{Query: "10%"}, []string{shipping}},                  // % is a plain character
		{parley.SOPFilter{Query: "%"}, []string{shipping}},                    // not a wildcard
		{parley.SOPFilter{Query: "_"}, []string{cafe}},                        // not a wildcard
		{parley.SOPFilter{Query: "café"}, []string{cafe}},                     // exact non-ASCII
		{parley.SOPFilter{Query: "CAFé"}, []string{cafe}},                     // C-A-F fold, é is é
		{parley.SOPFilter{Query: "cafÉ"}, nil},                                // é and É differ
		{parley.SOPFilter{Query: "ünï"}, nil},                                 // non-ASCII does not fold
		{parley.SOPFilter{Query: "Ünï"}, []string{cafe}},                      //
		{parley.SOPFilter{Tag: "billing"}, []string{refunds}},                 // whole tag
		{parley.SOPFilter{Tag: "PAYMENTS"}, []string{refunds}},                // folded
		{parley.SOPFilter{Tag: "pay"}, nil},                                   // not a part
		{parley.SOPFilter{Query: "order", Tag: "billing"}, []string{refunds}}, // both
		{parley.SOPFilter{Query: "order", Tag: "logistics"}, nil},
		{parley.SOPFilter{Limit: 2}, []string{cafe, escalation}},
		{parley.SOPFilter{Query: "nothing like it"}, nil},
	} {
		got, err := s.SearchSOPs(ctx, tc.f)
		must(t, err, "SearchSOPs")
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if !slices.Equal(ids, tc.want) {
			var gn, wn []string
			for _, id := range ids {
				gn = append(gn, names[id])
			}
			for _, id := range tc.want {
				wn = append(wn, names[id])
			}
			t.Errorf("SearchSOPs(%+v) = %v, want %v", tc.f, gn, wn)
		}
	}
	got, err := s.SearchSOPs(ctx, parley.SOPFilter{Query: "Refunds"})
	must(t, err, "SearchSOPs")
	want, err := s.GetSOP(ctx, refunds)
	must(t, err, "GetSOP")
	if len(got) != 1 {
		t.Fatalf("SearchSOPs(Refunds) = %d documents", len(got))
	}
	roundTrip(t, "SearchSOPs result", got[0], want)
	for _, bad := range []int{-1, parley.MaxPageSize + 1} {
		_, err := s.SearchSOPs(ctx, parley.SOPFilter{Limit: bad})
		wantCode(t, err, parley.EINVALID, "SearchSOPs(limit "+itoa(bad)+")")
	}
}

func testSOPPins(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	lead := mustUser(t, s, parley.RoleTeamLead)
	c := mustConversation(t, s, parley.StatusActive, a.ID)
	d1, d2 := newSOP(lead.ID), newSOP(lead.ID)
	must(t, s.CreateSOP(ctx, d1), "CreateSOP")
	must(t, s.CreateSOP(ctx, d2), "CreateSOP")
	must(t, s.PinSOP(ctx, c.ID, d2.ID, a.ID), "PinSOP d2")
	must(t, s.PinSOP(ctx, c.ID, d1.ID, lead.ID), "PinSOP d1")
	must(t, s.PinSOP(ctx, c.ID, d2.ID, lead.ID), "PinSOP d2 again")
	ps, err := s.ListPinnedSOPs(ctx, c.ID)
	must(t, err, "ListPinnedSOPs")
	if len(ps) != 2 || ps[0].Document.ID != d2.ID || ps[1].Document.ID != d1.ID {
		t.Fatalf("pins %+v, want d2 then d1", ps)
	}
	if ps[0].PinnedBy != a.ID || ps[1].PinnedBy != lead.ID || ps[0].ConversationID != c.ID {
		t.Errorf("pinned by %q, %q; want the first pinner kept", ps[0].PinnedBy, ps[1].PinnedBy)
	}
	checkTimesOf(t, "PinnedAt", ps[0].PinnedAt)
	roundTrip(t, "pinned document", ps[1].Document, d1)
	fresh := mustConversation(t, s, parley.StatusActive, a.ID)
	for _, bad := range [][3]string{
		{parley.NewID(), d1.ID, a.ID}, {c.ID, parley.NewID(), a.ID}, {fresh.ID, d1.ID, parley.NewID()},
		{"nope", d1.ID, a.ID}, {c.ID, "nope", a.ID},
	} {
		wantCode(t, s.PinSOP(ctx, bad[0], bad[1], bad[2]), parley.ENOTFOUND, "PinSOP(unknown)")
	}
	must(t, s.UnpinSOP(ctx, c.ID, d2.ID), "UnpinSOP")
	wantCode(t, s.UnpinSOP(ctx, c.ID, d2.ID), parley.ENOTFOUND, "UnpinSOP again")
	wantCode(t, s.UnpinSOP(ctx, "nope", d2.ID), parley.ENOTFOUND, "UnpinSOP(malformed)")
	must(t, s.DeleteSOP(ctx, d1.ID), "DeleteSOP")
	if ps, err := s.ListPinnedSOPs(ctx, c.ID); err != nil || len(ps) != 0 {
		t.Errorf("pins after the document was deleted: %v, %v", ps, err)
	}
	if ps, err := s.ListPinnedSOPs(ctx, parley.NewID()); err != nil || len(ps) != 0 {
		t.Errorf("ListPinnedSOPs(unknown) = %v, %v", ps, err)
	}
	must(t, s.PinSOP(ctx, c.ID, d2.ID, a.ID), "PinSOP")
	must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
	if ps, err := s.ListPinnedSOPs(ctx, c.ID); err != nil || len(ps) != 0 {
		t.Errorf("pins after the conversation was deleted: %v, %v", ps, err)
	}
}

func testReportRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []parley.ReportFilter{
		{To: from, Bucket: time.Hour},
		{From: from, Bucket: time.Hour},
		{From: from, To: from, Bucket: time.Hour},
		{From: from, To: from.Add(-time.Hour), Bucket: time.Hour},
		{From: from, To: from.Add(parley.MaxReportRange + time.Microsecond), Bucket: time.Hour},
		{From: from, To: from.Add(time.Hour), Bucket: time.Minute},
		{From: from, To: from.Add(time.Hour)},
	} {
		_, err := s.Report(ctx, f)
		wantCode(t, err, parley.EINVALID, "Report("+f.From.String()+" .. "+f.To.String()+")")
	}
	r, err := s.Report(ctx, parley.ReportFilter{From: from, To: from.Add(parley.MaxReportRange), Bucket: time.Hour})
	must(t, err, "Report(366 days)")
	if len(r.Queue) != 366*24 {
		t.Errorf("366 days hourly: %d samples, want %d", len(r.Queue), 366*24)
	}
}

func testReportEmpty(t *testing.T, s parley.Store) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := s.Report(t.Context(), parley.ReportFilter{From: from, To: from.Add(36 * time.Hour), Bucket: 24 * time.Hour})
	must(t, err, "Report")
	if r.Overall != (parley.ReportStats{}) || len(r.Agents) != 0 {
		t.Errorf("report of nothing: %+v", r)
	}
	want := []parley.QueueSample{{At: from}, {At: from.Add(24 * time.Hour)}}
	if !slices.Equal(r.Queue, want) {
		t.Errorf("queue %+v, want %+v", r.Queue, want)
	}
	if !r.From.Equal(from) || !r.To.Equal(from.Add(36*time.Hour)) {
		t.Errorf("range %v..%v", r.From, r.To)
	}
}

// testReportFixedData builds conversations through the store, moves their
// times to fixed minutes after from, and checks every figure (worked out by
// hand in the comments).
func testReportFixedData(t *testing.T, s parley.Store, rt Retimer) {
	ctx := t.Context()
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return from.Add(time.Duration(min) * time.Minute) }
	tp := func(min int) *time.Time { v := at(min); return &v }
	alice := onlineAgent(t, s, "Alice", 0)
	bob := onlineAgent(t, s, "Bob", 0)
	gone := onlineAgent(t, s, "Zed", 0)

	type conv struct {
		c                      *parley.Conversation
		created                int
		assigned, resp, closed *int
	}
	i := func(v int) *int { return &v }
	// claimed creates a waiting conversation and gives it to agent.
	claimed := func(agent *parley.User) *parley.Conversation {
		c := mustConversation(t, s, parley.StatusWaiting, "")
		out, err := s.AssignWaiting(ctx, c.ID, agent.ID)
		must(t, err, "AssignWaiting")
		return out
	}
	reply := func(c *parley.Conversation, agent *parley.User) {
		mustAppend(t, s, textMessage(c.ID, parley.SenderAgent, agent.ID, "On it."))
	}
	closeIt := func(c *parley.Conversation) {
		_, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)})
		must(t, err, "close")
	}
	rate := func(c *parley.Conversation, score, min int) {
		must(t, s.CreateRating(ctx, &parley.Rating{ConversationID: c.ID, Score: score}), "CreateRating")
		must(t, rt.RetimeRating(ctx, c.ID, at(min)), "RetimeRating")
	}
	var all []conv

	// c1: before the range; alice; closed at 50 (resolution 80), rated 5 at 55.
	c1 := mustConversation(t, s, parley.StatusActive, alice.ID)
	reply(c1, alice)
	closeIt(c1)
	all = append(all, conv{c1, -30, i(10), i(12), i(50)})
	// c2: bob; a note from alice first (not a reply), bob answers at 75
	// (first response 70), closed 200 (resolution 195), rated 3 at 210.
	c2 := claimed(bob)
	mustAppend(t, s, &parley.Message{ConversationID: c2.ID, SenderType: parley.SenderAgent, SenderID: alice.ID, Kind: parley.KindNote, Content: "psst"})
	mustAppend(t, s, textMessage(c2.ID, parley.SenderCustomer, c2.CustomerID, "hello?"))
	reply(c2, bob)
	closeIt(c2)
	all = append(all, conv{c2, 5, i(70), i(75), i(200)})
	// c3: alice at 25, answered at 30 (first response 10), still open.
	c3 := claimed(alice)
	reply(c3, alice)
	all = append(all, conv{c3, 20, i(25), i(30), nil})
	// c4: never assigned, closed while waiting at 130 (resolution 90).
	c4 := mustConversation(t, s, parley.StatusWaiting, "")
	closeIt(c4)
	all = append(all, conv{c4, 40, nil, nil, i(130)})
	// c5: waits from 100 on.
	c5 := mustConversation(t, s, parley.StatusWaiting, "")
	all = append(all, conv{c5, 100, nil, nil, nil})
	// c6: alice first, transferred to bob, who answers at 140 (first
	// response 10), closed 170 as bob's (resolution 40), rated 4 at 175.
	c6 := claimed(alice)
	_, err := s.TransferConversation(ctx, &parley.Transfer{ConversationID: c6.ID, FromAgentID: alice.ID, ToAgentID: bob.ID,
		ByUserID: alice.ID}, transferNote(c6.ID, "You are now talking to Bob."))
	must(t, err, "TransferConversation")
	reply(c6, bob)
	closeIt(c6)
	all = append(all, conv{c6, 130, i(131), i(140), i(170)})
	// c7: created at 350, in range, nothing else.
	c7 := mustConversation(t, s, parley.StatusWaiting, "")
	all = append(all, conv{c7, 350, nil, nil, nil})
	// c8: after the range: counts nowhere.
	c8 := claimed(alice)
	reply(c8, alice)
	closeIt(c8)
	rate(c8, 2, 420)
	all = append(all, conv{c8, 400, i(401), i(402), i(410)})
	// c9: alice at 15, answered 16 (first response 6), closed 30
	// (resolution 20), rated 1 after the range.
	c9 := claimed(alice)
	reply(c9, alice)
	closeIt(c9)
	all = append(all, conv{c9, 10, i(15), i(16), i(30)})
	// c10: on the 180 sample exactly, assigned to bob on the 240 one.
	c10 := claimed(bob)
	all = append(all, conv{c10, 180, i(240), nil, nil})
	// c11: zed's, closed at 300 (resolution 30); zed's account is then
	// deleted: the conversation counts overall only, as unassigned.
	c11 := claimed(gone)
	closeIt(c11)
	all = append(all, conv{c11, 270, i(280), nil, i(300)})

	for _, cv := range all {
		var fa, fr, cl *time.Time
		if cv.assigned != nil {
			fa = tp(*cv.assigned)
		}
		if cv.resp != nil {
			fr = tp(*cv.resp)
		}
		if cv.closed != nil {
			cl = tp(*cv.closed)
		}
		must(t, rt.RetimeConversation(ctx, cv.c.ID, at(cv.created), fa, fr, cl), "RetimeConversation")
	}
	rate(c1, 5, 55)
	rate(c2, 3, 210)
	rate(c6, 4, 175)
	rate(c9, 1, 400)
	must(t, s.DeleteUser(ctx, gone.ID), "DeleteUser")

	r, err := s.Report(ctx, parley.ReportFilter{From: from, To: at(360), Bucket: time.Hour})
	must(t, err, "Report")
	m := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	// Started in range: c2 c3 c4 c5 c6 c7 c9 c10 c11. Closed in range: c1
	// c2 c4 c6 c9 c11. First responses [6 10 10 70]: median rank 2, p90
	// rank 4. Resolutions [20 30 40 80 90 195]: median rank 3, p90 rank 6.
	wantOverall := parley.ReportStats{
		Started: 9, Closed: 6,
		FirstResponse: parley.DurationStats{Count: 4, Median: m(10), P90: m(70)},
		Resolution:    parley.DurationStats{Count: 6, Median: m(40), P90: m(195)},
		Satisfaction:  parley.RatingStats{Count: 3, Sum: 12, Distribution: [5]int{0, 0, 1, 1, 1}},
	}
	if r.Overall != wantOverall {
		t.Errorf("overall\n got %+v\nwant %+v", r.Overall, wantOverall)
	}
	wantAgents := []parley.AgentReport{
		// zed's account is gone: his first assignment still counts, nameless
		// (and so first: by name, then id).
		{AgentID: gone.ID, Name: "", ReportStats: parley.ReportStats{Started: 1}},
		// alice: first assignee of c3 c6 c9; closed c1 c9; answered c3 c9
		// first [6 10]; resolutions [20 80]; rated 5 (c1).
		{AgentID: alice.ID, Name: "Alice", ReportStats: parley.ReportStats{Started: 3, Closed: 2,
			FirstResponse: parley.DurationStats{Count: 2, Median: m(6), P90: m(10)},
			Resolution:    parley.DurationStats{Count: 2, Median: m(20), P90: m(80)},
			Satisfaction:  parley.RatingStats{Count: 1, Sum: 5, Distribution: [5]int{0, 0, 0, 0, 1}}}},
		// bob: first assignee of c2 c10; closed c2 c6; answered c2 c6
		// first [10 70]; resolutions [40 195]; rated 3 and 4.
		{AgentID: bob.ID, Name: "Bob", ReportStats: parley.ReportStats{Started: 2, Closed: 2,
			FirstResponse: parley.DurationStats{Count: 2, Median: m(10), P90: m(70)},
			Resolution:    parley.DurationStats{Count: 2, Median: m(40), P90: m(195)},
			Satisfaction:  parley.RatingStats{Count: 2, Sum: 7, Distribution: [5]int{0, 0, 1, 1, 0}}}},
	}
	if !slices.Equal(r.Agents, wantAgents) {
		t.Errorf("agents\n got %+v\nwant %+v", r.Agents, wantAgents)
	}
	// The queue at 0: c1. At 60: c2 c4. At 120: c4 c5. At 180: c5 c10.
	// At 240: c5 (c10 assigned on the sample). At 300: c5.
	wantQueue := []int{1, 2, 2, 2, 1, 1}
	if len(r.Queue) != len(wantQueue) {
		t.Fatalf("queue has %d samples, want %d", len(r.Queue), len(wantQueue))
	}
	for k, q := range r.Queue {
		if !q.At.Equal(at(60*k)) || q.Waiting != wantQueue[k] {
			t.Errorf("queue sample %d = %v %d, want %v %d", k, q.At, q.Waiting, at(60*k), wantQueue[k])
		}
	}
	if got := r.Overall.Satisfaction.Average(); got != 4 {
		t.Errorf("average satisfaction %v, want 4", got)
	}
	// By the day, over two days: the queue at from (c1) and a day later
	// (c5 c7, still waiting).
	r, err = s.Report(ctx, parley.ReportFilter{From: from, To: from.Add(48 * time.Hour), Bucket: 24 * time.Hour})
	must(t, err, "Report(daily)")
	if len(r.Queue) != 2 || r.Queue[0].Waiting != 1 || r.Queue[1].Waiting != 2 {
		t.Errorf("daily queue %+v, want 1 then 2", r.Queue)
	}
	if r.Overall.Started != 10 || r.Overall.Closed != 7 {
		t.Errorf("two days: started %d closed %d, want 10 and 7", r.Overall.Started, r.Overall.Closed)
	}
}
