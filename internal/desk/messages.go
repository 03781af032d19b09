package desk

import (
	"context"
	"time"

	"github.com/parleychat/parley"
)

// MessageQuery pages a conversation's messages by seq.
type MessageQuery struct {
	After  int64 // only seq > After
	Before int64 // when > 0, only seq < Before (the newest Limit of them)
	Limit  int   // 0: parley.MaxMessagePage
}

// ListMessages returns a page of a conversation's messages in seq order.
// Visitors never see notes. EUNAUTHORIZED, ENOTFOUND, EINVALID.
func (d *Desk) ListMessages(ctx context.Context, a Actor, id string, q MessageQuery) ([]*parley.Message, error) {
	const op = "desk.ListMessages"
	if q.After < 0 || q.Before < 0 {
		return nil, parley.Errorf(parley.EINVALID, "after and before must not be negative")
	}
	if q.Limit < 0 || q.Limit > parley.MaxMessagePage {
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", parley.MaxMessagePage)
	}
	c, err := d.authorized(ctx, a, ConversationView, op, id)
	if err != nil {
		return nil, err
	}
	ms, err := d.store.ListMessages(ctx, c.ID, parley.MessageFilter{AfterSeq: q.After, BeforeSeq: q.Before,
		Limit: q.Limit, ExcludeNotes: a.IsVisitor()})
	if err != nil {
		return nil, wrap(op, err)
	}
	ms = VisibleMessages(a, ms)
	if err := d.nameSenders(ctx, ms); err != nil {
		return nil, wrap(op, err)
	}
	return ms, nil
}

// MaySee reports whether a may be shown message m of a conversation they
// see: private notes are for agents only, whatever path shows them.
func (a Actor) MaySee(m *parley.Message) bool { return m.Kind != parley.KindNote || a.IsAgent() }

// VisibleMessages returns the messages of ms that a may be shown, in
// order. Every path that gives messages to a caller (lists, resumes,
// exports) goes through it, so a note never reaches a visitor even if a
// store were to return one.
func VisibleMessages(a Actor, ms []*parley.Message) []*parley.Message {
	out := ms[:0:0]
	for _, m := range ms {
		if a.MaySee(m) {
			out = append(out, m)
		}
	}
	if len(out) == len(ms) {
		return ms
	}
	return out
}

// Outgoing is a message a caller sends.
type Outgoing struct {
	ConversationID string
	Content        string
	Kind           parley.Kind // text (default) or note (agents only)
	ClientMsgID    string
	// As, when set, is who the caller claims to be: customer for visitors,
	// agent for users. A mismatch is EFORBIDDEN.
	As parley.SenderType
	// ClientTime is the sender's clock, kept for reference; the server's time
	// orders the timeline.
	ClientTime *time.Time
}

// SendMessage appends a message to a conversation. Visitors write to their
// own conversations; agents reply to those assigned to them and to waiting
// unassigned ones (which claims them), and write notes on any they see.
// Retrying with the same ClientMsgID returns the first message with
// created = false. The sender is checked against the conversation as it
// stands when the message is written (see appendChecked). EUNAUTHORIZED,
// EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT (closed, claimed by someone
// else meanwhile, or changing faster than the send could follow).
func (d *Desk) SendMessage(ctx context.Context, a Actor, out Outgoing) (*parley.Message, bool, error) {
	const op = "desk.SendMessage"
	if out.Kind == "" {
		out.Kind = parley.KindText
	}
	act := ConversationReply
	switch out.Kind {
	case parley.KindText:
	case parley.KindNote:
		act = ConversationNote
	default:
		return nil, false, parley.Errorf(parley.EINVALID, "kind must be text or note")
	}
	if _, err := allow(a, act); err != nil {
		return nil, false, err
	}
	sender := parley.SenderAgent
	if a.IsVisitor() {
		sender = parley.SenderCustomer
	}
	if out.As != "" && out.As != sender {
		return nil, false, parley.Errorf(parley.EFORBIDDEN, "You cannot send as %s.", out.As)
	}
	m := &parley.Message{ConversationID: out.ConversationID, ClientMsgID: out.ClientMsgID, SenderID: a.ID(),
		SenderType: sender, Kind: out.Kind, Content: out.Content}
	if out.ClientTime != nil {
		m.Metadata = parley.Metadata{"clientTime": out.ClientTime.UTC().Format(time.RFC3339Nano)}
	}
	if !parley.ValidID(out.ConversationID) {
		return nil, false, notFound("Conversation")
	}
	if err := m.Validate(); err != nil {
		return nil, false, err
	}
	c, created, err := d.appendChecked(ctx, op, a, act, m, d.recent.get(out.ConversationID))
	if err != nil {
		return nil, false, err
	}
	m.SenderName = a.senderName()
	if created {
		d.messageAppended(ctx, c, m)
	}
	return m, created, nil
}
