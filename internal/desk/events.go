package desk

import (
	"context"

	"github.com/parleychat/parley"
)

// Events receives news of what the desk committed, so that every transport
// hears of a change whichever transport made it (internal/realtime
// implements it and fans the news out to sockets). Calls happen after the
// store committed; errors are logged by the desk, never returned to the
// caller: the store is the truth, and clients catch up from it by seq.
type Events interface {
	// MessageAppended: m was stored (not on an idempotent retry) in c, the
	// conversation as it was when m was written: its status and assignee
	// tell which agents may see m. c may hold only its id, customer, status
	// and assignee.
	MessageAppended(ctx context.Context, c *parley.Conversation, m *parley.Message) error
	// ConversationChanged: after is the conversation as stored after change
	// (one of the Change* names; for ChangeDeleted its last state), before
	// as it was (nil when created). Agents who could see it before or can
	// see it after are told.
	ConversationChanged(ctx context.Context, before, after *parley.Conversation, change string) error
	// Read: reader read conversationID up to seq (their stored read seq).
	Read(ctx context.Context, conversationID string, reader Actor, seq int64) error
	// SessionsEnded: credentials of an agent stopped being valid; what was
	// opened with them (sockets) must close.
	SessionsEnded(ctx context.Context, e SessionsEnded) error
}

// Changes a conversation goes through, as ConversationChanged names them.
const (
	ChangeCreated     = "created"     // a visitor started it
	ChangeClaimed     = "claimed"     // an agent took it (claim, or a first reply)
	ChangeAssigned    = "assigned"    // a lead assigned it, or returned it to the queue
	ChangeTransferred = "transferred" // handed from one agent to another
	ChangeStatus      = "status"      // closed, reopened or requeued
	ChangeDeleted     = "deleted"     // removed with everything in it

	ChangeAutoAssigned = "auto_assigned" // the server gave it to an available agent (round-robin)
	ChangeRated        = "rated"         // the visitor rated it
)

// SessionsEnded names the credentials of one agent that ended.
type SessionsEnded struct {
	UserID string
	// Session, when set, is the one session that ended (a sign-out), and
	// Token the one API token revoked. When both are empty every credential
	// the user connected with ended (a new password, a new role, disabled),
	// except the session KeepSession: the one that made the change.
	Session     string
	Token       string
	KeepSession string
}

// noEvents is the Events of a desk given none.
type noEvents struct{}

func (noEvents) MessageAppended(context.Context, *parley.Conversation, *parley.Message) error {
	return nil
}
func (noEvents) ConversationChanged(context.Context, *parley.Conversation, *parley.Conversation, string) error {
	return nil
}
func (noEvents) Read(context.Context, string, Actor, int64) error   { return nil }
func (noEvents) SessionsEnded(context.Context, SessionsEnded) error { return nil }

// The emit helpers run after a commit. They use a context that outlives the
// caller's, since the change is made whether or not the caller still waits.

func (d *Desk) messageAppended(ctx context.Context, c *parley.Conversation, m *parley.Message) {
	if err := d.events.MessageAppended(background(ctx), c, m); err != nil {
		d.log.Warn("publishing a message", "conversation", m.ConversationID, "seq", m.Seq, "err", err)
	}
}

func (d *Desk) conversationChanged(ctx context.Context, before, after *parley.Conversation, change string) {
	if change == ChangeDeleted {
		d.recent.forget(after.ID)
	} else {
		d.recent.update(after)
	}
	if err := d.events.ConversationChanged(background(ctx), before, after, change); err != nil {
		d.log.Warn("publishing a conversation change", "conversation", after.ID, "change", change, "err", err)
	}
}

func (d *Desk) read(ctx context.Context, conversationID string, a Actor, seq int64) {
	if err := d.events.Read(background(ctx), conversationID, a, seq); err != nil {
		d.log.Warn("publishing a read", "conversation", conversationID, "err", err)
	}
}

func (d *Desk) sessionsEnded(ctx context.Context, e SessionsEnded) {
	if err := d.events.SessionsEnded(background(ctx), e); err != nil {
		d.log.Warn("publishing ended sessions", "user", e.UserID, "err", err)
	}
}
