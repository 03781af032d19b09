package parley

import (
	"time"
	"unicode/utf8"
)

// SenderType tells who wrote a message.
type SenderType string

const (
	SenderCustomer SenderType = "customer"
	SenderAgent    SenderType = "agent"
	SenderSystem   SenderType = "system"
)

// Valid reports whether s is customer, agent or system.
func (s SenderType) Valid() bool { return s == SenderCustomer || s == SenderAgent || s == SenderSystem }

// Kind is what a message holds.
type Kind string

const (
	KindText   Kind = "text"
	KindFile   Kind = "file"
	KindSystem Kind = "system" // an event in the timeline: assigned, transferred, closed...
	KindNote   Kind = "note"   // a private note among agents; never shown to the customer
)

// Valid reports whether k is text, file, system or note.
func (k Kind) Valid() bool { return k == KindText || k == KindFile || k == KindSystem || k == KindNote }

// Message is one entry of a conversation's timeline. Seq numbers a
// conversation's messages 1, 2, 3... with no gap: clients detect missed
// messages by seq and resume after the last one they hold.
type Message struct {
	ID             string
	ConversationID string
	Seq            int64
	// ClientMsgID is the sender's idempotency key: appending a message with the
	// same (conversation, sender, client id) again returns the first one.
	ClientMsgID string
	SenderID    string // a user id, a customer id, or "" for the system
	SenderType  SenderType
	Kind        Kind
	Content     string
	CreatedAt   time.Time
	Metadata    Metadata
	Attachments []*Attachment
	// SenderName is the name of the agent who wrote an agent's message, as it
	// is now: not stored with the message, filled by the desk when it gives
	// messages to a client ("" for customers, the system, a deleted account).
	SenderName string
	// Expect, when set, makes the append conditional: when the
	// conversation's status or assignee is no longer what Expect says, the
	// append writes nothing and returns ECONFLICT (checked before the client
	// id). A caller that checked the sender against a conversation it read
	// earlier makes that check hold when the message is written. Not stored.
	Expect *ConversationState
}

// Limits of message fields.
const (
	MaxContentLen     = 10000
	MaxClientMsgIDLen = 100
	MaxAttachments    = 10
)

// Validate checks the fields a store writes. It returns EINVALID.
func (m *Message) Validate() error {
	const op = "Message.Validate"
	if err := checkID(op, "conversation id", m.ConversationID, true); err != nil {
		return err
	}
	if !m.SenderType.Valid() {
		return Errorf(EINVALID, "sender type must be customer, agent or system")
	}
	if !m.Kind.Valid() {
		return Errorf(EINVALID, "kind must be text, file, system or note")
	}
	if m.SenderType == SenderSystem {
		if m.SenderID != "" {
			return Errorf(EINVALID, "a system message has no sender id")
		}
	} else if err := checkID(op, "sender id", m.SenderID, true); err != nil {
		return err
	}
	if m.Kind == KindNote && m.SenderType != SenderAgent {
		return Errorf(EINVALID, "only agents write notes")
	}
	if m.Kind == KindSystem && m.SenderType != SenderSystem {
		return Errorf(EINVALID, "system messages come from the system")
	}
	required := m.Kind != KindFile
	if err := checkText(op, "content", m.Content, MaxContentLen, required); err != nil {
		return err
	}
	if required && isBlank(m.Content) {
		return Errorf(EINVALID, "content is required")
	}
	if err := checkText(op, "client message id", m.ClientMsgID, MaxClientMsgIDLen, false); err != nil {
		return err
	}
	if e := m.Expect; e != nil {
		if !e.Status.Valid() {
			return Errorf(EINVALID, "expected status must be waiting, active or closed")
		}
		if err := checkID(op, "expected assignee id", e.AssigneeID, false); err != nil {
			return err
		}
	}
	if m.Kind == KindFile && len(m.Attachments) == 0 {
		return Errorf(EINVALID, "a file message needs an attachment")
	}
	if m.Kind != KindFile && len(m.Attachments) > 0 {
		return Errorf(EINVALID, "only file messages carry attachments")
	}
	if len(m.Attachments) > MaxAttachments {
		return Errorf(EINVALID, "at most %d attachments per message", MaxAttachments)
	}
	for _, a := range m.Attachments {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	return validateMetadata(op, m.Metadata)
}

func isBlank(s string) bool {
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r', '\u00a0', '\u200b':
		default:
			return false
		}
	}
	return true
}

// Preview returns the text an inbox row shows for m.
func (m *Message) Preview() string {
	s := m.Content
	if s == "" && len(m.Attachments) > 0 {
		s = m.Attachments[0].Name
	}
	if utf8.RuneCountInString(s) <= MaxPreviewLen {
		return s
	}
	r := []rune(s)
	return string(r[:MaxPreviewLen])
}

// MessageFilter selects messages of one conversation, in seq order.
type MessageFilter struct {
	AfterSeq  int64 // only seq > AfterSeq
	BeforeSeq int64 // when > 0, only seq < BeforeSeq: the newest Limit of them
	Limit     int   // 1..MaxMessagePage; 0 means MaxMessagePage
	// ExcludeNotes leaves out KindNote messages (a customer's view).
	ExcludeNotes bool
}

// MaxMessagePage is the most messages one ListMessages call returns.
const MaxMessagePage = 500

// AttachmentType is the seed's coarse kind of a file.
type AttachmentType string

const (
	AttachmentImage    AttachmentType = "image"
	AttachmentDocument AttachmentType = "document"
)

// Attachment is a file carried by a KindFile message.
type Attachment struct {
	ID             string
	MessageID      string
	ConversationID string
	Key            string // where the blob store keeps the bytes
	URL            string // the path clients download it from
	Type           AttachmentType
	ContentType    string // detected from the bytes
	Size           int64
	Name           string // the name the uploader gave, for display and downloads
	Checksum       string // hex SHA-256 of the bytes
	CreatedAt      time.Time
}

// Validate checks the fields a store writes. It returns EINVALID.
func (a *Attachment) Validate() error {
	const op = "Attachment.Validate"
	if a.Type != AttachmentImage && a.Type != AttachmentDocument {
		return Errorf(EINVALID, "file type must be image or document")
	}
	if err := checkText(op, "file key", a.Key, 500, true); err != nil {
		return err
	}
	if err := checkText(op, "file url", a.URL, 2000, true); err != nil {
		return err
	}
	if err := checkText(op, "content type", a.ContentType, 200, true); err != nil {
		return err
	}
	if err := checkText(op, "file name", a.Name, 255, true); err != nil {
		return err
	}
	if a.Size < 0 {
		return Errorf(EINVALID, "file size must not be negative")
	}
	if len(a.Checksum) != 64 {
		return Errorf(EINVALID, "checksum must be a hex SHA-256")
	}
	return nil
}
