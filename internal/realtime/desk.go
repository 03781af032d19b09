package realtime

import (
	"context"
	"net/http"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// deskService is the Service of a real server: every decision is the
// desk's, so the socket refuses exactly what REST refuses, with the same
// codes. It publishes nothing itself: the desk's Events does, after commit.
type deskService struct {
	d      *desk.Desk
	cookie string
}

// NewDeskService returns the Service that runs the socket's requests as the
// desk's use cases. sessionCookie names the agents' session cookie (the one
// the REST API sets).
func NewDeskService(d *desk.Desk, sessionCookie string) Service {
	return &deskService{d: d, cookie: sessionCookie}
}

var (
	_ Service          = (*deskService)(nil)
	_ PresenceRecorder = (*deskService)(nil)
)

// actor returns the desk's record of p; a Principal made elsewhere is
// anonymous, so the desk refuses it.
func actor(p Principal) desk.Actor {
	if p.Type == parley.ParticipantCustomer {
		return desk.Actor{Kind: desk.Visitor, Customer: &parley.Customer{ID: p.ID, Name: p.Name}}
	}
	a, _ := p.Actor.(desk.Actor)
	return a
}

// principalOf describes an authenticated desk actor to the socket.
func principalOf(a desk.Actor) Principal {
	if a.IsVisitor() {
		// The socket keeps the visitor's id and name only, and actor makes
		// the desk's record from them for each call: the calls it makes
		// (messages, reads, presence) need no more of the customer, whose
		// record would otherwise stay with every idle socket.
		return Principal{Type: parley.ParticipantCustomer, ID: a.Customer.ID, Name: a.Customer.Name}
	}
	p := Principal{Type: parley.ParticipantAgent, Actor: a, SeesAll: a.SeesEveryConversation()}
	if a.User != nil {
		p.ID, p.Name = a.User.ID, a.User.Name
	}
	if a.Session != nil {
		p.SessionID = a.Session.ID
	}
	if a.Token != nil {
		p.TokenID = a.Token.ID
	}
	return p
}

var errSignIn = &parley.Error{Code: parley.EUNAUTHORIZED, Message: "Please sign in."}

func (s *deskService) Authenticate(ctx context.Context, r *http.Request, token string) (Principal, error) {
	var a desk.Actor
	var err error
	if token != "" {
		a, err = s.d.AuthenticateBearer(ctx, token)
	} else {
		ck, cerr := r.Cookie(s.cookie)
		if cerr != nil || ck.Value == "" {
			return Principal{}, errSignIn
		}
		a, err = s.d.AuthenticateSession(ctx, ck.Value)
	}
	if err != nil {
		return Principal{}, err
	}
	return principalOf(a), nil
}

func (s *deskService) Conversation(ctx context.Context, p Principal, id string) (*parley.Conversation, error) {
	return s.d.GetConversation(ctx, actor(p), id)
}

func (s *deskService) Messages(ctx context.Context, p Principal, id string, after int64, limit int) ([]*parley.Message, error) {
	return s.d.ListMessages(ctx, actor(p), id, desk.MessageQuery{After: after, Limit: limit})
}

func (s *deskService) Send(ctx context.Context, p Principal, in SendInput) (*parley.Message, bool, error) {
	out := desk.Outgoing{ConversationID: in.ConversationID, Content: in.Content, ClientMsgID: in.ClientMessageID}
	if in.Note {
		out.Kind = parley.KindNote
	}
	return s.d.SendMessage(ctx, actor(p), out)
}

func (s *deskService) MarkRead(ctx context.Context, p Principal, id string, seq int64) error {
	_, err := s.d.MarkRead(ctx, actor(p), id, seq)
	return err
}

// Connected and Disconnected keep a visitor's last seen: when they came,
// and when their last socket left. For agents they start and stop the
// countdown that takes a disconnected agent offline (desk.OfflineGrace).
func (s *deskService) Connected(ctx context.Context, p Principal) error {
	if p.IsAgent() {
		s.d.AgentConnected(ctx, actor(p))
		return nil
	}
	return s.d.VisitorSeen(ctx, actor(p))
}

func (s *deskService) Disconnected(ctx context.Context, p Principal) error {
	if p.IsAgent() {
		s.d.AgentDisconnected(ctx, actor(p))
		return nil
	}
	return s.d.VisitorSeen(ctx, actor(p))
}
