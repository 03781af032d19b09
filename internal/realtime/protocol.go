package realtime

import (
	"encoding/json"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
)

// Version is the protocol version, offered by clients as the WebSocket
// subprotocol and reported in the ready frame. docs/protocol.md defines it.
const Version = "parley.v1"

// tokenProtocolPrefix marks the subprotocol that carries a visitor or API
// token ("parley.auth.<token>"): browsers cannot set headers on a WebSocket,
// and a token in the URL would end up in logs.
const tokenProtocolPrefix = "parley.auth."

// Frame types, client to server.
const (
	TypeAuth        = "auth"
	TypeSend        = "send"
	TypeTyping      = "typing"
	TypeRead        = "read"
	TypeResume      = "resume"
	TypeSubscribe   = "subscribe"
	TypeUnsubscribe = "unsubscribe"
	TypePing        = "ping"
)

// Frame types, server to client (TypeTyping and TypeRead go both ways).
const (
	TypeReady        = "ready"
	TypeAck          = "ack"
	TypeMessage      = "message"
	TypeResumed      = "resumed"
	TypePresence     = "presence"
	TypeConversation = "conversation"
	TypeActivity     = "activity"
	TypeError        = "error"
	TypePong         = "pong"
)

// Typing states.
const (
	TypingStart = "start"
	TypingStop  = "stop"
)

// Frame is every frame of the protocol, both ways: each type uses some of the
// fields (docs/protocol.md lists which) and omitted fields read as zero.
// One flat shape keeps decoding to a single pass and lets clients in any
// language read frames without a type switch on nested objects.
type Frame struct {
	Type string `json:"type"`
	// Ref is chosen by the client on any frame and echoed on the ack, pong,
	// resumed or error frame that answers it.
	Ref string `json:"ref,omitempty"`

	Token string `json:"token,omitempty"` // auth

	ConversationID  string `json:"conversationId,omitempty"`
	ClientMessageID string `json:"clientMessageId,omitempty"`
	Content         string `json:"content,omitempty"`
	Note            bool   `json:"note,omitempty"`    // send: a private note (agents only)
	State           string `json:"state,omitempty"`   // typing: start or stop
	Seq             int64  `json:"seq,omitempty"`     // read, message, ack, activity
	LastSeq         *int64 `json:"lastSeq,omitempty"` // resume, resumed
	Inbox           bool   `json:"inbox,omitempty"`   // subscribe: the agents' inbox

	// Server to client.
	Version      string            `json:"version,omitempty"`   // ready
	Principal    *Who              `json:"principal,omitempty"` // ready
	ID           string            `json:"id,omitempty"`        // message
	MessageID    string            `json:"messageId,omitempty"` // ack
	SenderID     string            `json:"senderId,omitempty"`
	SenderName   string            `json:"senderName,omitempty"` // message: an agent's name
	SenderType   string            `json:"senderType,omitempty"`
	Kind         string            `json:"kind,omitempty"`
	CreatedAt    *time.Time        `json:"createdAt,omitempty"`
	Metadata     parley.Metadata   `json:"metadata,omitempty"`
	Attachments  []WireAttachment  `json:"attachments,omitempty"`
	Duplicate    bool              `json:"duplicate,omitempty"` // ack of a retried send
	From         *Who              `json:"from,omitempty"`      // typing, read, presence
	Online       bool              `json:"online,omitempty"`    // presence
	LastSeen     *time.Time        `json:"lastSeen,omitempty"`  // presence
	Change       string            `json:"change,omitempty"`    // conversation
	Conversation *WireConversation `json:"conversation,omitempty"`
	Preview      string            `json:"preview,omitempty"` // activity
	Code         string            `json:"code,omitempty"`    // error
	Message      string            `json:"message,omitempty"` // error
}

// Who names a participant on the wire: Type is "agent" or "customer".
type Who struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// WireAttachment is a file of a message on the wire.
type WireAttachment struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	// ThumbnailURL is set for images.
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
}

// WireConversation is a conversation as clients see it on the socket. It
// leaves out what only the REST API shows agents (customer IP, metadata).
type WireConversation struct {
	ID                 string     `json:"id"`
	Status             string     `json:"status"`
	CustomerID         string     `json:"customerId"`
	AssigneeID         string     `json:"assigneeId,omitempty"`
	CreatedAt          time.Time  `json:"createdAt"`
	UpdatedAt          time.Time  `json:"updatedAt"`
	ClosedAt           *time.Time `json:"closedAt,omitempty"`
	LastMessageAt      *time.Time `json:"lastMessageAt,omitempty"`
	LastSeq            int64      `json:"lastSeq"`
	LastMessagePreview string     `json:"lastMessagePreview,omitempty"`
}

func whoOf(p Principal) *Who {
	return &Who{Type: string(p.Type), ID: p.ID, Name: p.Name}
}

func messageFrame(m *parley.Message) *Frame {
	at := m.CreatedAt
	f := &Frame{
		Type:            TypeMessage,
		ID:              m.ID,
		ConversationID:  m.ConversationID,
		Seq:             m.Seq,
		ClientMessageID: m.ClientMsgID,
		SenderID:        m.SenderID,
		SenderName:      m.SenderName,
		SenderType:      string(m.SenderType),
		Kind:            string(m.Kind),
		Content:         m.Content,
		CreatedAt:       &at,
		Metadata:        m.Metadata,
	}
	for _, a := range m.Attachments {
		f.Attachments = append(f.Attachments, WireAttachment{ID: a.ID, Type: string(a.Type),
			ContentType: a.ContentType, Size: a.Size, Name: a.Name, URL: a.URL, ThumbnailURL: a.ThumbnailURL()})
	}
	return f
}

func wireConversation(c *parley.Conversation) *WireConversation {
	return &WireConversation{
		ID: c.ID, Status: string(c.Status), CustomerID: c.CustomerID, AssigneeID: c.AssigneeID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt,
		LastMessageAt: c.LastMessageAt, LastSeq: c.LastSeq, LastMessagePreview: c.LastMessagePreview,
	}
}

// decodeFrame reads a frame a client sent: a JSON object with a type, in a
// text message. On error (EINVALID) the frame holds what could be read of it
// (its ref, to answer with).
func decodeFrame(typ websocket.MessageType, data []byte) (Frame, error) {
	var f Frame
	if typ != websocket.MessageText {
		return f, errNotText
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Type == "" {
		return f, errBadFrame
	}
	return f, nil
}

func encode(f *Frame) []byte {
	b, err := json.Marshal(f)
	if err == nil {
		return b
	}
	// Only metadata can fail to encode (it was valid JSON when stored, so
	// this does not happen in practice); the frame goes out without it.
	g := *f
	g.Metadata = nil
	b, err = json.Marshal(&g)
	if err != nil {
		return []byte(`{"type":"error","code":"internal","message":"Something went wrong on our side."}`)
	}
	return b
}

func errorFrame(ref string, err error) []byte {
	return encode(&Frame{Type: TypeError, Ref: ref, Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err)})
}
