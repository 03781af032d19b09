package realtime

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// A broker payload is a 17-byte header and a frame ready to write to
// sockets, so each event is encoded to JSON once, however many sockets
// receive it, and subscribers route it without decoding it:
//
//	[0]     audience (below)
//	[1:9]   seq, big-endian: the message's seq, 0 for events without one
//	[9:17]  origin: the id of the connection the event came from, 0 if none
//	[17:]   the frame's JSON; for audienceSome, first a count byte and that
//	        many 36-byte agent ids
const headerLen = 17

const (
	audienceAll    byte = 0 // every subscriber
	audienceAgents byte = 1 // agents only (notes, the inbox)
	audienceServer byte = 2 // news for the server itself, never written to a socket
	// audienceSome: a conversation that is neither waiting nor everyone's
	// to see: its customer, the agents who see every conversation, and the
	// agents listed (its assignee, before and after a change), as REST
	// would show it.
	audienceSome byte = 3
)

func envelope(audience byte, seq int64, origin uint64, frame []byte) []byte {
	b := make([]byte, headerLen+len(frame))
	b[0] = audience
	binary.BigEndian.PutUint64(b[1:9], uint64(seq))
	binary.BigEndian.PutUint64(b[9:17], origin)
	copy(b[headerLen:], frame)
	return b
}

// envelopeFor addresses frame to the agents who may see a conversation
// in any of states: every agent when one of them is waiting, else those who
// see everything and the assignees.
func envelopeFor(frame []byte, states ...*parley.Conversation) []byte {
	var ids []string
	for _, c := range states {
		if c == nil {
			continue
		}
		if c.Status == parley.StatusWaiting {
			return envelope(audienceAgents, 0, 0, frame)
		}
		if parley.ValidID(c.AssigneeID) && !slices.Contains(ids, c.AssigneeID) {
			ids = append(ids, c.AssigneeID)
		}
	}
	b := make([]byte, headerLen+1+len(ids)*idLen+len(frame))
	b[0] = audienceSome
	b[headerLen] = byte(len(ids))
	for i, id := range ids {
		copy(b[headerLen+1+i*idLen:], id)
	}
	copy(b[headerLen+1+len(ids)*idLen:], frame)
	return b
}

const idLen = 36

type header struct {
	audience byte
	seq      int64
	origin   uint64
	some     []byte // audienceSome: the agent ids, idLen bytes each
}

func parseEnvelope(b []byte) (header, []byte, bool) {
	if len(b) < headerLen {
		return header{}, nil, false
	}
	h := header{
		audience: b[0],
		seq:      int64(binary.BigEndian.Uint64(b[1:9])),
		origin:   binary.BigEndian.Uint64(b[9:17]),
	}
	b = b[headerLen:]
	if h.audience == audienceSome {
		if len(b) < 1 || len(b) < 1+int(b[0])*idLen {
			return header{}, nil, false
		}
		n := int(b[0])
		h.some, b = b[1:1+n*idLen], b[1+n*idLen:]
	}
	return h, b, true
}

// allows reports whether the holder of p may have the event.
func (h header) allows(p Principal) bool {
	switch h.audience {
	case audienceAll:
		return true
	case audienceAgents:
		return p.IsAgent()
	case audienceSome:
		if !p.IsAgent() || p.SeesAll {
			return true
		}
		for i := 0; i+idLen <= len(h.some); i += idLen {
			if string(h.some[i:i+idLen]) == p.ID {
				return true
			}
		}
	}
	return false
}

// Publisher turns committed changes into events on the broker: it is the
// desk's Events. The desk calls it after each commit, whether the change
// came from REST or from a socket, so every socket on every node hears of
// it. Publishing is best effort: a socket that misses an event catches up
// from the store by seq, so errors are for logging, never for failing the
// request that committed.
type Publisher struct {
	broker parley.Broker
}

var _ desk.Events = (*Publisher)(nil)

// NewPublisher returns a Publisher on b.
func NewPublisher(b parley.Broker) *Publisher { return &Publisher{broker: b} }

// MessageAppended publishes a committed message to its conversation (notes
// to agents only) and its activity to the inbox of the agents who may see
// conversation c. EUNAVAILABLE.
func (p *Publisher) MessageAppended(ctx context.Context, c *parley.Conversation, m *parley.Message) error {
	aud := audienceAll
	if m.Kind == parley.KindNote {
		aud = audienceAgents
	}
	err := p.broker.Publish(ctx, parley.ConversationTopic(m.ConversationID),
		envelope(aud, m.Seq, 0, encode(messageFrame(m))))
	at := m.CreatedAt
	act := &Frame{Type: TypeActivity, ConversationID: m.ConversationID, Seq: m.Seq,
		SenderType: string(m.SenderType), Kind: string(m.Kind), CreatedAt: &at, Preview: m.Preview()}
	if err2 := p.broker.Publish(ctx, parley.InboxTopic, envelopeFor(encode(act), c)); err == nil {
		err = err2
	}
	return err
}

// ConversationChanged publishes a conversation's new state (change names
// it) to the conversation's sockets that may still see it, and to the inbox
// of the agents who could see it before or can now. A socket of an agent
// who can no longer see it stops following it. EUNAVAILABLE.
func (p *Publisher) ConversationChanged(ctx context.Context, before, after *parley.Conversation, change string) error {
	f := encode(&Frame{Type: TypeConversation, ConversationID: after.ID, Change: change, Conversation: wireConversation(after)})
	conv := envelope(audienceAll, 0, 0, f)
	if after.Status != parley.StatusWaiting {
		conv = envelopeFor(f, after)
	}
	err := p.broker.Publish(ctx, parley.ConversationTopic(after.ID), conv)
	if err2 := p.broker.Publish(ctx, parley.InboxTopic, envelopeFor(f, before, after)); err == nil {
		err = err2
	}
	return err
}

// Read publishes that reader read conversationID up to seq. EUNAVAILABLE.
func (p *Publisher) Read(ctx context.Context, conversationID string, reader desk.Actor, seq int64) error {
	f := encode(&Frame{Type: TypeRead, ConversationID: conversationID, From: whoOf(principalOf(reader)), Seq: seq})
	return p.broker.Publish(ctx, parley.ConversationTopic(conversationID), envelope(audienceAll, 0, 0, f))
}

// sessionsEnded is the payload of an audienceServer event on a user's
// topic: which of their sockets must close (see desk.SessionsEnded).
type sessionsEnded struct {
	Session string `json:"session,omitempty"`
	Token   string `json:"token,omitempty"`
	Keep    string `json:"keep,omitempty"`
}

// SessionsEnded tells every node to close the sockets opened with the
// credentials that ended (with 4401). EUNAVAILABLE.
func (p *Publisher) SessionsEnded(ctx context.Context, e desk.SessionsEnded) error {
	b, err := json.Marshal(sessionsEnded{Session: e.Session, Token: e.Token, Keep: e.KeepSession})
	if err != nil {
		return parley.WrapError(parley.EINTERNAL, "realtime.SessionsEnded", err)
	}
	return p.broker.Publish(ctx, parley.UserTopic(e.UserID), envelope(audienceServer, 0, 0, b))
}

// ends reports whether a socket of p must close for e.
func (e sessionsEnded) ends(p Principal) bool {
	switch {
	case e.Session != "":
		return p.SessionID == e.Session
	case e.Token != "":
		return p.TokenID == e.Token
	}
	return p.SessionID == "" || p.SessionID != e.Keep
}
