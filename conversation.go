package parley

import "time"

// Status is where a conversation stands.
type Status string

const (
	StatusWaiting Status = "waiting" // the customer waits for an agent
	StatusActive  Status = "active"  // an agent is on it
	StatusClosed  Status = "closed"
)

// Valid reports whether s is waiting, active or closed.
func (s Status) Valid() bool { return s == StatusWaiting || s == StatusActive || s == StatusClosed }

// Conversation is one chat between a customer and the support team. A
// customer has at most one conversation that is not closed.
type Conversation struct {
	ID            string
	Status        Status
	CustomerID    string
	AssigneeID    string // "" when unassigned
	CustomerIP    string
	Metadata      Metadata
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      *time.Time
	LastMessageAt *time.Time
	// LastSeq is the seq of the newest message (0 when there is none).
	LastSeq int64
	// LastCustomerSeq is the seq of the newest message the customer sent.
	LastCustomerSeq int64
	// LastMessagePreview is the start of the newest message visitors may see
	// (notes excluded), for inbox rows.
	LastMessagePreview string
}

// ConversationState is what decides who may see and answer a conversation
// besides its customer: its status and its assignee.
type ConversationState struct {
	Status     Status
	AssigneeID string // "" when unassigned
}

// State returns c's status and assignee.
func (c *Conversation) State() ConversationState {
	return ConversationState{Status: c.Status, AssigneeID: c.AssigneeID}
}

// MaxPreviewLen is how many characters of a message LastMessagePreview keeps.
const MaxPreviewLen = 140

// Validate checks the fields a store writes. It returns EINVALID.
func (c *Conversation) Validate() error {
	const op = "Conversation.Validate"
	if !c.Status.Valid() {
		return Errorf(EINVALID, "status must be waiting, active or closed")
	}
	if err := checkID(op, "customer id", c.CustomerID, true); err != nil {
		return err
	}
	if err := checkID(op, "assignee id", c.AssigneeID, false); err != nil {
		return err
	}
	if err := checkText(op, "customer ip", c.CustomerIP, 64, false); err != nil {
		return err
	}
	return validateMetadata(op, c.Metadata)
}

// ConversationUpdate changes the non-nil fields of a conversation. The Expect
// fields make the update conditional: when set and the stored value differs,
// the update fails with ECONFLICT and changes nothing (claims and assignments
// race safely this way).
type ConversationUpdate struct {
	Status     *Status
	AssigneeID *string // "" unassigns
	Metadata   Metadata

	ExpectStatus     *Status
	ExpectAssigneeID *string
}

// InboxFilter selects conversations for an inbox, newest activity first
// (activity = last message time, else creation time; ties broken by id).
type InboxFilter struct {
	Statuses   []Status // empty: any status
	AssigneeID string   // only conversations assigned to this user
	Unassigned bool     // only conversations with no assignee
	CustomerID string   // only this customer's conversations
	// WaitingOrAssignedTo, when set, keeps conversations that are waiting or
	// assigned to this user: what an agent is allowed to see.
	WaitingOrAssignedTo string
	// Viewer is the user whose unread counts are computed; "" counts every
	// customer message as unread.
	Viewer string
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor string // from a previous page's NextCursor
}

// Page sizes for every cursor-paginated listing.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// InboxEntry is one row of an inbox page.
type InboxEntry struct {
	Conversation *Conversation
	// Unread counts the customer's messages after the viewer's last read seq.
	Unread int
	// CustomerName and CustomerEmail are the customer's, read in the same
	// query as the page (no lookup per row), so an inbox shows who left an
	// address.
	CustomerName  string
	CustomerEmail string
}

// InboxPage is one page of ListConversations.
type InboxPage struct {
	Entries    []InboxEntry
	NextCursor string // "" on the last page
	// Total counts every conversation the filter selects (all pages).
	Total int
	// UnreadConversations counts the selected conversations with Unread > 0.
	UnreadConversations int
}

// ParticipantType tells whether a participant is a customer or an agent.
type ParticipantType string

const (
	ParticipantCustomer ParticipantType = "customer"
	ParticipantAgent    ParticipantType = "agent"
)

// Participant is someone taking part in a conversation, with how far they read.
type Participant struct {
	ConversationID string
	UserID         string // a user id or a customer id, per UserType
	UserType       ParticipantType
	JoinedAt       time.Time
	LastSeenAt     time.Time
	LastReadSeq    int64
}

// Transfer records a conversation handed from one agent to another.
type Transfer struct {
	ID             string
	ConversationID string
	FromAgentID    string // "" when the conversation was unassigned
	ToAgentID      string
	ByUserID       string // who made the transfer (the from agent, or a lead)
	Reason         string
	CreatedAt      time.Time
}

// MaxReasonLen bounds a transfer's reason.
const MaxReasonLen = 1000

// Validate checks the fields a store writes. It returns EINVALID.
func (t *Transfer) Validate() error {
	const op = "Transfer.Validate"
	if err := checkID(op, "conversation id", t.ConversationID, true); err != nil {
		return err
	}
	if err := checkID(op, "from agent id", t.FromAgentID, false); err != nil {
		return err
	}
	if err := checkID(op, "to agent id", t.ToAgentID, true); err != nil {
		return err
	}
	if err := checkID(op, "by user id", t.ByUserID, true); err != nil {
		return err
	}
	return checkText(op, "reason", t.Reason, MaxReasonLen, false)
}
