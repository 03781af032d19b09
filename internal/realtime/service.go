package realtime

import (
	"context"
	"net/http"

	"github.com/parleychat/parley"
)

// Principal is who holds a socket.
type Principal struct {
	// Type is ParticipantAgent for a signed-in user (cookie or API token) and
	// ParticipantCustomer for a widget visitor.
	Type parley.ParticipantType
	ID   string // the user id or the customer id
	Name string
	// SessionID is the agent's session when the socket authenticated with
	// the session cookie, TokenID the API token when with one: when either
	// ends, the socket closes.
	SessionID string
	TokenID   string
	// SeesAll is set for agents who may see every conversation, not only
	// the waiting ones and their own: they get every conversation's events.
	SeesAll bool
	// Actor is the service layer's own record of an agent (desk.Actor),
	// handed back unchanged on every call; nil for visitors, whose record
	// the service makes from ID and Name.
	Actor any
}

// IsAgent reports whether p is a signed-in user.
func (p Principal) IsAgent() bool { return p.Type == parley.ParticipantAgent }

// SendInput is a message written on the socket.
type SendInput struct {
	ConversationID  string
	ClientMessageID string
	Content         string
	Note            bool // a private note among agents
}

// Service is what the socket needs of the service layer (NewDeskService
// adapts internal/desk to it). The socket enforces no rule of its own about
// who may see or write what: every decision is the Service's, so the socket
// answers exactly as REST does. Messages and reads the Service stores are
// published after they commit by the service layer itself (the desk's
// Events is a Publisher), never by the socket.
type Service interface {
	// Authenticate returns who r is. With token != "" (a visitor or API
	// token, from the Authorization header, the auth subprotocol or the
	// auth frame) only the token counts; with token == "" the session cookie
	// of r does (the socket checked Origin first). EUNAUTHORIZED;
	// EUNAVAILABLE.
	Authenticate(ctx context.Context, r *http.Request, token string) (Principal, error)
	// Conversation returns conversation id if p may see it. ENOTFOUND (also
	// when it exists but p may not see it), EUNAVAILABLE.
	Conversation(ctx context.Context, p Principal, id string) (*parley.Conversation, error)
	// Messages returns up to limit (1..parley.MaxMessagePage) messages of
	// the conversation with seq > afterSeq, in seq order, as p may see them
	// (notes left out for customers). ENOTFOUND as Conversation; EINVALID;
	// EUNAVAILABLE.
	Messages(ctx context.Context, p Principal, conversationID string, afterSeq int64, limit int) ([]*parley.Message, error)
	// Send appends a message as p; the service layer publishes it once
	// committed. A retried ClientMessageID returns the stored message with
	// created == false and stores and publishes nothing. ENOTFOUND; EFORBIDDEN (may see
	// but not write, e.g. another agent's conversation, or a customer's note);
	// ECONFLICT (closed); EINVALID; ERATELIMITED; EUNAVAILABLE.
	Send(ctx context.Context, p Principal, in SendInput) (m *parley.Message, created bool, err error)
	// MarkRead records that p read the conversation up to seq (the service
	// layer publishes the read). ENOTFOUND; EINVALID; EUNAVAILABLE.
	MarkRead(ctx context.Context, p Principal, conversationID string, seq int64) error
}

// PresenceRecorder is optionally implemented by a Service that keeps when a
// principal was last connected (a visitor's last seen). Connected is called
// when p's first socket opens, Disconnected when their last one closes, both
// on this node. Errors are logged only.
type PresenceRecorder interface {
	Connected(ctx context.Context, p Principal) error
	Disconnected(ctx context.Context, p Principal) error
}
