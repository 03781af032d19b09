package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"mime"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

type searchResult struct {
	Results []struct {
		Field        string `json:"field"`
		Score        float64
		Conversation struct {
			ID     string
			Status string
		} `json:"conversation"`
		Customer struct{ Name, Email string } `json:"customer"`
		Message  *struct {
			ID   string
			Kind string
		} `json:"message"`
		Snippet []struct {
			Text      string
			Highlight bool
		} `json:"snippet"`
	} `json:"results"`
	NextCursor string `json:"nextCursor"`
	Truncated  bool   `json:"truncated"`
}

func (e *env) say(c *parley.Conversation, st parley.SenderType, sender string, kind parley.Kind, text string) *parley.Message {
	e.t.Helper()
	m := &parley.Message{ConversationID: c.ID, SenderType: st, SenderID: sender, Kind: kind, Content: text}
	if _, err := e.store.AppendMessage(context.Background(), m); err != nil {
		e.t.Fatalf("AppendMessage: %v", err)
	}
	return m
}

func (e *env) search(c cred, params url.Values) (resp, searchResult) {
	e.t.Helper()
	r := e.do("GET", "/api/search?"+params.Encode(), c, nil)
	var out searchResult
	if r.status == 200 {
		r.json(e.t, &out)
	}
	return r, out
}

func messageIDs(sr searchResult) map[string]bool {
	out := map[string]bool{}
	for _, h := range sr.Results {
		if h.Message != nil {
			out[h.Message.ID] = true
		}
	}
	return out
}

func TestSearchAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		assigned, other := e.users["agent_assigned"], e.users["agent_c"]
		custA, visA := e.visitor()
		custB, _ := e.visitor()
		custW, _ := e.visitor()
		convA := e.conversation(custA, parley.StatusActive, assigned.ID) // "hello" from the customer
		convB := e.conversation(custB, parley.StatusActive, other.ID)
		convW := e.conversation(custW, parley.StatusWaiting, "")
		mA := e.say(convA, parley.SenderCustomer, custA.ID, parley.KindText, "My parcel never arrived, I want a refund.")
		note := e.say(convA, parley.SenderAgent, assigned.ID, parley.KindNote, "Refund approved by finance.")
		mB := e.say(convB, parley.SenderCustomer, custB.ID, parley.KindText, "Refund please, refund now!")
		mW := e.say(convW, parley.SenderCustomer, custW.ID, parley.KindText, "Возврат денег: I'd like a refund. 我想退款")
		q := func(kv ...string) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Add(kv[i], kv[i+1])
			}
			return v
		}

		// Roles: an agent finds the waiting conversations and their own (notes
		// included); a senior agent every one; visitors may not search.
		agentCred := e.session(assigned)
		r, sr := e.search(agentCred, q("q", "refund"))
		want(t, r, 200, "agent search")
		if got := messageIDs(sr); len(got) != 3 || !got[mA.ID] || !got[note.ID] || !got[mW.ID] {
			t.Errorf("agent finds %v, want their message, their note and the waiting one", got)
		}
		_, sr = e.search(e.session(e.users["agent_unassigned"]), q("q", "refund"))
		if got := messageIDs(sr); len(got) != 1 || !got[mW.ID] {
			t.Errorf("an unassigned agent finds %v, want the waiting conversation only", got)
		}
		_, sr = e.search(e.session(e.users["senior_agent"]), q("q", "refund"))
		if got := messageIDs(sr); len(got) != 4 {
			t.Errorf("a senior agent finds %d messages, want all 4", len(got))
		}
		// Ranked: the message that says refund twice in few words comes first.
		if len(sr.Results) == 0 || sr.Results[0].Message == nil || sr.Results[0].Message.ID != mB.ID {
			t.Errorf("best hit %+v, want %s", sr.Results, mB.ID)
		}
		r, _ = e.search(visA, q("q", "refund"))
		if r.status != 403 || r.code() != "forbidden" {
			t.Errorf("a visitor searching: %d %s", r.status, r.body)
		}
		r, _ = e.search(cred{}, q("q", "refund"))
		want(t, r, 401, "anonymous search")
		// An API token acts as its user.
		tok, _ := e.apiToken(assigned)
		_, sr = e.search(cred{bearer: tok}, q("q", "approved"))
		if got := messageIDs(sr); len(got) != 1 || !got[note.ID] {
			t.Errorf("by token, the note: %v", got)
		}

		// Snippets are plain-text parts, the matched words marked.
		_, sr = e.search(agentCred, q("q", "parcel"))
		if len(sr.Results) != 1 {
			t.Fatalf("parcel: %d results", len(sr.Results))
		}
		var whole, marked string
		for _, p := range sr.Results[0].Snippet {
			whole += p.Text
			if p.Highlight {
				marked += p.Text
			}
		}
		if whole != mA.Content || marked != "parcel" {
			t.Errorf("snippet %q marking %q", whole, marked)
		}
		// Other scripts, and the conversation id given whole.
		for _, text := range []string{"возврат", "退款"} {
			_, sr = e.search(agentCred, q("q", text))
			if got := messageIDs(sr); len(got) != 1 || !got[mW.ID] {
				t.Errorf("%s: %v", text, got)
			}
		}
		_, sr = e.search(agentCred, q("q", convA.ID))
		if len(sr.Results) != 1 || sr.Results[0].Field != "conversation_id" || sr.Results[0].Conversation.ID != convA.ID {
			t.Errorf("by id: %+v", sr.Results)
		}
		_, sr = e.search(agentCred, q("q", convB.ID))
		if len(sr.Results) != 0 {
			t.Errorf("an agent finds another's conversation by id: %+v", sr.Results)
		}
		// Customers by name.
		_, sr = e.search(e.session(e.users["admin"]), q("q", "visitor"))
		if len(sr.Results) != 3 || sr.Results[0].Field != "customer" {
			t.Errorf("customers named Visitor: %d results", len(sr.Results))
		}

		// Filters.
		_, sr = e.search(e.session(e.users["team_lead"]), q("q", "refund", "status", "waiting"))
		if got := messageIDs(sr); len(got) != 1 || !got[mW.ID] {
			t.Errorf("status=waiting: %v", got)
		}
		_, sr = e.search(e.session(e.users["team_lead"]), q("q", "refund", "agent", other.ID))
		if got := messageIDs(sr); len(got) != 1 || !got[mB.ID] {
			t.Errorf("agent=<id>: %v", got)
		}
		_, sr = e.search(agentCred, q("q", "refund", "agent", "me"))
		if got := messageIDs(sr); len(got) != 2 {
			t.Errorf("agent=me: %v", got)
		}
		r, _ = e.search(agentCred, q("q", "refund", "agent", other.ID))
		want(t, r, 403, "an agent filtering by another agent")
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		_, sr = e.search(e.session(e.users["admin"]), q("q", "refund", "from", tomorrow))
		if len(sr.Results) != 0 {
			t.Errorf("from tomorrow: %d results", len(sr.Results))
		}
		_, sr = e.search(e.session(e.users["admin"]), q("q", "refund", "to", time.Now().UTC().Format(time.DateOnly)))
		if len(messageIDs(sr)) != 4 {
			t.Errorf("to today (the whole day): %d results", len(sr.Results))
		}

		// Pages.
		admin := e.session(e.users["admin"])
		var ids []string
		cursor := ""
		for range 10 {
			p := q("q", "refund", "limit", "1")
			if cursor != "" {
				p.Set("cursor", cursor)
			}
			r, sr = e.search(admin, p)
			want(t, r, 200, "page")
			for _, h := range sr.Results {
				ids = append(ids, h.Message.ID)
			}
			if cursor = sr.NextCursor; cursor == "" {
				break
			}
		}
		if len(ids) != 4 || ids[0] != mB.ID {
			t.Errorf("paging by one: %v", ids)
		}

		// Input that is syntax elsewhere is plain here: 200, and nothing changes.
		for _, text := range []string{`"`, `*`, `-refund`, `refund OR x`, `NEAR(a b)`, `(`, `'; DROP TABLE messages; --`,
			`refund:* & !x`, `%_\`, `\"refund\"`, "refund\u0000"[:6]} {
			r, _ := e.search(admin, q("q", text))
			want(t, r, 200, "search "+text)
		}
		if ms, err := e.store.ListMessages(context.Background(), convA.ID, parley.MessageFilter{}); err != nil || len(ms) != 3 {
			t.Errorf("messages after the searches: %d, %v", len(ms), err)
		}

		// Bad requests.
		for _, p := range []string{"", "q=", "q=%20%20", "q=a&limit=51", "q=a&limit=0", "q=a&status=open", "q=a&agent=bob",
			"q=a&from=yesterday", "q=a&from=2025-02-01&to=2025-01-01", "q=a&cursor=xyz", "q=a&nope=1", "q=a&q=b",
			"q=" + strings.Repeat("a", 257), "q=%00"} {
			r := e.do("GET", "/api/search?"+p, admin, nil)
			if r.status != 400 || r.code() != "invalid" {
				t.Errorf("GET /api/search?%s: %d %s, want 400 invalid", p, r.status, r.body)
			}
		}
	})
}

// pdfPlainText extracts a PDF's text with a pure-Go reader.
func pdfPlainText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("reading the PDF: %v", err)
	}
	var out strings.Builder
	fonts := map[string]*pdf.Font{}
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		for _, name := range p.Fonts() {
			f := p.Font(name)
			fonts[name] = &f
		}
		s, err := p.GetPlainText(fonts)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		out.WriteString(s)
	}
	return strings.Join(strings.Fields(out.String()), "")
}

func wantAttachment(t *testing.T, r resp, ext string) {
	t.Helper()
	disp, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" {
		t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
		return
	}
	name := params["filename"]
	if !strings.HasSuffix(name, "."+ext) || strings.ContainsAny(name, "/\\\"\r\n") {
		t.Errorf("file name %q", name)
	}
}

func TestExportAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		ctx := context.Background()
		assigned := e.users["agent_assigned"]
		cust, vis := e.visitor()
		_, visB := e.visitor()
		if _, err := e.store.UpdateCustomer(ctx, cust.ID, parley.CustomerUpdate{Name: ptr("Ольга Петрова"), Email: ptr("olga@example.org")}); err != nil {
			t.Fatal(err)
		}
		conv := e.conversation(cust, parley.StatusActive, assigned.ID)
		e.say(conv, parley.SenderCustomer, cust.ID, parley.KindText, "Здравствуйте, где мой заказ?")
		e.say(conv, parley.SenderAgent, assigned.ID, parley.KindText, "Γεια σας! Checking now.")
		e.say(conv, parley.SenderCustomer, cust.ID, parley.KindText, "谢谢你的帮助")
		e.say(conv, parley.SenderAgent, assigned.ID, parley.KindNote, "=cmd|' /C calc'!A0 internal remark")
		if _, err := e.desk.Transfer(ctx, actorOf(e.users["team_lead"]), conv.ID,
			desk.TransferInput{ToAgentID: e.users["agent_unassigned"].ID, Reason: "needs Russian speaker", Force: true}); err != nil {
			t.Fatalf("Transfer: %v", err)
		}
		lead := e.session(e.users["team_lead"])
		path := "/api/conversations/" + conv.ID + "/export"

		// PDF, as a team lead: the whole timeline, in every script.
		r := e.do("GET", path, lead, nil)
		want(t, r, 200, "PDF export")
		if ct := r.header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type %q", ct)
		}
		wantAttachment(t, r, "pdf")
		text := pdfPlainText(t, r.body)
		for _, w := range []string{"ОльгаПетрова", "olga@example.org", "Здравствуйте,гдемойзаказ?", "Γειασας!Checkingnow.",
			"谢谢你的帮助", "internalremark", "Youarenowtalkingtoagent_unassigned", "needsRussianspeaker", "agent_assigned"} {
			if !strings.Contains(text, w) {
				t.Errorf("the PDF lacks %q", w)
			}
		}

		// CSV, parsed back.
		r = e.do("GET", path+"?format=csv", lead, nil)
		want(t, r, 200, "CSV export")
		wantAttachment(t, r, "csv")
		recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v", err)
		}
		if len(recs) != 1+6 { // header, hello + 4 + the transfer line
			t.Errorf("%d CSV records, want 7", len(recs))
		}
		var sawNote bool
		for _, rec := range recs[1:] {
			if rec[11] == "note" {
				sawNote = true
				if !strings.HasPrefix(rec[12], "'=cmd") {
					t.Errorf("a formula survived: %q", rec[12])
				}
			}
		}
		if !sawNote {
			t.Error("the team's CSV lacks the note")
		}

		// JSON, decoded.
		r = e.do("GET", path+"?format=json", lead, nil)
		want(t, r, 200, "JSON export")
		var doc struct {
			Conversation map[string]any   `json:"conversation"`
			Messages     []map[string]any `json:"messages"`
			Transfers    []map[string]any `json:"transfers"`
		}
		r.json(t, &doc)
		if len(doc.Messages) != 6 || len(doc.Transfers) != 1 || doc.Transfers[0]["reason"] != "needs Russian speaker" {
			t.Errorf("JSON: %d messages, transfers %v", len(doc.Messages), doc.Transfers)
		}

		// The visitor's own copy: no note, no transfer record, no team-only data.
		r = e.do("GET", path+"?format=json", vis, nil)
		want(t, r, 200, "visitor's JSON")
		var vdoc struct {
			Conversation map[string]any   `json:"conversation"`
			Customer     map[string]any   `json:"customer"`
			Messages     []map[string]any `json:"messages"`
			Transfers    []map[string]any `json:"transfers"`
		}
		r.json(t, &vdoc)
		if len(vdoc.Messages) != 5 || len(vdoc.Transfers) != 0 {
			t.Errorf("visitor's JSON: %d messages, %d transfers", len(vdoc.Messages), len(vdoc.Transfers))
		}
		for _, m := range vdoc.Messages {
			if m["kind"] == "note" {
				t.Error("the visitor's transcript holds a note")
			}
		}
		if _, ok := vdoc.Conversation["metadata"]; ok || vdoc.Customer["ip"] != nil || strings.Contains(string(r.body), "needs Russian") {
			t.Errorf("the visitor's transcript shows team-only data: %s", r.body)
		}
		r = e.do("GET", path, vis, nil)
		want(t, r, 200, "visitor's PDF")
		if vt := pdfPlainText(t, r.body); strings.Contains(vt, "internalremark") || !strings.Contains(vt, "谢谢你的帮助") {
			t.Error("the visitor's PDF shows the note or lacks the messages")
		}
		want(t, e.do("GET", path, visB, nil), 404, "another visitor's transcript")
		want(t, e.do("GET", path, e.session(assigned), nil), 403, "an agent's export")
		want(t, e.do("GET", path, e.session(e.users["senior_agent"]), nil), 403, "a senior agent's export")
		want(t, e.do("GET", path+"?format=xml", lead, nil), 400, "an unknown format")
		want(t, e.do("GET", "/api/conversations/"+parley.NewID()+"/export", lead, nil), 404, "a missing conversation")

		// Bulk, streamed, parsed back.
		other, _ := e.visitor()
		e.conversation(other, parley.StatusWaiting, "")
		admin := e.session(e.users["admin"])
		r = e.do("GET", "/api/exports/conversations?format=json", admin, nil)
		want(t, r, 200, "bulk JSON")
		wantAttachment(t, r, "json")
		var bulk struct {
			Conversations []struct {
				Conversation struct{ ID string }
				Customer     struct{ Name string }
				Messages     []struct{ Kind, Content string }
			}
		}
		r.json(t, &bulk)
		if len(bulk.Conversations) != 2 || bulk.Conversations[0].Conversation.ID != conv.ID || len(bulk.Conversations[0].Messages) != 6 {
			t.Errorf("bulk JSON: %+v", bulk.Conversations)
		}
		r = e.do("GET", "/api/exports/conversations", lead, nil)
		want(t, r, 200, "bulk CSV")
		wantAttachment(t, r, "csv")
		recs, err = csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatalf("bulk CSV: %v", err)
		}
		if len(recs) != 1+6+1 {
			t.Errorf("bulk CSV: %d records, want 8", len(recs))
		}
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		r = e.do("GET", "/api/exports/conversations?format=csv&from="+tomorrow, admin, nil)
		want(t, r, 200, "bulk CSV from tomorrow")
		if recs, _ := csv.NewReader(bytes.NewReader(r.body)).ReadAll(); len(recs) != 1 {
			t.Errorf("from tomorrow: %d records, want the header alone", len(recs))
		}
		for _, p := range []string{"?format=pdf", "?from=2025-02-01&to=2025-01-01", "?from=soon", "?limit=1"} {
			want(t, e.do("GET", "/api/exports/conversations"+p, admin, nil), 400, "bulk "+p)
		}
		want(t, e.do("GET", "/api/exports/conversations", vis, nil), 403, "a visitor's bulk export")
		want(t, e.do("GET", "/api/exports/conversations", e.session(e.users["senior_agent"]), nil), 403, "a senior agent's bulk export")
	})
}

func TestSearchResponseIsJSONOnly(t *testing.T) {
	e := newEnv(t, openSQLite, envOptions{})
	cust, _ := e.visitor()
	c := e.conversation(cust, parley.StatusWaiting, "")
	e.say(c, parley.SenderCustomer, cust.ID, parley.KindText, `<script>alert("x")</script> refund`)
	r := e.do("GET", "/api/search?q=refund", e.session(e.users["admin"]), nil)
	want(t, r, 200, "search")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var sr searchResult
	r.json(t, &sr)
	var whole string
	for _, p := range sr.Results[0].Snippet {
		whole += p.Text
	}
	if whole != `<script>alert("x")</script> refund` {
		t.Errorf("snippet %q: want the text as it is, for the UI to show as text", whole)
	}
	if !json.Valid(r.body) {
		t.Error("invalid JSON")
	}
}

func actorOf(u *parley.User) desk.Actor { return desk.Actor{Kind: desk.Agent, User: u} }
