package desk

import (
	"context"

	"github.com/parleychat/parley"
)

// conversation loads a conversation; a missing one and one the caller may
// not see give the same ENOTFOUND (see can).
func (d *Desk) conversation(ctx context.Context, op, id string) (*parley.Conversation, error) {
	c, err := d.store.GetConversation(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("Conversation")
		}
		return nil, wrap(op, err)
	}
	return c, nil
}

// authorized loads conversation id and checks that a may do act on it.
func (d *Desk) authorized(ctx context.Context, a Actor, act Action, op, id string) (*parley.Conversation, error) {
	if _, err := allow(a, act); err != nil {
		return nil, err
	}
	c, err := d.conversation(ctx, op, id)
	if err != nil {
		return nil, err
	}
	if err := can(a, act, c); err != nil {
		return nil, err
	}
	return c, nil
}

// StartConversation opens a conversation for the calling visitor, or
// returns the one they already have open (created = false): calling it
// again, even concurrently, never gives a visitor two open conversations,
// because the store's unique constraint decides. EUNAUTHORIZED, EFORBIDDEN
// (agents), EINVALID.
func (d *Desk) StartConversation(ctx context.Context, a Actor, meta parley.Metadata) (c *parley.Conversation, created bool, err error) {
	const op = "desk.StartConversation"
	if _, err := allow(a, ConversationCreate); err != nil {
		return nil, false, err
	}
	cust := a.Customer
	if c, err := d.store.GetOpenConversation(ctx, cust.ID); err == nil {
		return c, false, nil
	} else if !parley.IsCode(err, parley.ENOTFOUND) {
		return nil, false, wrap(op, err)
	}
	c = &parley.Conversation{Status: parley.StatusWaiting, CustomerID: cust.ID, CustomerIP: cust.IP, Metadata: meta}
	if err := d.store.CreateConversation(ctx, c); err != nil {
		if !parley.IsCode(err, parley.ECONFLICT) {
			return nil, false, wrap(op, err)
		}
		open, gerr := d.store.GetOpenConversation(ctx, cust.ID)
		if gerr != nil {
			if parley.IsCode(gerr, parley.ENOTFOUND) {
				return nil, false, parley.Errorf(parley.ECONFLICT, "The conversation changed; try again.")
			}
			return nil, false, wrap(op, gerr)
		}
		return open, false, nil
	}
	if _, err := d.store.JoinConversation(ctx, c.ID, cust.ID, parley.ParticipantCustomer); err != nil {
		d.log.Warn("joining a new conversation", "conversation", c.ID, "err", err)
	}
	d.conversationChanged(ctx, nil, c, ChangeCreated)
	return d.offer(ctx, c), true, nil
}

// GetConversation returns a conversation the caller may see. EUNAUTHORIZED,
// ENOTFOUND (missing or not visible).
func (d *Desk) GetConversation(ctx context.Context, a Actor, id string) (*parley.Conversation, error) {
	return d.authorized(ctx, a, ConversationView, "desk.GetConversation", id)
}

// ConversationQuery selects conversations in ListConversations.
type ConversationQuery struct {
	Statuses []parley.Status
	// Assignee is "" (anyone), "me", "unassigned", or a user id (senior
	// agents and above).
	Assignee string
	// Customer, when set, keeps that customer's conversations (within what
	// the caller sees). Visitors may name only themselves.
	Customer string
	Cursor   string
	Limit    int
}

// ListConversations lists the conversations the caller may see, newest
// activity first, with their unread counts. Visitors get their own; agents
// waiting ones and their own; senior agents and above every one.
// EUNAUTHORIZED, EFORBIDDEN (another agent's conversations without the
// role), ENOTFOUND (a visitor naming another customer), EINVALID (bad
// filter, cursor or limit).
func (d *Desk) ListConversations(ctx context.Context, a Actor, q ConversationQuery) (*parley.InboxPage, error) {
	s, err := allow(a, ConversationView)
	if err != nil {
		return nil, err
	}
	f := parley.InboxFilter{Statuses: q.Statuses, Cursor: q.Cursor, Limit: q.Limit}
	if err := checkStatuses(q.Statuses); err != nil {
		return nil, err
	}
	switch s {
	case Own:
		if q.Assignee != "" {
			return nil, parley.Errorf(parley.EINVALID, "assignee is a filter for agents")
		}
		if q.Customer != "" && q.Customer != a.ID() {
			return nil, notFound("Customer")
		}
		f.CustomerID = a.ID()
	case Visible:
		f.WaitingOrAssignedTo = a.ID()
	}
	if q.Customer != "" && a.IsAgent() {
		if !parley.ValidID(q.Customer) {
			return nil, parley.Errorf(parley.EINVALID, "customer must be a customer id")
		}
		f.CustomerID = q.Customer
	}
	if a.IsAgent() {
		f.Viewer = a.ID()
		switch q.Assignee {
		case "":
		case "me":
			f.AssigneeID = a.ID()
		case "unassigned":
			f.Unassigned = true
		default:
			if !parley.ValidID(q.Assignee) {
				return nil, parley.Errorf(parley.EINVALID, "assignee must be me, unassigned or a user id")
			}
			if q.Assignee != a.ID() {
				if _, err := allow(a, InboxOfOthers); err != nil {
					return nil, err
				}
			}
			f.AssigneeID = q.Assignee
		}
	}
	return d.inbox(ctx, f)
}

// Inbox is the seed's conversation list: the inbox of agent adminID as they
// see it, with their unread counts. Agents may ask for their own; senior
// agents and above for anyone's. EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND (no
// such agent), EINVALID.
func (d *Desk) Inbox(ctx context.Context, a Actor, adminID string, statuses []parley.Status, cursor string, limit int) (*parley.InboxPage, error) {
	if _, err := allow(a, ConversationView); err != nil {
		return nil, err
	}
	if !a.IsAgent() {
		return nil, errForbidden
	}
	if !parley.ValidID(adminID) {
		return nil, parley.Errorf(parley.EINVALID, "adminId must be a user id")
	}
	if err := checkStatuses(statuses); err != nil {
		return nil, err
	}
	owner := a
	if adminID != a.ID() {
		if _, err := allow(a, InboxOfOthers); err != nil {
			return nil, err
		}
		u, err := d.store.GetUser(ctx, adminID)
		if err != nil {
			if parley.IsCode(err, parley.ENOTFOUND) {
				return nil, notFound("User")
			}
			return nil, wrap("desk.Inbox", err)
		}
		owner = Actor{Kind: Agent, User: u}
	}
	f := parley.InboxFilter{Statuses: statuses, Cursor: cursor, Limit: limit, Viewer: adminID}
	if scope(owner, ConversationView) != All {
		f.WaitingOrAssignedTo = adminID
	}
	return d.inbox(ctx, f)
}

func (d *Desk) inbox(ctx context.Context, f parley.InboxFilter) (*parley.InboxPage, error) {
	if f.Limit < 0 || f.Limit > parley.MaxPageSize {
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", parley.MaxPageSize)
	}
	p, err := d.store.ListConversations(ctx, f)
	if err != nil {
		if parley.IsCode(err, parley.EINVALID) {
			return nil, err
		}
		return nil, wrap("desk.ListConversations", err)
	}
	return p, nil
}

func checkStatuses(ss []parley.Status) error {
	for _, s := range ss {
		if !s.Valid() {
			return parley.Errorf(parley.EINVALID, "status must be waiting, active or closed")
		}
	}
	return nil
}

var errChanged = &parley.Error{Code: parley.ECONFLICT, Message: "The conversation changed meanwhile; reload it and try again."}

// SetStatus closes a conversation, reopens it, or returns it to the queue:
// closed closes; waiting puts it back unassigned; active needs an assignee.
// EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT (it changed
// meanwhile, or reopening would give the customer two open conversations).
func (d *Desk) SetStatus(ctx context.Context, a Actor, id string, to parley.Status) (*parley.Conversation, error) {
	const op = "desk.SetStatus"
	if !to.Valid() {
		return nil, parley.Errorf(parley.EINVALID, "status must be waiting, active or closed")
	}
	c, err := d.authorized(ctx, a, ConversationStatus, op, id)
	if err != nil {
		return nil, err
	}
	if c.Status == to && to != parley.StatusWaiting {
		return c, nil
	}
	up := parley.ConversationUpdate{Status: &to, ExpectStatus: ptr(c.Status), ExpectAssigneeID: ptr(c.AssigneeID)}
	switch to {
	case parley.StatusWaiting:
		up.AssigneeID = ptr("")
	case parley.StatusActive:
		if c.AssigneeID == "" {
			return nil, parley.Errorf(parley.ECONFLICT, "Assign the conversation before making it active.")
		}
	}
	got, err := d.update(ctx, op, id, up)
	if err != nil {
		return nil, err
	}
	d.conversationChanged(ctx, c, got, ChangeStatus)
	if got.Status != parley.StatusActive {
		// A slot freed, or the conversation is back in the queue.
		d.drainQueue(ctx)
		if cur, err := d.store.GetConversation(ctx, id); err == nil {
			got = cur
		}
	}
	return got, nil
}

func (d *Desk) update(ctx context.Context, op, id string, up parley.ConversationUpdate) (*parley.Conversation, error) {
	c, err := d.store.UpdateConversation(ctx, id, up)
	if err != nil {
		switch parley.ErrorCode(err) {
		case parley.ECONFLICT:
			reopening := up.ExpectStatus != nil && *up.ExpectStatus == parley.StatusClosed && *up.Status != parley.StatusClosed
			if cur, gerr := d.store.GetConversation(ctx, id); reopening && gerr == nil && cur.Status == parley.StatusClosed {
				return nil, parley.Errorf(parley.ECONFLICT, "The customer has another open conversation.")
			}
			return nil, errChanged
		case parley.ENOTFOUND:
			return nil, notFound("Conversation")
		case parley.EINVALID:
			return nil, err
		}
		return nil, wrap(op, err)
	}
	return c, nil
}

// atCapacity reports whether u already has MaxChats active conversations.
func (d *Desk) atCapacity(ctx context.Context, u *parley.User) (bool, error) {
	if u.MaxChats == 0 {
		return false, nil
	}
	p, err := d.store.ListConversations(ctx, parley.InboxFilter{AssigneeID: u.ID,
		Statuses: []parley.Status{parley.StatusActive}, Limit: 1})
	if err != nil {
		return false, wrap("desk.atCapacity", err)
	}
	return p.Total >= u.MaxChats, nil
}

// Claim assigns a waiting, unassigned conversation to the calling agent and
// makes it active. Claiming one's own again returns it. EUNAUTHORIZED,
// EFORBIDDEN, ENOTFOUND, ECONFLICT (someone else has it, it is closed, or
// the agent is at their maximum of chats).
func (d *Desk) Claim(ctx context.Context, a Actor, id string) (*parley.Conversation, error) {
	const op = "desk.Claim"
	if _, err := allow(a, ConversationClaim); err != nil {
		return nil, err
	}
	c, err := d.conversation(ctx, op, id)
	if err != nil {
		return nil, err
	}
	if !sees(a, c) {
		return nil, notFound("Conversation")
	}
	return d.claim(ctx, a, c)
}

func (d *Desk) claim(ctx context.Context, a Actor, c *parley.Conversation) (*parley.Conversation, error) {
	const op = "desk.Claim"
	switch {
	case c.AssigneeID == a.ID() && c.Status != parley.StatusClosed:
		return c, nil
	case c.Status == parley.StatusClosed:
		return nil, parley.Errorf(parley.ECONFLICT, "The conversation is closed.")
	case !within(a, Claimable, c):
		return nil, parley.Errorf(parley.ECONFLICT, "Another agent has this conversation.")
	}
	// The store checks the agent's capacity and takes the conversation in
	// one step that no other assignment interleaves with: of two agents
	// claiming at once, one wins and the other hears conflict.
	got, err := d.store.AssignWaiting(ctx, c.ID, a.ID())
	if err != nil {
		if !parley.IsCode(err, parley.ECONFLICT) {
			if parley.IsCode(err, parley.ENOTFOUND) {
				return nil, notFound("Conversation")
			}
			return nil, wrap(op, err)
		}
		now, gerr := d.conversation(ctx, op, c.ID)
		if gerr != nil {
			return nil, gerr
		}
		switch {
		case now.AssigneeID == a.ID() && now.Status == parley.StatusActive:
			return now, nil
		case now.Status == parley.StatusClosed:
			return nil, parley.Errorf(parley.ECONFLICT, "The conversation is closed.")
		case now.Status == parley.StatusWaiting && now.AssigneeID == "":
			return nil, parley.Errorf(parley.ECONFLICT, "You already have your maximum of %d conversations.", a.User.MaxChats)
		}
		return nil, parley.Errorf(parley.ECONFLICT, "Another agent took this conversation.")
	}
	if _, err := d.store.JoinConversation(ctx, c.ID, a.ID(), parley.ParticipantAgent); err != nil {
		d.log.Warn("joining a claimed conversation", "conversation", c.ID, "err", err)
	}
	d.conversationChanged(ctx, c, got, ChangeClaimed)
	return got, nil
}

// agent loads a user a conversation can go to: existing and enabled.
func (d *Desk) agent(ctx context.Context, op, id, field string) (*parley.User, error) {
	if !parley.ValidID(id) {
		return nil, parley.Errorf(parley.EINVALID, "%s must be a user id", field)
	}
	u, err := d.store.GetUser(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, parley.Errorf(parley.EINVALID, "%s does not name a user", field)
		}
		return nil, wrap(op, err)
	}
	if u.Disabled {
		return nil, parley.Errorf(parley.EINVALID, "%s names a disabled user", field)
	}
	return u, nil
}

// Assign gives a conversation to an agent (making it active), or with
// assigneeID "" returns it to the queue. EUNAUTHORIZED, EFORBIDDEN (below
// team lead), ENOTFOUND, EINVALID (no such enabled agent), ECONFLICT (closed,
// or changed meanwhile).
func (d *Desk) Assign(ctx context.Context, a Actor, id, assigneeID string) (*parley.Conversation, error) {
	const op = "desk.Assign"
	c, err := d.authorized(ctx, a, ConversationAssign, op, id)
	if err != nil {
		return nil, err
	}
	if c.Status == parley.StatusClosed {
		return nil, parley.Errorf(parley.ECONFLICT, "The conversation is closed.")
	}
	up := parley.ConversationUpdate{AssigneeID: ptr(assigneeID), ExpectStatus: ptr(c.Status), ExpectAssigneeID: ptr(c.AssigneeID)}
	if assigneeID == "" {
		up.Status = ptr(parley.StatusWaiting)
	} else {
		if _, err := d.agent(ctx, op, assigneeID, "assigneeId"); err != nil {
			return nil, err
		}
		up.Status = ptr(parley.StatusActive)
	}
	got, err := d.update(ctx, op, id, up)
	if err != nil {
		return nil, err
	}
	if assigneeID != "" {
		if _, err := d.store.JoinConversation(ctx, id, assigneeID, parley.ParticipantAgent); err != nil {
			d.log.Warn("joining an assigned conversation", "conversation", id, "err", err)
		}
	}
	d.conversationChanged(ctx, c, got, ChangeAssigned)
	if c.AssigneeID != "" || assigneeID == "" {
		d.drainQueue(ctx)
		if cur, err := d.store.GetConversation(ctx, id); err == nil {
			got = cur
		}
	}
	return got, nil
}

// MarkRead records that the caller read the conversation up to seq (capped
// at the newest message). EUNAUTHORIZED, ENOTFOUND, EINVALID.
func (d *Desk) MarkRead(ctx context.Context, a Actor, id string, seq int64) (*parley.Participant, error) {
	const op = "desk.MarkRead"
	if seq < 0 {
		return nil, parley.Errorf(parley.EINVALID, "seq must not be negative")
	}
	c, err := d.authorized(ctx, a, ConversationRead, op, id)
	if err != nil {
		return nil, err
	}
	seq = min(seq, c.LastSeq)
	typ := parley.ParticipantAgent
	if a.IsVisitor() {
		typ = parley.ParticipantCustomer
	}
	p, err := d.store.MarkRead(ctx, c.ID, a.ID(), typ, seq)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("Conversation")
		}
		return nil, wrap(op, err)
	}
	d.read(ctx, c.ID, a, p.LastReadSeq)
	return p, nil
}

// DeleteConversation removes a conversation with everything in it.
// EUNAUTHORIZED, EFORBIDDEN (below admin), ENOTFOUND.
func (d *Desk) DeleteConversation(ctx context.Context, a Actor, id string) error {
	const op = "desk.DeleteConversation"
	c, err := d.authorized(ctx, a, ConversationDelete, op, id)
	if err != nil {
		return err
	}
	if err := d.store.DeleteConversation(ctx, c.ID); err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return notFound("Conversation")
		}
		return wrap(op, err)
	}
	d.conversationChanged(ctx, c, c, ChangeDeleted)
	if c.Status == parley.StatusActive {
		d.drainQueue(ctx)
	}
	return nil
}
