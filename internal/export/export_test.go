package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// pdfText extracts the text of a PDF with a pure-Go reader, page by page.
func pdfText(t testing.TB, b []byte) (string, int) {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("reading the PDF: %v", err)
	}
	var all strings.Builder
	fonts := map[string]*pdf.Font{}
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		for _, name := range p.Fonts() {
			if _, ok := fonts[name]; !ok {
				f := p.Font(name)
				fonts[name] = &f
			}
		}
		s, err := p.GetPlainText(fonts)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		all.WriteString(s)
		all.WriteString("\n")
	}
	return all.String(), r.NumPage()
}

func sampleTranscript(n int) *desk.Transcript {
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	agent, other := parley.NewID(), parley.NewID()
	c := &parley.Conversation{ID: parley.NewID(), Status: parley.StatusClosed, CustomerID: parley.NewID(), AssigneeID: other,
		CustomerIP: "203.0.113.9", Metadata: parley.Metadata{"page": "/pricing"}, CreatedAt: now, UpdatedAt: now}
	closed := now.Add(time.Hour)
	c.ClosedAt, c.LastMessageAt = &closed, &closed
	t := &desk.Transcript{Conversation: c, Agents: map[string]string{agent: "Alice Agent", other: "Bob Бобров"},
		Customer:   &parley.Customer{ID: c.CustomerID, Name: "Марта Ковальская", Email: "marta@example.org", IP: "203.0.113.9"},
		ExportedAt: now.Add(2 * time.Hour)}
	add := func(st parley.SenderType, sender string, kind parley.Kind, text string) {
		t.Messages = append(t.Messages, &parley.Message{ID: parley.NewID(), ConversationID: c.ID, Seq: int64(len(t.Messages) + 1),
			SenderType: st, SenderID: sender, Kind: kind, Content: text, CreatedAt: now.Add(time.Duration(len(t.Messages)) * time.Minute)})
	}
	add(parley.SenderCustomer, c.CustomerID, parley.KindText, "Здравствуйте! Мне нужен возврат.")
	add(parley.SenderAgent, agent, parley.KindText, "Καλημέρα, let me check that for you.")
	add(parley.SenderCustomer, c.CustomerID, parley.KindText, "我想退款，订单号是4821。")
	add(parley.SenderAgent, agent, parley.KindNote, "=HYPERLINK(\"http://evil\") customer seems upset")
	add(parley.SenderSystem, "", parley.KindSystem, "Alice Agent transferred the conversation to Bob Бобров.")
	t.Transfers = []*parley.Transfer{{ID: parley.NewID(), ConversationID: c.ID, FromAgentID: agent, ToAgentID: other,
		ByUserID: agent, Reason: "shift ends", CreatedAt: now.Add(4 * time.Minute)}}
	for i := range n {
		add(parley.SenderCustomer, c.CustomerID, parley.KindText, "line "+strings.Repeat("filler words go here ", 12)+"end"+strconv.Itoa(i))
	}
	add(parley.SenderCustomer, c.CustomerID, parley.KindFile, "")
	last := t.Messages[len(t.Messages)-1]
	last.Attachments = []*parley.Attachment{{Name: "receipt.pdf", ContentType: "application/pdf", Size: 2048}}
	return t
}

func TestTranscriptPDF(t *testing.T) {
	tr := sampleTranscript(60)
	var b bytes.Buffer
	if err := TranscriptPDF(&b, tr); err != nil {
		t.Fatalf("TranscriptPDF: %v", err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b.Bytes()[:20])
	}
	if p := os.Getenv("PARLEY_KEEP_PDF"); p != "" {
		os.WriteFile(p, b.Bytes(), 0o644)
	}
	text, pages := pdfText(t, b.Bytes())
	if pages < 2 {
		t.Errorf("%d page(s) for 65 messages, want page breaks", pages)
	}
	flat := strings.Join(strings.Fields(text), "")
	for _, want := range []string{
		"Conversationtranscript", "МартаКовальская", "marta@example.org", tr.Conversation.ID,
		"Здравствуйте!Мненуженвозврат.", "Καλημέρα,letmecheckthatforyou.", "我想退款，订单号是4821。",
		"Privatenote", "customerseemsupset", "transferredtheconversationtoBobБобров",
		"shiftends", "receipt.pdf", "AliceAgent", "end9",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	if strings.Contains(flat, "203.0.113.9") {
		t.Error("the PDF shows the customer's address")
	}
	t.Logf("%d pages, %d bytes", pages, b.Len())
}

func TestTranscriptPDFLatinOnlySkipsFallback(t *testing.T) {
	tr := sampleTranscript(0)
	tr.Messages = tr.Messages[:2]
	tr.Messages[0].Content = "Hello, I need a refund."
	tr.Messages[1].Content = "Sure thing."
	tr.Agents = map[string]string{tr.Messages[1].SenderID: "Alice", tr.Conversation.AssigneeID: "Bob"}
	tr.Customer.Name = "Marta"
	tr.Transfers = nil
	d, err := newPDF(tr)
	if err != nil {
		t.Fatal(err)
	}
	if d.cjk != nil {
		t.Error("a Latin-only transcript loaded the CJK fallback")
	}
}

func TestWrapLongWordAndCJK(t *testing.T) {
	tr := sampleTranscript(0)
	d, err := newPDF(tr)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 400)
	lines := d.wrap(long, famRegular, bodySize, 200)
	if len(lines) < 2 || strings.Join(lines, "") != long {
		t.Errorf("a long word: %d lines, rejoined equal %v", len(lines), strings.Join(lines, "") == long)
	}
	for _, ln := range lines {
		if w := d.textWidth(ln, famRegular, bodySize); w > 200.01 {
			t.Errorf("line of width %.1f > 200", w)
		}
	}
	cjk := strings.Repeat("我想退款", 30)
	lines = d.wrap(cjk, famRegular, bodySize, 150)
	if len(lines) < 2 || strings.Join(lines, "") != cjk {
		t.Errorf("CJK text: %d lines", len(lines))
	}
	if got := d.wrap("", famRegular, bodySize, 100); len(got) != 1 || got[0] != "" {
		t.Errorf("empty paragraph: %q", got)
	}
}

func TestTranscriptCSV(t *testing.T) {
	tr := sampleTranscript(2)
	var b bytes.Buffer
	if err := TranscriptCSV(&b, tr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\r\n") {
		t.Error("rows do not end in CRLF (RFC 4180)")
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("parsing the CSV back: %v", err)
	}
	if len(recs) != 1+len(tr.Messages) {
		t.Fatalf("%d records, want a header and %d messages", len(recs), len(tr.Messages))
	}
	if strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
		t.Errorf("header %v", recs[0])
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if got := recs[1][col["text"]]; got != tr.Messages[0].Content {
		t.Errorf("text %q", got)
	}
	if got := recs[4][col["text"]]; !strings.HasPrefix(got, "'=HYPERLINK") {
		t.Errorf("a formula cell is %q, want it quoted", got)
	}
	if got := recs[2][col["sender"]]; got != "Alice Agent" {
		t.Errorf("sender %q", got)
	}
	if got := recs[1][col["customer_name"]]; got != "Марта Ковальская" {
		t.Errorf("customer %q", got)
	}
	if got := recs[len(recs)-1][col["attachments"]]; got != "receipt.pdf" {
		t.Errorf("attachments %q", got)
	}
	for _, c := range []string{"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"} {
		if s := safeCell(c); s[0] != '\'' {
			t.Errorf("safeCell(%q) = %q", c, s)
		}
	}
	if safeCell("hello = world") != "hello = world" {
		t.Error("a cell not starting with a formula character was changed")
	}
}

func TestTranscriptJSON(t *testing.T) {
	tr := sampleTranscript(1)
	for _, forVisitor := range []bool{false, true} {
		tr.ForVisitor = forVisitor
		var b bytes.Buffer
		if err := TranscriptJSON(&b, tr); err != nil {
			t.Fatal(err)
		}
		var out struct {
			Conversation map[string]any   `json:"conversation"`
			Customer     map[string]any   `json:"customer"`
			Messages     []map[string]any `json:"messages"`
			Transfers    []map[string]any `json:"transfers"`
			Agents       []map[string]any `json:"agents"`
		}
		if err := json.Unmarshal(b.Bytes(), &out); err != nil {
			t.Fatalf("decoding: %v", err)
		}
		if len(out.Messages) != len(tr.Messages) || out.Messages[2]["content"] != tr.Messages[2].Content {
			t.Errorf("messages: %d", len(out.Messages))
		}
		_, hasIP := out.Conversation["customerIp"]
		_, hasCustIP := out.Customer["ip"]
		if hasIP == forVisitor || hasCustIP == forVisitor {
			t.Errorf("forVisitor=%v: customerIp present %v, customer ip present %v", forVisitor, hasIP, hasCustIP)
		}
		if out.Conversation["assignee"] != "Bob Бобров" || len(out.Agents) != 2 || len(out.Transfers) != 1 {
			t.Errorf("assignee %v, agents %v, transfers %v", out.Conversation["assignee"], out.Agents, out.Transfers)
		}
	}
}

func TestBulkJSONAndCSV(t *testing.T) {
	names := MapNames(map[string]string{})
	var jb, cb bytes.Buffer
	j, err := NewJSON(&jb, names, time.Time{}, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCSV(&cb, names)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		tr := sampleTranscript(0)
		for _, w := range []interface {
			Conversation(*parley.Conversation, *parley.Customer) error
			Message(*parley.Message) error
		}{j, c} {
			if err := w.Conversation(tr.Conversation, tr.Customer); err != nil {
				t.Fatal(err)
			}
			for _, m := range tr.Messages[:i] { // the first conversation has none
				if err := w.Message(m); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		From          *time.Time `json:"from"`
		To            *time.Time `json:"to"`
		Conversations []struct {
			Conversation struct{ ID string } `json:"conversation"`
			Messages     []json.RawMessage   `json:"messages"`
		} `json:"conversations"`
	}
	dec := json.NewDecoder(&jb)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decoding the bulk JSON: %v\n%s", err, jb.String())
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Errorf("data after the document: %v", err)
	}
	if doc.From != nil || doc.To == nil || len(doc.Conversations) != 3 {
		t.Fatalf("from %v to %v, %d conversations", doc.From, doc.To, len(doc.Conversations))
	}
	for i, cv := range doc.Conversations {
		if len(cv.Messages) != i {
			t.Errorf("conversation %d has %d messages, want %d", i, len(cv.Messages), i)
		}
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Header, one row for the empty conversation, then 1 + 2 messages.
	if len(recs) != 1+1+1+2 {
		t.Errorf("%d CSV records, want 5", len(recs))
	}
	if recs[1][7] != "" || recs[1][0] == "" {
		t.Errorf("the empty conversation's row: %v", recs[1])
	}
}
