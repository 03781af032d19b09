package parley

import (
	"context"
	"time"
)

// Store keeps everything Parley knows. internal/sqlite and internal/postgres
// implement it; internal/storetest is the conformance suite both must pass.
//
// Rules every method follows:
//   - Ids are assigned by the store when empty (NewID) and must be valid UUIDs
//     when given; a malformed id in a lookup is ENOTFOUND, never a driver error.
//   - Times are set by the store (UTC, microsecond precision) unless stated.
//   - Writes validate their input with the type's Validate method first and
//     return EINVALID without touching the database.
//   - A write either happens whole or not at all.
//   - Driver errors are translated by code: unique violations to ECONFLICT,
//     foreign-key violations to ENOTFOUND (the referenced record is missing),
//     check violations to EINVALID, connection failures to EUNAVAILABLE.
type Store interface {
	UserStore
	SessionStore
	CustomerStore
	ConversationStore
	MessageStore
	ContentStore
	FileStore
	WorkflowStore
	SettingsStore
	SearchStore
	ExportStore

	// Ping checks that the database answers. EUNAVAILABLE when it does not.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// UserStore keeps agent accounts.
type UserStore interface {
	// CreateUser inserts u, filling ID, CreatedAt and UpdatedAt. The email is
	// normalized first. ECONFLICT when the email is taken; EINVALID.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user with id. ENOTFOUND.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail returns the user with the (normalized) email. ENOTFOUND.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns the users f selects, ordered by name then id.
	ListUsers(ctx context.Context, f UserFilter) ([]*User, error)
	// CountUsers counts every user, disabled ones included.
	CountUsers(ctx context.Context) (int, error)
	// UpdateUser applies up and returns the user as stored. ENOTFOUND,
	// ECONFLICT (email taken), EINVALID.
	UpdateUser(ctx context.Context, id string, up UserUpdate) (*User, error)
	// DeleteUser removes a user with their sessions, tokens and personal quick
	// replies; conversations assigned to them become unassigned. ENOTFOUND.
	DeleteUser(ctx context.Context, id string) error

	// UserNames returns the names of the users among ids, by id, in one
	// query (disabled users included; ids that are malformed or name no user
	// are left out). At most MaxUserNames ids; EINVALID over it.
	UserNames(ctx context.Context, ids []string) (map[string]string, error)
}

// MaxUserNames is the most ids one UserNames call takes.
const MaxUserNames = 1000

// SessionStore keeps agent login sessions and API tokens.
type SessionStore interface {
	// CreateSession inserts s, filling ID, CreatedAt and LastSeenAt.
	// ENOTFOUND when the user does not exist; ECONFLICT on a reused hash.
	CreateSession(ctx context.Context, s *Session) error
	// GetSessionByTokenHash returns the session with the token hash, expired or
	// not (the caller decides). ENOTFOUND.
	GetSessionByTokenHash(ctx context.Context, tokenHash string) (*Session, error)
	// TouchSession records activity: LastSeenAt = seen, IdleExpiresAt =
	// idleExpires (never past ExpiresAt). ENOTFOUND.
	TouchSession(ctx context.Context, id string, seen, idleExpires time.Time) error
	// DeleteSession removes one session. ENOTFOUND.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of the user except the one with
	// id exceptID ("" removes all) and returns how many it removed.
	DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error)
	// DeleteExpiredSessions removes sessions whose idle or absolute expiry is
	// before now and returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// CreateAPIToken inserts t, filling ID and CreatedAt. ENOTFOUND (user),
	// ECONFLICT (hash reused), EINVALID.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// GetAPITokenByHash returns the token with the hash, revoked or not. ENOTFOUND.
	GetAPITokenByHash(ctx context.Context, tokenHash string) (*APIToken, error)
	// GetAPIToken returns the token with id. ENOTFOUND.
	GetAPIToken(ctx context.Context, id string) (*APIToken, error)
	// ListAPITokens returns the user's tokens ("" for everyone's), newest first.
	ListAPITokens(ctx context.Context, userID string) ([]*APIToken, error)
	// TouchAPIToken sets LastUsedAt. ENOTFOUND.
	TouchAPIToken(ctx context.Context, id string, used time.Time) error
	// RevokeAPIToken sets RevokedAt (once; revoking again keeps the first time). ENOTFOUND.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) error
}

// CustomerStore keeps visitors.
type CustomerStore interface {
	// CreateCustomer inserts c, filling ID, and FirstSeen and LastSeen when
	// zero. ECONFLICT on a reused token hash; EINVALID.
	CreateCustomer(ctx context.Context, c *Customer) error
	// GetCustomer returns the customer with id. ENOTFOUND.
	GetCustomer(ctx context.Context, id string) (*Customer, error)
	// GetCustomerByTokenHash returns the customer whose token has the hash. ENOTFOUND.
	GetCustomerByTokenHash(ctx context.Context, tokenHash string) (*Customer, error)
	// UpdateCustomer applies up and returns the customer as stored. ENOTFOUND, EINVALID.
	UpdateCustomer(ctx context.Context, id string, up CustomerUpdate) (*Customer, error)
	// ListCustomers returns a page of customers, most recently first seen first.
	// EINVALID for a bad cursor or limit.
	ListCustomers(ctx context.Context, f CustomerFilter) (*CustomerPage, error)
	// DeleteCustomer removes a customer and, by cascade, their conversations
	// with everything in them. ENOTFOUND.
	DeleteCustomer(ctx context.Context, id string) error
}

// ConversationStore keeps conversations, their participants and transfers.
type ConversationStore interface {
	// CreateConversation inserts c, filling ID, CreatedAt and UpdatedAt (and
	// ClosedAt when created closed). ECONFLICT when the customer already has a
	// conversation that is not closed (a unique constraint decides, so
	// concurrent calls create exactly one); ENOTFOUND when the customer or
	// assignee does not exist; EINVALID.
	CreateConversation(ctx context.Context, c *Conversation) error
	// GetConversation returns the conversation with id. ENOTFOUND.
	GetConversation(ctx context.Context, id string) (*Conversation, error)
	// GetOpenConversation returns the customer's conversation that is not
	// closed. ENOTFOUND when there is none.
	GetOpenConversation(ctx context.Context, customerID string) (*Conversation, error)
	// ListConversations returns a page of the conversations f selects, newest
	// activity first, with the viewer's unread counts and the totals. It pages
	// by cursor (never OFFSET). EINVALID for a bad cursor, limit or status.
	ListConversations(ctx context.Context, f InboxFilter) (*InboxPage, error)
	// UpdateConversation applies up atomically and returns the conversation as
	// stored. Closing sets ClosedAt; reopening clears it. ENOTFOUND; ECONFLICT
	// when an Expect field does not hold, or reopening would give the customer
	// two open conversations; EINVALID.
	UpdateConversation(ctx context.Context, id string, up ConversationUpdate) (*Conversation, error)
	// DeleteConversation removes a conversation and, by cascade, its messages,
	// attachments, participants and transfers. ENOTFOUND.
	DeleteConversation(ctx context.Context, id string) error

	// JoinConversation records that a user or customer takes part (JoinedAt
	// and LastSeenAt now) and returns the participant; joining again only
	// updates LastSeenAt. ENOTFOUND when the conversation does not exist.
	JoinConversation(ctx context.Context, conversationID, userID string, userType ParticipantType) (*Participant, error)
	// MarkRead raises the participant's LastReadSeq to seq (never lowers it;
	// joining first when needed) and returns the participant. ENOTFOUND
	// (conversation); EINVALID when seq < 0.
	MarkRead(ctx context.Context, conversationID, userID string, userType ParticipantType, seq int64) (*Participant, error)
	// ListParticipants returns the participants of a conversation by join
	// time; an unknown conversation yields an empty list.
	ListParticipants(ctx context.Context, conversationID string) ([]*Participant, error)

	// TransferConversation, in one transaction: records t (filling ID and
	// CreatedAt), assigns the conversation to t.ToAgentID with status active,
	// and appends note (a system message) to the timeline, filling it as
	// AppendMessage does (its ConversationID is set to t.ConversationID). It returns the conversation as stored. ENOTFOUND
	// (conversation or agent); ECONFLICT when the conversation is closed or
	// its assignee is no longer t.FromAgentID; EINVALID. On any error nothing
	// is written.
	TransferConversation(ctx context.Context, t *Transfer, note *Message) (*Conversation, error)
	// ListTransfers returns a conversation's transfers, oldest first; an
	// unknown conversation yields an empty list.
	ListTransfers(ctx context.Context, conversationID string) ([]*Transfer, error)
}

// MessageStore keeps the timeline of each conversation.
type MessageStore interface {
	// AppendMessage is the heart of Parley. In one transaction it gives m the
	// conversation's next seq, inserts it with its attachments, and bumps the
	// conversation (LastSeq, LastMessageAt, UpdatedAt; LastCustomerSeq for a
	// customer's message; LastMessagePreview unless m is a note). It fills
	// ID, Seq, CreatedAt and each attachment's ID, MessageID, ConversationID
	// and CreatedAt, and returns created = true.
	//
	// When m.ClientMsgID is set and (conversation, sender, client id) was
	// appended before, it writes nothing, fills m with the stored message and
	// returns created = false. Concurrent appends to one conversation get
	// consecutive seqs with no gap and no repeat. ENOTFOUND (conversation);
	// ECONFLICT when m.Expect is set and no longer holds; EINVALID. On any
	// error nothing is written.
	AppendMessage(ctx context.Context, m *Message) (created bool, err error)
	// GetMessage returns the message with id, with its attachments. ENOTFOUND.
	GetMessage(ctx context.Context, id string) (*Message, error)
	// ListMessages returns messages of a conversation in ascending seq order,
	// with their attachments. An unknown conversation yields an empty list.
	// EINVALID for a bad limit.
	ListMessages(ctx context.Context, conversationID string, f MessageFilter) ([]*Message, error)
	// GetAttachment returns the attachment with id. ENOTFOUND.
	GetAttachment(ctx context.Context, id string) (*Attachment, error)
}

// ContentStore keeps the agents' reference material.
type ContentStore interface {
	// CreateQuickReply inserts q, filling ID, CreatedAt, UpdatedAt. ECONFLICT
	// when the owner (or the shared set) already has the shortcut; ENOTFOUND
	// (owner); EINVALID.
	CreateQuickReply(ctx context.Context, q *QuickReply) error
	// GetQuickReply returns the quick reply with id. ENOTFOUND.
	GetQuickReply(ctx context.Context, id string) (*QuickReply, error)
	// ListQuickReplies returns the shared replies and, when ownerID is set,
	// that user's own, ordered by shortcut then id.
	ListQuickReplies(ctx context.Context, ownerID string) ([]*QuickReply, error)
	// UpdateQuickReply applies up and returns the reply as stored. ENOTFOUND,
	// ECONFLICT (shortcut taken), EINVALID.
	UpdateQuickReply(ctx context.Context, id string, up QuickReplyUpdate) (*QuickReply, error)
	// DeleteQuickReply removes a quick reply. ENOTFOUND.
	DeleteQuickReply(ctx context.Context, id string) error

	// CreateSOP inserts d with Version 1, filling ID, CreatedAt, UpdatedAt.
	// ENOTFOUND (author); EINVALID.
	CreateSOP(ctx context.Context, d *SOPDocument) error
	// GetSOP returns the document with id. ENOTFOUND.
	GetSOP(ctx context.Context, id string) (*SOPDocument, error)
	// ListSOPs returns every document, ordered by title then id.
	ListSOPs(ctx context.Context) ([]*SOPDocument, error)
	// UpdateSOP applies up, increments Version and returns the document as
	// stored. ENOTFOUND; ECONFLICT when ExpectVersion does not hold; EINVALID.
	UpdateSOP(ctx context.Context, id string, up SOPUpdate) (*SOPDocument, error)
	// DeleteSOP removes a document. ENOTFOUND.
	DeleteSOP(ctx context.Context, id string) error
}

// SettingsStore keeps the server-wide settings: one record, which exists
// once an admin first saves them.
type SettingsStore interface {
	// GetSettings returns the settings as stored, or DefaultSettings (with a
	// zero UpdatedAt) when they were never saved. EUNAVAILABLE.
	GetSettings(ctx context.Context) (*Settings, error)
	// UpdateSettings applies up (SettingsUpdate.Apply) to the stored settings,
	// or to the defaults when none were saved, validates the result and
	// stores it, setting UpdatedAt; it returns the settings as stored. The
	// read and the write are one transaction, so concurrent updates of
	// different fields all survive. EINVALID (nothing is written);
	// ENOTFOUND when up.UpdatedBy names no user.
	UpdateSettings(ctx context.Context, up SettingsUpdate) (*Settings, error)
}

// SearchStore finds messages, customers and conversations by their words
// (search.go describes the words and how hits are ranked).
type SearchStore interface {
	// Search returns a page of hits for q, best first: messages holding
	// every word of q (and its phrases side by side), conversations of
	// customers whose name and email hold them, and conversations whose id
	// q names. Only the newest MaxSearchCandidates matching messages, and
	// as many customers' conversations, are ranked (Truncated says when
	// more matched). The index follows every append, customer change and
	// delete in the same transaction. EINVALID (see PlanSearch).
	Search(ctx context.Context, q SearchQuery) (*SearchPage, error)
}

// ExportStore reads conversations in bulk.
type ExportStore interface {
	// ExportConversations walks the conversations f selects, oldest first,
	// and their messages, handing each to visit as it is read. It reads in
	// pages by keyset (never holding more than a page), each page its own
	// short read, so an export of any size uses little memory and blocks no
	// writer; a conversation changed meanwhile may show either state.
	// EINVALID for a bad range or page size; visit's errors are returned
	// as they are.
	ExportConversations(ctx context.Context, f ExportFilter, visit ExportVisitor) error
}
