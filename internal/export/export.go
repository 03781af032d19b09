// Package export writes conversations out: a transcript of one
// conversation as PDF, CSV or JSON, and conversations in bulk as CSV or JSON
// streamed as they are read. It formats only; internal/desk decides who may
// export what and hands over what they may see.
package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// Names resolves an agent's id to the name an export shows.
type Names func(id string) string

// MapNames resolves ids through m; an id m lacks is a deleted account.
func MapNames(m map[string]string) Names {
	return func(id string) string {
		if n, ok := m[id]; ok {
			return n
		}
		return "Former agent"
	}
}

// senderName is how a message's author reads in an export.
func senderName(m *parley.Message, customer string, names Names) string {
	switch m.SenderType {
	case parley.SenderCustomer:
		if customer != "" {
			return customer
		}
		return "Visitor"
	case parley.SenderAgent:
		return names(m.SenderID)
	}
	return "System"
}

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func timePtrText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return timeText(*t)
}

// --- CSV ---

// csvHeader is the one row shape of every CSV export: a row per message,
// with its conversation's columns repeated (a conversation without messages
// has one row with the message columns empty).
var csvHeader = []string{"conversation_id", "status", "customer_name", "customer_email", "assignee",
	"conversation_created_at", "closed_at", "seq", "time", "sender_type", "sender", "kind", "text", "attachments"}

// CSV writes RFC 4180 CSV (CRLF line ends, quotes where needed) made safe
// for spreadsheets: a cell that starts with =, +, -, @, a tab or a carriage
// return is prefixed with a single quote, so it is never taken as a formula.
type CSV struct {
	w     *csv.Writer
	names Names
	conv  []string // the current conversation's columns
	rows  int      // rows written for the current conversation
}

// NewCSV starts a CSV export on w and writes its header.
func NewCSV(w io.Writer, names Names) (*CSV, error) {
	c := &CSV{w: csv.NewWriter(w), names: names}
	c.w.UseCRLF = true
	return c, c.write(csvHeader)
}

// safeCell defuses a cell a spreadsheet would read as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (c *CSV) write(rec []string) error {
	for i, s := range rec {
		rec[i] = safeCell(s)
	}
	return c.w.Write(rec)
}

// Conversation starts a conversation's rows.
func (c *CSV) Conversation(conv *parley.Conversation, cu *parley.Customer) error {
	if err := c.endConversation(); err != nil {
		return err
	}
	assignee := ""
	if conv.AssigneeID != "" {
		assignee = c.names(conv.AssigneeID)
	}
	c.conv = []string{conv.ID, string(conv.Status), cu.Name, cu.Email, assignee, timeText(conv.CreatedAt), timePtrText(conv.ClosedAt)}
	c.rows = 0
	return nil
}

// Message writes a row for a message of the current conversation.
func (c *CSV) Message(m *parley.Message) error {
	c.rows++
	var files []string
	for _, a := range m.Attachments {
		files = append(files, a.Name)
	}
	rec := append(append([]string{}, c.conv...), strconv.FormatInt(m.Seq, 10), timeText(m.CreatedAt), string(m.SenderType),
		senderName(m, c.conv[2], c.names), string(m.Kind), m.Content, strings.Join(files, "; "))
	return c.write(rec)
}

func (c *CSV) endConversation() error {
	if c.conv != nil && c.rows == 0 {
		return c.write(append(append([]string{}, c.conv...), make([]string, len(csvHeader)-len(c.conv))...))
	}
	return nil
}

// Flush writes what is buffered, so a streaming client sees progress.
func (c *CSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Close ends the export.
func (c *CSV) Close() error {
	if err := c.endConversation(); err != nil {
		return err
	}
	return c.Flush()
}

// TranscriptCSV writes one conversation as CSV.
func TranscriptCSV(w io.Writer, t *desk.Transcript) error {
	c, err := NewCSV(w, t.AgentName)
	if err != nil {
		return err
	}
	if err := c.Conversation(t.Conversation, t.Customer); err != nil {
		return err
	}
	for _, m := range t.Messages {
		if err := c.Message(m); err != nil {
			return err
		}
	}
	return c.Close()
}

// --- JSON ---

type conversationJSON struct {
	ID            string          `json:"id"`
	Status        parley.Status   `json:"status"`
	CustomerID    string          `json:"customerId"`
	AssigneeID    *string         `json:"assigneeId"`
	Assignee      *string         `json:"assignee"`
	CustomerIP    string          `json:"customerIp,omitempty"`
	Metadata      parley.Metadata `json:"metadata,omitempty"`
	CreatedAt     time.Time       `json:"createdAt"`
	UpdatedAt     time.Time       `json:"updatedAt"`
	ClosedAt      *time.Time      `json:"closedAt"`
	LastMessageAt *time.Time      `json:"lastMessageAt"`
}

func viewConversation(c *parley.Conversation, names Names, forVisitor bool) conversationJSON {
	v := conversationJSON{ID: c.ID, Status: c.Status, CustomerID: c.CustomerID, CreatedAt: c.CreatedAt,
		UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt, LastMessageAt: c.LastMessageAt}
	if c.AssigneeID != "" {
		id, n := c.AssigneeID, names(c.AssigneeID)
		v.AssigneeID, v.Assignee = &id, &n
	}
	if !forVisitor {
		v.CustomerIP, v.Metadata = c.CustomerIP, c.Metadata
	}
	return v
}

type customerJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Email     string          `json:"email"`
	UserAgent string          `json:"userAgent,omitempty"`
	IP        string          `json:"ip,omitempty"`
	Location  parley.Metadata `json:"location,omitempty"`
	Metadata  parley.Metadata `json:"metadata,omitempty"`
	FirstSeen time.Time       `json:"firstSeen"`
	LastSeen  time.Time       `json:"lastSeen"`
}

func viewCustomer(c *parley.Customer, forVisitor bool) customerJSON {
	v := customerJSON{ID: c.ID, Name: c.Name, Email: c.Email, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
	if !forVisitor {
		v.UserAgent, v.IP, v.Location, v.Metadata = c.UserAgent, c.IP, c.Location, c.Metadata
	}
	return v
}

type attachmentJSON struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

type messageJSON struct {
	ID          string            `json:"id"`
	Seq         int64             `json:"seq"`
	SenderType  parley.SenderType `json:"senderType"`
	SenderID    string            `json:"senderId,omitempty"`
	Sender      string            `json:"sender"`
	Kind        parley.Kind       `json:"kind"`
	Content     string            `json:"content"`
	CreatedAt   time.Time         `json:"createdAt"`
	Attachments []attachmentJSON  `json:"attachments"`
}

func viewMessage(m *parley.Message, customer string, names Names) messageJSON {
	v := messageJSON{ID: m.ID, Seq: m.Seq, SenderType: m.SenderType, SenderID: m.SenderID,
		Sender: senderName(m, customer, names), Kind: m.Kind, Content: m.Content, CreatedAt: m.CreatedAt,
		Attachments: make([]attachmentJSON, 0, len(m.Attachments))}
	for _, a := range m.Attachments {
		v.Attachments = append(v.Attachments, attachmentJSON{Name: a.Name, ContentType: a.ContentType, Size: a.Size, URL: a.URL})
	}
	return v
}

type transferJSON struct {
	ID          string    `json:"id"`
	FromAgentID string    `json:"fromAgentId,omitempty"`
	FromAgent   string    `json:"fromAgent,omitempty"`
	ToAgentID   string    `json:"toAgentId"`
	ToAgent     string    `json:"toAgent"`
	ByUserID    string    `json:"byUserId"`
	By          string    `json:"by"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"createdAt"`
}

type agentJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type transcriptJSON struct {
	ExportedAt   time.Time        `json:"exportedAt"`
	Conversation conversationJSON `json:"conversation"`
	Customer     customerJSON     `json:"customer"`
	Agents       []agentJSON      `json:"agents"`
	Transfers    []transferJSON   `json:"transfers"`
	Messages     []messageJSON    `json:"messages"`
}

// TranscriptJSON writes one conversation as a JSON document.
func TranscriptJSON(w io.Writer, t *desk.Transcript) error {
	names := t.AgentName
	out := transcriptJSON{ExportedAt: t.ExportedAt, Conversation: viewConversation(t.Conversation, names, t.ForVisitor),
		Customer: viewCustomer(t.Customer, t.ForVisitor), Agents: []agentJSON{}, Transfers: []transferJSON{},
		Messages: make([]messageJSON, 0, len(t.Messages))}
	for id, n := range t.Agents {
		out.Agents = append(out.Agents, agentJSON{ID: id, Name: n})
	}
	sortAgents(out.Agents)
	for _, tr := range t.Transfers {
		v := transferJSON{ID: tr.ID, FromAgentID: tr.FromAgentID, ToAgentID: tr.ToAgentID, ToAgent: names(tr.ToAgentID),
			ByUserID: tr.ByUserID, By: names(tr.ByUserID), Reason: tr.Reason, CreatedAt: tr.CreatedAt}
		if tr.FromAgentID != "" {
			v.FromAgent = names(tr.FromAgentID)
		}
		out.Transfers = append(out.Transfers, v)
	}
	for _, m := range t.Messages {
		out.Messages = append(out.Messages, viewMessage(m, t.Customer.Name, names))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func sortAgents(as []agentJSON) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].Name != as[j].Name {
			return as[i].Name < as[j].Name
		}
		return as[i].ID < as[j].ID
	})
}

// JSON streams conversations in bulk as one JSON document:
//
//	{"exportedAt":..,"from":..,"to":..,"conversations":[
//	 {"conversation":{..},"customer":{..},"messages":[{..},..]},
//	 ..]}
//
// written as it goes, so it needs no more memory for a million messages
// than for one.
type JSON struct {
	w        *bufio.Writer
	names    Names
	customer string
	open     bool // a conversation's messages array is open
	nconv    int
	nmsg     int
	err      error
}

// NewJSON starts a bulk JSON export on w; from and to are the range asked
// (zero: unbounded, written as null).
func NewJSON(w io.Writer, names Names, from, to time.Time) (*JSON, error) {
	j := &JSON{w: bufio.NewWriterSize(w, 32<<10), names: names}
	bound := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC()
	}
	head, err := json.Marshal(struct {
		ExportedAt time.Time `json:"exportedAt"`
		From       any       `json:"from"`
		To         any       `json:"to"`
	}{parley.Now(), bound(from), bound(to)})
	if err != nil {
		return nil, err
	}
	j.raw(string(head[:len(head)-1]) + `,"conversations":[`)
	return j, j.err
}

func (j *JSON) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *JSON) value(v any) {
	if j.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}

// Conversation starts a conversation; its messages follow.
func (j *JSON) Conversation(c *parley.Conversation, cu *parley.Customer) error {
	if j.open {
		j.raw("]}")
	}
	if j.nconv > 0 {
		j.raw(",")
	}
	j.raw("\n")
	j.nconv++
	j.nmsg = 0
	j.customer = cu.Name
	j.raw(`{"conversation":`)
	j.value(viewConversation(c, j.names, false))
	j.raw(`,"customer":`)
	j.value(viewCustomer(cu, false))
	j.raw(`,"messages":[`)
	j.open = true
	return j.err
}

// Message adds a message to the current conversation.
func (j *JSON) Message(m *parley.Message) error {
	if j.nmsg > 0 {
		j.raw(",")
	}
	j.nmsg++
	j.value(viewMessage(m, j.customer, j.names))
	return j.err
}

// Flush writes what is buffered.
func (j *JSON) Flush() error {
	if j.err == nil {
		j.err = j.w.Flush()
	}
	return j.err
}

// Close ends the document.
func (j *JSON) Close() error {
	if j.open {
		j.raw("]}")
	}
	j.raw("\n]}\n")
	return j.Flush()
}
