package httpapi

import (
	"maps"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/useragent"
)

// The JSON shapes of the API, in camelCase. Times are RFC 3339 in UTC.

type userView struct {
	ID           string              `json:"id"`
	Email        string              `json:"email"`
	Name         string              `json:"name"`
	Role         parley.Role         `json:"role"`
	Availability parley.Availability `json:"availability"`
	MaxChats     int                 `json:"maxChats"`
	Disabled     bool                `json:"disabled"`
	CreatedAt    time.Time           `json:"createdAt"`
	UpdatedAt    time.Time           `json:"updatedAt"`
}

func viewUser(u *parley.User) userView {
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Availability: u.Availability,
		MaxChats: u.MaxChats, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type conversationView struct {
	ID                 string          `json:"id"`
	Status             parley.Status   `json:"status"`
	CustomerID         string          `json:"customerId"`
	AssigneeID         *string         `json:"assigneeId"`
	CustomerIP         string          `json:"customerIp,omitempty"`
	Metadata           parley.Metadata `json:"metadata,omitempty"`
	CreatedAt          time.Time       `json:"createdAt"`
	UpdatedAt          time.Time       `json:"updatedAt"`
	ClosedAt           *time.Time      `json:"closedAt"`
	LastMessageAt      *time.Time      `json:"lastMessageAt"`
	LastSeq            int64           `json:"lastSeq"`
	LastCustomerSeq    int64           `json:"lastCustomerSeq"`
	LastMessagePreview string          `json:"lastMessagePreview"`
	Unread             *int            `json:"unread,omitempty"`
	// In agents' lists: who the customer is, so the inbox shows who left
	// an address.
	CustomerName  *string `json:"customerName,omitempty"`
	CustomerEmail *string `json:"customerEmail,omitempty"`
}

// viewConversation shows a conversation; visitors do not get the fields only
// the support team uses (customer IP, metadata).
func viewConversation(c *parley.Conversation, forVisitor bool) conversationView {
	v := conversationView{ID: c.ID, Status: c.Status, CustomerID: c.CustomerID, CreatedAt: c.CreatedAt,
		UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt, LastMessageAt: c.LastMessageAt, LastSeq: c.LastSeq,
		LastCustomerSeq: c.LastCustomerSeq, LastMessagePreview: c.LastMessagePreview}
	if c.AssigneeID != "" {
		v.AssigneeID = &c.AssigneeID
	}
	if !forVisitor {
		v.CustomerIP = c.CustomerIP
		v.Metadata = c.Metadata
	}
	return v
}

type inboxView struct {
	Conversations []conversationView `json:"conversations"`
	TotalCount    int                `json:"totalCount"`
	UnreadCount   int                `json:"unreadCount"`
	NextCursor    string             `json:"nextCursor"`
}

func viewInbox(p *parley.InboxPage, forVisitor bool) inboxView {
	v := inboxView{Conversations: make([]conversationView, 0, len(p.Entries)), TotalCount: p.Total,
		UnreadCount: p.UnreadConversations, NextCursor: p.NextCursor}
	for _, e := range p.Entries {
		cv := viewConversation(e.Conversation, forVisitor)
		if !forVisitor {
			n := e.Unread
			cv.Unread = &n
			name, email := e.CustomerName, e.CustomerEmail
			cv.CustomerName, cv.CustomerEmail = &name, &email
		}
		v.Conversations = append(v.Conversations, cv)
	}
	if forVisitor {
		v.UnreadCount = 0
	}
	return v
}

type attachmentView struct {
	ID          string                `json:"id"`
	Type        parley.AttachmentType `json:"type"`
	URL         string                `json:"url"`
	ContentType string                `json:"contentType"`
	Size        int64                 `json:"size"`
	Name        string                `json:"name"`
	// ThumbnailURL is set for images.
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
}

func viewAttachment(a *parley.Attachment) attachmentView {
	return attachmentView{ID: a.ID, Type: a.Type, URL: a.URL, ContentType: a.ContentType, Size: a.Size,
		Name: a.Name, ThumbnailURL: a.ThumbnailURL()}
}

type messageView struct {
	ID             string            `json:"id"`
	ConversationID string            `json:"conversationId"`
	Seq            int64             `json:"seq"`
	ClientMsgID    string            `json:"clientMessageId,omitempty"`
	SenderID       string            `json:"senderId,omitempty"`
	SenderName     string            `json:"senderName,omitempty"`
	SenderType     parley.SenderType `json:"senderType"`
	Kind           parley.Kind       `json:"kind"`
	Content        string            `json:"content"`
	CreatedAt      time.Time         `json:"createdAt"`
	ClientTime     string            `json:"clientTime,omitempty"`
	Attachments    []attachmentView  `json:"attachments"`
}

func viewMessage(m *parley.Message) messageView {
	v := messageView{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, ClientMsgID: m.ClientMsgID,
		SenderID: m.SenderID, SenderName: m.SenderName, SenderType: m.SenderType, Kind: m.Kind, Content: m.Content, CreatedAt: m.CreatedAt,
		Attachments: make([]attachmentView, 0, len(m.Attachments))}
	if t, ok := m.Metadata["clientTime"].(string); ok {
		v.ClientTime = t
	}
	for _, a := range m.Attachments {
		v.Attachments = append(v.Attachments, viewAttachment(a))
	}
	return v
}

type customerView struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Email     string          `json:"email"`
	UserAgent string          `json:"userAgent"`
	IP        string          `json:"ip"`
	Device    deviceView      `json:"device"`
	Location  *locationView   `json:"location,omitempty"`
	Context   *contextBody    `json:"context,omitempty"`
	Metadata  parley.Metadata `json:"metadata"`
	FirstSeen time.Time       `json:"firstSeen"`
	LastSeen  time.Time       `json:"lastSeen"`
}

// deviceView is the customer's user agent, read by internal/useragent.
type deviceView struct {
	Browser        string         `json:"browser"`
	BrowserVersion string         `json:"browserVersion"`
	OS             string         `json:"os"`
	OSVersion      string         `json:"osVersion"`
	Type           useragent.Type `json:"type"`
}

type locationView struct {
	CountryCode string `json:"countryCode"`
	Country     string `json:"country"`
}

func viewCustomer(c *parley.Customer) customerView {
	d := useragent.Parse(c.UserAgent)
	v := customerView{ID: c.ID, Name: c.Name, Email: c.Email, UserAgent: c.UserAgent, IP: c.IP,
		Device:   deviceView{Browser: d.Browser, BrowserVersion: d.BrowserVersion, OS: d.OS, OSVersion: d.OSVersion, Type: d.Type},
		Metadata: c.Metadata, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
	if code, _ := c.Location["countryCode"].(string); code != "" {
		name, _ := c.Location["country"].(string)
		v.Location = &locationView{CountryCode: code, Country: name}
	}
	if ctx, ok := parley.ContextOf(c.Metadata); ok {
		v.Context = &contextBody{PageURL: ctx.PageURL, PageTitle: ctx.PageTitle, Referrer: ctx.Referrer,
			Language: ctx.Language, TimeZone: ctx.TimeZone}
		// It is shown above; metadata keeps what the widget sent besides.
		v.Metadata = maps.Clone(c.Metadata)
		delete(v.Metadata, parley.ContextKey)
	}
	return v
}

type tokenView struct {
	ID         string     `json:"id"`
	UserID     string     `json:"userId"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
	Token      string     `json:"token,omitempty"`
}

func viewToken(t *parley.APIToken) tokenView {
	return tokenView{ID: t.ID, UserID: t.UserID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

type participantView struct {
	ConversationID string    `json:"conversationId"`
	LastReadSeq    int64     `json:"lastReadSeq"`
	LastSeenAt     time.Time `json:"lastSeenAt"`
}
