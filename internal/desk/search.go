package desk

import (
	"context"
	"time"

	"github.com/parleychat/parley"
)

// SearchRequest is a search as a caller asks it.
type SearchRequest struct {
	Text     string
	Statuses []parley.Status
	// Agent is "" (anyone), "me", or a user id (another agent's needs
	// inbox.others, as listing their inbox does): the conversation's assignee.
	Agent    string
	From, To time.Time // the time of the matching message: From <= t < To
	Cursor   string
	Limit    int
}

// Search finds messages (notes included), customers and conversation ids
// among the conversations the caller may see: an agent the waiting ones and
// their own, senior agents and above every one. Visitors may not search.
// EUNAUTHORIZED, EFORBIDDEN (visitors; another agent's conversations without
// the role), EINVALID.
func (d *Desk) Search(ctx context.Context, a Actor, r SearchRequest) (*parley.SearchPage, error) {
	s, err := allow(a, ConversationSearch)
	if err != nil {
		return nil, err
	}
	if !a.IsAgent() {
		return nil, errForbidden
	}
	q := parley.SearchQuery{Text: r.Text, Statuses: r.Statuses, From: r.From, To: r.To, Cursor: r.Cursor, Limit: r.Limit}
	if s != All {
		q.WaitingOrAssignedTo = a.ID()
	}
	switch r.Agent {
	case "":
	case "me":
		q.AssigneeID = a.ID()
	default:
		if !parley.ValidID(r.Agent) {
			return nil, parley.Errorf(parley.EINVALID, "agent must be me or a user id")
		}
		if r.Agent != a.ID() {
			if _, err := allow(a, InboxOfOthers); err != nil {
				return nil, err
			}
		}
		q.AssigneeID = r.Agent
	}
	p, err := d.store.Search(ctx, q)
	if err != nil {
		if parley.IsCode(err, parley.EINVALID) {
			return nil, err
		}
		return nil, wrap("desk.Search", err)
	}
	return p, nil
}

// Transcript is one conversation whole, as an export shows it to its caller.
type Transcript struct {
	Conversation *parley.Conversation
	Customer     *parley.Customer
	Messages     []*parley.Message  // seq order
	Transfers    []*parley.Transfer // oldest first; none for a visitor
	// Agents names every agent the transcript mentions (assignee, senders,
	// transfers), by id; an agent deleted since reads as "Former agent".
	Agents map[string]string
	// ForVisitor marks the visitor's own copy: no notes, no transfers, and
	// none of what only the support team sees (addresses, metadata).
	ForVisitor bool
	ExportedAt time.Time
}

// AgentName returns the name of agent id as the transcript knows it.
func (t *Transcript) AgentName(id string) string {
	if n, ok := t.Agents[id]; ok {
		return n
	}
	return "Former agent"
}

// ExportTranscript reads a conversation whole for an export. Team leads and
// admins may export any; a visitor their own (without notes, transfers and
// team-only data); other agents none. EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND.
func (d *Desk) ExportTranscript(ctx context.Context, a Actor, id string) (*Transcript, error) {
	const op = "desk.ExportTranscript"
	c, err := d.authorized(ctx, a, ConversationExport, op, id)
	if err != nil {
		return nil, err
	}
	t := &Transcript{Conversation: c, ForVisitor: a.IsVisitor(), Agents: map[string]string{}, ExportedAt: parley.Now()}
	if t.Customer, err = d.store.GetCustomer(ctx, c.CustomerID); err != nil {
		return nil, wrap(op, err)
	}
	for after := int64(0); ; {
		ms, err := d.store.ListMessages(ctx, c.ID, parley.MessageFilter{AfterSeq: after, ExcludeNotes: t.ForVisitor})
		if err != nil {
			return nil, wrap(op, err)
		}
		t.Messages = append(t.Messages, ms...)
		if len(ms) < parley.MaxMessagePage {
			break
		}
		after = ms[len(ms)-1].Seq
	}
	if !t.ForVisitor {
		if t.Transfers, err = d.store.ListTransfers(ctx, c.ID); err != nil {
			return nil, wrap(op, err)
		}
	}
	ids := []string{c.AssigneeID}
	for _, m := range t.Messages {
		if m.SenderType == parley.SenderAgent {
			ids = append(ids, m.SenderID)
		}
	}
	for _, tr := range t.Transfers {
		ids = append(ids, tr.FromAgentID, tr.ToAgentID, tr.ByUserID)
	}
	for _, uid := range ids {
		if uid == "" {
			continue
		}
		if _, done := t.Agents[uid]; done {
			continue
		}
		u, err := d.store.GetUser(ctx, uid)
		switch {
		case err == nil:
			t.Agents[uid] = u.Name
		case parley.IsCode(err, parley.ENOTFOUND):
			t.Agents[uid] = "Former agent"
		default:
			return nil, wrap(op, err)
		}
	}
	if t.ForVisitor {
		t.Conversation = forVisitor(c)
		cu := *t.Customer
		t.Customer = &parley.Customer{ID: cu.ID, Name: cu.Name, Email: cu.Email, FirstSeen: cu.FirstSeen, LastSeen: cu.LastSeen}
		for i, m := range t.Messages {
			mc := *m
			mc.Metadata, mc.ClientMsgID = nil, ""
			t.Messages[i] = &mc
		}
	}
	return t, nil
}

// forVisitor returns a copy of c without what only the support team sees.
func forVisitor(c *parley.Conversation) *parley.Conversation {
	v := *c
	v.CustomerIP, v.Metadata = "", nil
	return &v
}

// ExportQuery selects the conversations of a bulk export by creation time.
type ExportQuery struct {
	From, To time.Time // From <= created < To; each bound when not zero
}

// Export is a bulk export that was allowed and can now run.
type Export struct {
	d     *Desk
	query ExportQuery
	// Agents names every agent account (deleted ones are missing).
	Agents map[string]string
}

// StartExport checks that a may export conversations in bulk (team leads
// and admins) and that q is valid, and readies the agents' names, before
// anything is written. EUNAUTHORIZED, EFORBIDDEN, EINVALID.
func (d *Desk) StartExport(ctx context.Context, a Actor, q ExportQuery) (*Export, error) {
	s, err := allow(a, ConversationExport)
	if err != nil {
		return nil, err
	}
	if s != All {
		return nil, errForbidden
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, parley.Errorf(parley.EINVALID, "from must be before to")
	}
	us, err := d.store.ListUsers(ctx, parley.UserFilter{IncludeDisabled: true})
	if err != nil {
		return nil, wrap("desk.StartExport", err)
	}
	e := &Export{d: d, query: q, Agents: make(map[string]string, len(us))}
	for _, u := range us {
		e.Agents[u.ID] = u.Name
	}
	return e, nil
}

// Run walks the export's conversations, oldest first, each followed by its
// messages (notes included), handing them to visit as they are read: memory
// stays flat whatever the range holds. Errors of visit are returned as they
// are.
func (e *Export) Run(ctx context.Context, visit parley.ExportVisitor) error {
	err := e.d.store.ExportConversations(ctx, parley.ExportFilter{From: e.query.From, To: e.query.To}, visit)
	if err != nil && parley.ErrorCode(err) == parley.EINTERNAL {
		return wrap("desk.Export", err)
	}
	return err
}
