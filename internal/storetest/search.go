package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var searchTests = []test{
	{"Words", testSearchWords},
	{"Scripts", testSearchScripts},
	{"PlainInput", testSearchPlainInput},
	{"Customers", testSearchCustomers},
	{"ConversationID", testSearchConversationID},
	{"Filters", testSearchFilters},
	{"Ranking", testSearchRanking},
	{"Pages", testSearchPages},
	{"Snippet", testSearchSnippet},
	{"FollowsWrites", testSearchFollowsWrites},
	{"Invalid", testSearchInvalid},
	{"ManyPrefixWords", testSearchManyPrefixWords},
}

var exportTests = []test{
	{"Walk", testExportWalk},
	{"VisitorError", testExportVisitorError},
	{"Invalid", testExportInvalid},
}

func mustSearch(t testing.TB, s parley.Store, q parley.SearchQuery) *parley.SearchPage {
	t.Helper()
	p, err := s.Search(t.Context(), q)
	if err != nil {
		t.Fatalf("Search(%q): %v", q.Text, err)
	}
	return p
}

// hitIDs names each hit: the message id, or "conv:" and the conversation id.
func hitIDs(p *parley.SearchPage) []string {
	out := make([]string, len(p.Hits))
	for i, h := range p.Hits {
		if h.Message != nil {
			out[i] = h.Message.ID
		} else {
			out[i] = string(h.Field) + ":" + h.Conversation.ID
		}
	}
	return out
}

// wantHits fails unless searching text finds exactly the messages want, in
// any order.
func wantHits(t testing.TB, s parley.Store, q parley.SearchQuery, want ...*parley.Message) {
	t.Helper()
	p := mustSearch(t, s, q)
	got := map[string]bool{}
	for _, h := range p.Hits {
		if h.Field != parley.FieldMessage {
			continue
		}
		got[h.Message.ID] = true
	}
	ok := len(got) == len(want)
	for _, m := range want {
		ok = ok && got[m.ID]
	}
	if !ok {
		var names []string
		for _, h := range p.Hits {
			if h.Message != nil {
				names = append(names, fmt.Sprintf("%q", h.Message.Content))
			}
		}
		var wants []string
		for _, m := range want {
			wants = append(wants, fmt.Sprintf("%q", m.Content))
		}
		t.Errorf("Search(%q): found [%s], want [%s]", q.Text, strings.Join(names, ", "), strings.Join(wants, ", "))
	}
}

func testSearchWords(t *testing.T, s parley.Store) {
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)
	refund := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "I need a Refund for order #4821, please."))
	parcel := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "Where is my parcel? It was due on Monday."))
	note := mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID,
		Kind: parley.KindNote, Content: "Customer is upset about the refund; escalate if it recurs."})
	sys := mustAppend(t, s, textMessage(c.ID, parley.SenderSystem, "", "Agent joined the conversation."))
	file := mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{newAttachment("invoice-2024-03.pdf")}})

	q := func(text string) parley.SearchQuery { return parley.SearchQuery{Text: text} }
	wantHits(t, s, q("refund"), refund, note)
	wantHits(t, s, q("REFUND"), refund, note)                                                    // case-insensitive
	wantHits(t, s, q("ReFu"), refund, note)                                                      // prefix
	wantHits(t, s, q("re"), []*parley.Message{}...)                                              // under PrefixMinRunes: whole words only
	wantHits(t, s, q("a"), refund)                                                               // a whole one-letter word
	wantHits(t, s, q("refund order"), refund)                                                    // every word (AND)
	wantHits(t, s, q("refund parcel"), []*parley.Message{}...)                                   // never in one message
	wantHits(t, s, q(`"order 4821"`), refund)                                                    // phrase
	wantHits(t, s, q(`"4821 order"`), []*parley.Message{}...)                                    // phrase in the wrong order
	wantHits(t, s, q("#4821,"), refund)                                                          // punctuation is not a word
	wantHits(t, s, q("joined"), sys)                                                             // system messages
	wantHits(t, s, q("invoice"), file)                                                           // file names
	wantHits(t, s, q("invoice-2024"), file)                                                      // split words stand together
	wantHits(t, s, q("2024-invoice"), []*parley.Message{}...)                                    // ... in their order
	wantHits(t, s, parley.SearchQuery{Text: "refund", ExcludeNotes: true}, refund)               // a visitor's view
	wantHits(t, s, parley.SearchQuery{Text: "upset", ExcludeNotes: true})                        // notes never show
	wantHits(t, s, parley.SearchQuery{Text: "parcel monday due"}, parcel)                        // words in any order
	wantHits(t, s, parley.SearchQuery{Text: "parcel monday tuesday"})                            // one word missing
	wantHits(t, s, parley.SearchQuery{Text: "   refund   "}, refund, note)                       // blanks around
	wantHits(t, s, parley.SearchQuery{Text: "refund refund REFUND"}, refund, note)               // repeats
	wantHits(t, s, parley.SearchQuery{Text: "escalat recur"}, note)                              // two prefixes
	wantHits(t, s, parley.SearchQuery{Text: "\"unclosed phrase refund"}, []*parley.Message{}...) // runs to the end
}

func testSearchScripts(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	say := func(text string) *parley.Message {
		return mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, text))
	}
	ru := say("Здравствуйте! Мне нужен ВОЗВРАТ денег за заказ.")
	el := say("Καλημέρα, θέλω επιστροφή χρημάτων.")
	zh := say("你好，我想退款。订单号是4821。")
	ja := say("こんにちは、返金をお願いします。")
	accent := say("Le café était froid.")
	wantHits(t, s, parley.SearchQuery{Text: "возврат"}, ru)
	wantHits(t, s, parley.SearchQuery{Text: "ЗДРАВСТВУЙТЕ"}, ru)
	wantHits(t, s, parley.SearchQuery{Text: "возвр"}, ru)
	wantHits(t, s, parley.SearchQuery{Text: "ΚΑΛΗΜΈΡΑ"}, el)
	wantHits(t, s, parley.SearchQuery{Text: "επιστροφή"}, el)
	wantHits(t, s, parley.SearchQuery{Text: "退款"}, zh)
	wantHits(t, s, parley.SearchQuery{Text: "款退"})
	wantHits(t, s, parley.SearchQuery{Text: "订单号"}, zh)
	wantHits(t, s, parley.SearchQuery{Text: "4821"}, zh)
	wantHits(t, s, parley.SearchQuery{Text: "返金"}, ja)
	wantHits(t, s, parley.SearchQuery{Text: "café"}, accent)
	// No accent folding: both stores keep words as written, lower-cased.
	wantHits(t, s, parley.SearchQuery{Text: "cafe"})
	wantHits(t, s, parley.SearchQuery{Text: "CAFÉ"}, accent)
}

func testSearchPlainInput(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	refund := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "refund near the parcel or not"))
	other := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "something else entirely"))
	// Each input would be syntax to FTS5, tsquery or SQL; here every
	// character is plain text: no error, and words mean only themselves.
	cases := []struct {
		q    string
		want []*parley.Message
	}{
		{`"`, nil}, {`""`, nil}, {`*`, nil}, {`-`, nil}, {`(`, nil}, {`)`, nil}, {`:*`, nil}, {`&|!`, nil},
		{`'`, nil}, {`\`, nil}, {`%`, nil}, {`_`, nil}, {`^`, nil}, {`{}`, nil}, {`<->`, nil}, {`@@`, nil},
		{`refund*`, []*parley.Message{refund}},
		{`-refund`, []*parley.Message{refund}},
		{`refund -parcel`, []*parley.Message{refund}},
		{`refund OR else`, nil}, // OR is a word; "or" is in refund's text, "else" is not
		{`refund OR parcel`, []*parley.Message{refund}},
		{`NEAR(refund parcel)`, nil}, // "near(refund" holds two words that must stand together
		{`refund NOT parcel`, []*parley.Message{refund}},
		{`refund AND`, nil},
		{`(refund`, []*parley.Message{refund}},
		{`refund:*`, []*parley.Message{refund}},
		{`refund & parcel`, []*parley.Message{refund}},
		{`refund | else`, nil},
		{`!refund`, []*parley.Message{refund}},
		{`'refund'`, []*parley.Message{refund}},
		{`refund'; DROP TABLE messages; --`, nil},
		{`' OR 1=1 --`, nil},
		{`") OR 1=1 --`, nil},
		{`%refund%`, []*parley.Message{refund}},
		{`\'refund\'`, []*parley.Message{refund}},
		{`"refund" "near"`, []*parley.Message{refund}},
		{`{refund}`, []*parley.Message{refund}},
		{`refund^2`, nil},
		{"refund\x01near", []*parley.Message{refund}}, // a control character splits a word, whose parts then stand together
		{"entirely\tsomething", []*parley.Message{other}},
	}
	for _, tc := range cases {
		p, err := s.Search(t.Context(), parley.SearchQuery{Text: tc.q})
		if err != nil {
			t.Errorf("Search(%q): %v", tc.q, err)
			continue
		}
		if tc.want == nil && len(p.Hits) != 0 {
			t.Errorf("Search(%q): %v, want nothing", tc.q, hitIDs(p))
		}
		wantHits(t, s, parley.SearchQuery{Text: tc.q}, tc.want...)
	}
	// Nothing was changed by any of it.
	if n := len(mustMessages(t, s, c.ID, parley.MessageFilter{})); n != 2 {
		t.Errorf("%d messages after the searches, want 2", n)
	}
	wantHits(t, s, parley.SearchQuery{Text: "refund"}, refund)
}

func testSearchCustomers(t *testing.T, s parley.Store) {
	cu := newCustomer()
	cu.Name, cu.Email = "Marta Kowalska", "marta.k@example.org"
	must(t, s.CreateCustomer(t.Context(), cu), "CreateCustomer")
	c1 := mustConversationFor(t, s, cu.ID, parley.StatusClosed, "")
	c2 := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	other := mustConversation(t, s, parley.StatusWaiting, "")
	mustAppend(t, s, textMessage(other.ID, parley.SenderCustomer, other.CustomerID, "hello there"))

	for _, text := range []string{"kowalska", "MARTA", "kowal", "marta.k@example.org", "marta kowalska", `"marta kowalska"`} {
		p := mustSearch(t, s, parley.SearchQuery{Text: text})
		got := map[string]bool{}
		for _, h := range p.Hits {
			if h.Field != parley.FieldCustomer {
				t.Errorf("Search(%q): a %s hit, want only customer hits", text, h.Field)
				continue
			}
			got[h.Conversation.ID] = true
			if h.CustomerName != cu.Name || h.CustomerEmail != cu.Email {
				t.Errorf("Search(%q): hit names %q <%s>", text, h.CustomerName, h.CustomerEmail)
			}
		}
		if len(got) != 2 || !got[c1.ID] || !got[c2.ID] {
			t.Errorf("Search(%q): %d conversations %v, want the customer's two", text, len(got), got)
		}
	}
	wantNone := func(text string) {
		t.Helper()
		if p := mustSearch(t, s, parley.SearchQuery{Text: text}); len(p.Hits) != 0 {
			t.Errorf("Search(%q): %d hits, want none", text, len(p.Hits))
		}
	}
	wantNone(`"org marta"`)
	wantNone("example.org.marta")
	// Filters apply to the customer's conversations.
	p := mustSearch(t, s, parley.SearchQuery{Text: "kowalska", Statuses: []parley.Status{parley.StatusWaiting}})
	if ids := hitIDs(p); len(ids) != 1 || ids[0] != "customer:"+c2.ID {
		t.Errorf("customer search with status=waiting: %v, want only %s", ids, c2.ID)
	}
}

func testSearchConversationID(t *testing.T, s parley.Store) {
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)
	mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "hello"))
	other := mustConversation(t, s, parley.StatusWaiting, "")
	m := mustAppend(t, s, textMessage(other.ID, parley.SenderCustomer, other.CustomerID, "hello again, about "+c.ID[24:]))
	for _, text := range []string{c.ID, strings.ToUpper(c.ID), "  " + c.ID + " "} {
		p := mustSearch(t, s, parley.SearchQuery{Text: text})
		if len(p.Hits) != 1 || p.Hits[0].Field != parley.FieldConversationID || p.Hits[0].Conversation.ID != c.ID {
			t.Errorf("Search(%q): %v, want the conversation alone", text, hitIDs(p))
		}
	}
	// An id together with words finds both, the id first.
	p := mustSearch(t, s, parley.SearchQuery{Text: c.ID + " hello"})
	if len(p.Hits) < 3 || p.Hits[0].Field != parley.FieldConversationID {
		t.Errorf("id and a word: %v, want the id hit first then the messages", hitIDs(p))
	}
	// An id the caller may not see, or outside the filters, is not found.
	p = mustSearch(t, s, parley.SearchQuery{Text: c.ID, WaitingOrAssignedTo: parley.NewID()})
	if len(p.Hits) != 0 {
		t.Errorf("an id outside the caller's view: %v", hitIDs(p))
	}
	p = mustSearch(t, s, parley.SearchQuery{Text: c.ID, Statuses: []parley.Status{parley.StatusClosed}})
	if len(p.Hits) != 0 {
		t.Errorf("an id outside the status filter: %v", hitIDs(p))
	}
	if p := mustSearch(t, s, parley.SearchQuery{Text: parley.NewID()}); len(p.Hits) != 0 {
		t.Errorf("an unknown id: %v", hitIDs(p))
	}
	// Part of an id is a word like any other.
	wantHits(t, s, parley.SearchQuery{Text: c.ID[24:]}, m)
}

func testSearchFilters(t *testing.T, s parley.Store) {
	a1, a2 := mustUser(t, s, parley.RoleAgent), mustUser(t, s, parley.RoleAgent)
	waiting := mustConversation(t, s, parley.StatusWaiting, "")
	mine := mustConversation(t, s, parley.StatusActive, a1.ID)
	theirs := mustConversation(t, s, parley.StatusActive, a2.ID)
	closed := mustConversation(t, s, parley.StatusClosed, a1.ID)
	say := func(c *parley.Conversation) *parley.Message {
		return mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "shipping question"))
	}
	mw, mm, mt := say(waiting), say(mine), say(theirs)
	mid := parley.Now().Add(time.Microsecond)
	for !parley.Now().After(mid) {
		time.Sleep(time.Millisecond)
	}
	mc := say(closed)
	q := parley.SearchQuery{Text: "shipping"}
	wantHits(t, s, q, mw, mm, mt, mc)
	f := q
	f.Statuses = []parley.Status{parley.StatusActive}
	wantHits(t, s, f, mm, mt)
	f.Statuses = []parley.Status{parley.StatusWaiting, parley.StatusClosed}
	wantHits(t, s, f, mw, mc)
	f = q
	f.AssigneeID = a1.ID
	wantHits(t, s, f, mm, mc)
	f = q
	f.WaitingOrAssignedTo = a1.ID
	wantHits(t, s, f, mw, mm, mc)
	f.AssigneeID = a2.ID // both: nothing is assigned to a2 and visible to a1
	wantHits(t, s, f)
	f = q
	f.To = mid
	wantHits(t, s, f, mw, mm, mt)
	f = q
	f.From = mid
	wantHits(t, s, f, mc)
	f.To = mc.CreatedAt // To is exclusive
	wantHits(t, s, f)
	f.To = mc.CreatedAt.Add(time.Microsecond)
	wantHits(t, s, f, mc)
}

func testSearchRanking(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	say := func(text string) *parley.Message {
		return mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, text))
	}
	// Written weakest first, so recency alone would give the wrong order.
	long := say("I wrote about many things today, the weather, my garden, the neighbours, and at the end also the word refunding somewhere in here.")
	once := say("Could I get a refund somewhere in the next days please")
	twice := say("Refund please, a refund.")
	phrase := say("refund policy")
	p := mustSearch(t, s, parley.SearchQuery{Text: "refund"})
	want := []string{twice.ID, phrase.ID, once.ID, long.ID}
	if got := hitIDs(p); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ranking of refund: %v, want %v (by content: twice, short, once, prefix only in a long text)", got, want)
	}
	for i := 1; i < len(p.Hits); i++ {
		if p.Hits[i].Score > p.Hits[i-1].Score {
			t.Errorf("scores not descending: %v then %v", p.Hits[i-1].Score, p.Hits[i].Score)
		}
	}
	// The phrase adds to the score of the message that holds it.
	p = mustSearch(t, s, parley.SearchQuery{Text: "refund policy"})
	if got := hitIDs(p); len(got) != 1 || got[0] != phrase.ID {
		t.Errorf("refund policy: %v, want only %s", got, phrase.ID)
	}
	// Equal scores: newest first.
	a := say("duplicate words here")
	b := say("duplicate words here")
	p = mustSearch(t, s, parley.SearchQuery{Text: "duplicate"})
	if got := hitIDs(p); len(got) != 2 || got[0] != b.ID || got[1] != a.ID {
		t.Errorf("ties: %v, want newest (%s) first", got, b.ID)
	}
}

func testSearchPages(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	cu := newCustomer()
	cu.Name = "Paging Person"
	must(t, s.CreateCustomer(t.Context(), cu), "CreateCustomer")
	mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	for i := range 11 {
		text := "paging " + strings.Repeat("filler ", i%4) + "words"
		mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, text))
	}
	all := hitIDs(mustSearch(t, s, parley.SearchQuery{Text: "paging", Limit: parley.MaxSearchPage}))
	if len(all) != 12 {
		t.Fatalf("%d hits, want 11 messages and the customer's conversation", len(all))
	}
	var paged []string
	cursor := ""
	for range 10 {
		p := mustSearch(t, s, parley.SearchQuery{Text: "paging", Limit: 5, Cursor: cursor})
		paged = append(paged, hitIDs(p)...)
		if p.NextCursor == "" {
			break
		}
		if len(p.Hits) != 5 {
			t.Errorf("a page of %d before the last, want 5", len(p.Hits))
		}
		cursor = p.NextCursor
	}
	if strings.Join(paged, ",") != strings.Join(all, ",") {
		t.Errorf("pages of 5 give\n%v\nwant the single page's order\n%v", paged, all)
	}
	if p := mustSearch(t, s, parley.SearchQuery{Text: "paging", Limit: 12}); p.NextCursor != "" {
		t.Errorf("an exact last page has NextCursor %q", p.NextCursor)
	}
}

func testSearchSnippet(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	long := strings.Repeat("lorem ipsum dolor sit amet ", 12) + "then a Refund\nwas\n\nasked for. " + strings.Repeat("consectetur adipiscing elit ", 12)
	m := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, long))
	short := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "Refunds <b>now</b> & refunding later"))
	p := mustSearch(t, s, parley.SearchQuery{Text: "refund"})
	snip := map[string][]parley.SnippetPart{}
	for _, h := range p.Hits {
		snip[h.Message.ID] = h.Snippet
	}
	text := func(parts []parley.SnippetPart) (all string, marked []string) {
		for _, pt := range parts {
			all += pt.Text
			if pt.Highlight {
				marked = append(marked, pt.Text)
			}
		}
		return all, marked
	}
	all, marked := text(snip[m.ID])
	if !strings.HasPrefix(all, "…") || !strings.HasSuffix(all, "…") {
		t.Errorf("long snippet %q: want … at both ends", all)
	}
	if n := len([]rune(all)); n > 170 {
		t.Errorf("long snippet has %d characters", n)
	}
	if !strings.Contains(all, "then a Refund was asked for.") {
		t.Errorf("long snippet %q: want the words around the match, white space collapsed", all)
	}
	if strings.Join(marked, "|") != "Refund" {
		t.Errorf("long snippet marks %q, want the word as written", marked)
	}
	all, marked = text(snip[short.ID])
	if all != short.Content {
		t.Errorf("short snippet %q, want the whole text %q (as plain text)", all, short.Content)
	}
	if strings.Join(marked, "|") != "Refunds|refunding" {
		t.Errorf("short snippet marks %q", marked)
	}
}

func testSearchFollowsWrites(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a1, a2 := mustUser(t, s, parley.RoleAgent), mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, a1.ID)
	m := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "zebra crossing"))
	wantHits(t, s, parley.SearchQuery{Text: "zebra"}, m)
	// A transfer's note is in the timeline, and so in the index.
	note := textMessage(c.ID, parley.SenderSystem, "", "Handed over to the xylophone team")
	_, err := s.TransferConversation(ctx, &parley.Transfer{ConversationID: c.ID, FromAgentID: a1.ID, ToAgentID: a2.ID, ByUserID: a1.ID}, note)
	must(t, err, "TransferConversation")
	wantHits(t, s, parley.SearchQuery{Text: "xylophone"}, note)
	// The index follows the conversation's status and assignee.
	wantHits(t, s, parley.SearchQuery{Text: "zebra", AssigneeID: a2.ID}, m)
	wantHits(t, s, parley.SearchQuery{Text: "zebra", AssigneeID: a1.ID})
	// An idempotent retry adds nothing.
	r := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "quokka once")
	r.ClientMsgID = "k1"
	mustAppend(t, s, r)
	again := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "quokka once")
	again.ClientMsgID = "k1"
	if created, err := s.AppendMessage(ctx, again); err != nil || created {
		t.Fatalf("retry: created %v, %v", created, err)
	}
	wantHits(t, s, parley.SearchQuery{Text: "quokka"}, r)

	// A customer's new name replaces the old one.
	old, err := s.GetCustomer(ctx, c.CustomerID)
	must(t, err, "GetCustomer")
	cu, err := s.UpdateCustomer(ctx, c.CustomerID, parley.CustomerUpdate{Name: ptr("Wilhelmina Quartermaine")})
	must(t, err, "UpdateCustomer")
	if p := mustSearch(t, s, parley.SearchQuery{Text: "quartermaine"}); len(p.Hits) != 1 || p.Hits[0].CustomerName != cu.Name {
		t.Errorf("new name: %v", hitIDs(p))
	}
	if p := mustSearch(t, s, parley.SearchQuery{Text: `"` + old.Name + `"`}); len(p.Hits) != 0 {
		t.Errorf("old name still found: %v", hitIDs(p))
	}

	// Deletes take the index with them, cascades included.
	must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
	for _, w := range []string{"zebra", "xylophone", "quokka"} {
		wantHits(t, s, parley.SearchQuery{Text: w})
	}
	if p := mustSearch(t, s, parley.SearchQuery{Text: "quartermaine"}); len(p.Hits) != 0 {
		t.Errorf("customer hit without conversations: %v", hitIDs(p))
	}
	c2 := mustConversationFor(t, s, c.CustomerID, parley.StatusWaiting, "")
	m2 := mustAppend(t, s, textMessage(c2.ID, parley.SenderCustomer, c2.CustomerID, "zebra again"))
	wantHits(t, s, parley.SearchQuery{Text: "zebra"}, m2)
	if p := mustSearch(t, s, parley.SearchQuery{Text: "quartermaine"}); len(p.Hits) != 1 {
		t.Errorf("customer hit: %v", hitIDs(p))
	}
	must(t, s.DeleteCustomer(ctx, c.CustomerID), "DeleteCustomer")
	wantHits(t, s, parley.SearchQuery{Text: "zebra"})
	if p := mustSearch(t, s, parley.SearchQuery{Text: "quartermaine"}); len(p.Hits) != 0 {
		t.Errorf("deleted customer found: %v", hitIDs(p))
	}
}

func testSearchInvalid(t *testing.T, s parley.Store) {
	for _, q := range []parley.SearchQuery{
		{Text: ""},
		{Text: " \t\n"},
		{Text: strings.Repeat("a", parley.MaxSearchQueryLen+1)},
		{Text: manyWords(parley.MaxSearchTerms + 1)},
		{Text: "x\x00y"},
		{Text: "\xff"},
		{Text: "ok", Limit: -1},
		{Text: "ok", Limit: parley.MaxSearchPage + 1},
		{Text: "ok", Cursor: "nope"},
		{Text: "ok", Cursor: strings.Repeat("A", 43)[:42] + "!"},
		{Text: "ok", Statuses: []parley.Status{"open"}},
		{Text: "ok", AssigneeID: "me"},
		{Text: "ok", From: parley.Now(), To: parley.Now().Add(-time.Hour)},
	} {
		_, err := s.Search(t.Context(), q)
		wantCode(t, err, parley.EINVALID, fmt.Sprintf("Search(%+v)", q))
	}
	// Input with no words is not an error: it finds nothing.
	for _, text := range []string{"!!!", "…", "— –", `"`} {
		p, err := s.Search(t.Context(), parley.SearchQuery{Text: text})
		if err != nil || len(p.Hits) != 0 {
			t.Errorf("Search(%q) = %v, %v; want no hits and no error", text, p, err)
		}
	}
}

// exported is what an export walk saw, in order.
type exported struct {
	convs []string
	msgs  map[string][]int64
	order []string // "c:<id>" and "m:<conversation id>"
}

func exportWalk(t *testing.T, s parley.Store, f parley.ExportFilter) exported {
	t.Helper()
	e := exported{msgs: map[string][]int64{}}
	current := ""
	err := s.ExportConversations(t.Context(), f, parley.ExportVisitor{
		Conversation: func(c *parley.Conversation, cu *parley.Customer) error {
			if cu == nil || cu.ID != c.CustomerID {
				t.Errorf("conversation %s came with customer %v", c.ID, cu)
			}
			e.convs = append(e.convs, c.ID)
			current = c.ID
			return nil
		},
		Message: func(m *parley.Message) error {
			if m.ConversationID != current {
				t.Errorf("message of %s while walking %s", m.ConversationID, current)
			}
			e.msgs[m.ConversationID] = append(e.msgs[m.ConversationID], m.Seq)
			if m.Kind == parley.KindFile && len(m.Attachments) != 1 {
				t.Errorf("file message with %d attachments", len(m.Attachments))
			}
			return nil
		},
	})
	must(t, err, "ExportConversations")
	return e
}

func testExportWalk(t *testing.T, s parley.Store) {
	agent := mustUser(t, s, parley.RoleAgent)
	var convs []*parley.Conversation
	var marks []time.Time
	for i := range 5 {
		c := mustConversation(t, s, parley.StatusActive, agent.ID)
		convs = append(convs, c)
		for j := range i + 1 {
			mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "message "+itoa(j)))
		}
		mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID,
			Kind: parley.KindNote, Content: "a note"})
		mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID,
			Kind: parley.KindFile, Attachments: []*parley.Attachment{newAttachment("a.pdf")}})
		mark := parley.Now().Add(time.Microsecond)
		for !parley.Now().After(mark) {
			time.Sleep(time.Millisecond)
		}
		marks = append(marks, mark)
	}
	for _, size := range []int{0, 1, 2, 3} {
		e := exportWalk(t, s, parley.ExportFilter{PageSize: size})
		if strings.Join(e.convs, ",") != strings.Join(convIDs(convs), ",") {
			t.Errorf("page size %d: conversations %v, want oldest first %v", size, e.convs, convIDs(convs))
		}
		for i, c := range convs {
			want := int64(i + 3)
			got := e.msgs[c.ID]
			if int64(len(got)) != want {
				t.Errorf("page size %d: conversation %d has %d messages, want %d", size, i, len(got), want)
				continue
			}
			for j, seq := range got {
				if seq != int64(j+1) {
					t.Errorf("page size %d: seqs %v, want 1..%d", size, got, want)
					break
				}
			}
		}
	}
	// A range: [marks[0], marks[3]) holds conversations 1, 2 and 3.
	e := exportWalk(t, s, parley.ExportFilter{From: marks[0], To: marks[3], PageSize: 2, ExcludeNotes: true})
	if want := convIDs(convs[1:4]); strings.Join(e.convs, ",") != strings.Join(want, ",") {
		t.Errorf("range: %v, want %v", e.convs, want)
	}
	for i, c := range convs[1:4] {
		if n := len(e.msgs[c.ID]); n != i+2+1 {
			t.Errorf("range without notes: conversation %d has %d messages, want %d", i+1, n, i+3)
		}
	}
	if e := exportWalk(t, s, parley.ExportFilter{From: marks[4]}); len(e.convs) != 0 {
		t.Errorf("after the last: %v", e.convs)
	}
}

func testExportVisitorError(t *testing.T, s parley.Store) {
	for range 3 {
		c := mustConversation(t, s, parley.StatusWaiting, "")
		mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "hi"))
	}
	stop := errors.New("client went away")
	n := 0
	err := s.ExportConversations(t.Context(), parley.ExportFilter{PageSize: 1}, parley.ExportVisitor{
		Conversation: func(*parley.Conversation, *parley.Customer) error { n++; return nil },
		Message: func(*parley.Message) error {
			if n == 2 {
				return stop
			}
			return nil
		},
	})
	if !errors.Is(err, stop) {
		t.Errorf("ExportConversations = %v, want the visitor's error", err)
	}
	if n != 2 {
		t.Errorf("visited %d conversations, want the walk to stop at the second", n)
	}
}

func testExportInvalid(t *testing.T, s parley.Store) {
	v := parley.ExportVisitor{
		Conversation: func(*parley.Conversation, *parley.Customer) error { return nil },
		Message:      func(*parley.Message) error { return nil },
	}
	now := parley.Now()
	for _, f := range []parley.ExportFilter{
		{From: now, To: now},
		{From: now, To: now.Add(-time.Second)},
		{PageSize: -1},
		{PageSize: parley.MaxMessagePage + 1},
	} {
		wantCode(t, s.ExportConversations(t.Context(), f, v), parley.EINVALID, fmt.Sprintf("ExportConversations(%+v)", f))
	}
}

func manyWords(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = "w" + itoa(i)
	}
	return strings.Join(ws, " ")
}

// testSearchManyPrefixWords: a prefix that starts more than MaxPrefixWords
// words still finds them all, and one that starts words of customers only
// finds the customers.
func testSearchManyPrefixWords(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	n := parley.MaxPrefixWords + 20
	for i := range n {
		mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, fmt.Sprintf("code zqv%04d issued", i)))
	}
	for _, tc := range []struct {
		q    string
		want int
	}{{"zqv", n}, {"zqv00", 100}, {"zqv0001", 1}, {"zqv9", 0}, {"issued zqv01", 100}} {
		seen := map[string]bool{}
		cursor := ""
		for range 20 {
			p := mustSearch(t, s, parley.SearchQuery{Text: tc.q, Limit: parley.MaxSearchPage, Cursor: cursor})
			for _, id := range hitIDs(p) {
				seen[id] = true
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if len(seen) != tc.want {
			t.Errorf("Search(%q): %d hits, want %d", tc.q, len(seen), tc.want)
		}
	}
	cu := newCustomer()
	cu.Name = "Xandrella Quimby"
	must(t, s.CreateCustomer(t.Context(), cu), "CreateCustomer")
	mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	if p := mustSearch(t, s, parley.SearchQuery{Text: "xandr"}); len(p.Hits) != 1 || p.Hits[0].Field != parley.FieldCustomer {
		t.Errorf("a prefix of a customer's name: %v", hitIDs(p))
	}
}
