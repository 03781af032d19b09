package desk

import (
	"context"

	"github.com/parleychat/parley"
)

// NewVisitor is a visitor just created: Token is given to the widget once.
type NewVisitor struct {
	Customer *parley.Customer
	Token    string
}

// VisitorInfo is what a visitor (or the page embedding the widget) tells
// about themselves. None of it is trusted for access decisions.
type VisitorInfo struct {
	Name      string
	Email     string
	UserAgent string
	IP        string
	Metadata  parley.Metadata
}

// CreateVisitor gives a widget visitor an identity. Anyone may; callers
// rate-limit it. EINVALID.
func (d *Desk) CreateVisitor(ctx context.Context, in VisitorInfo) (*NewVisitor, error) {
	token, hash := newToken(VisitorTokenPrefix)
	c := &parley.Customer{TokenHash: hash, Name: in.Name, Email: parley.NormalizeEmail(in.Email),
		UserAgent: clip(in.UserAgent, 1000), IP: clip(in.IP, 64), Metadata: in.Metadata}
	c.Location = d.locate(c.IP)
	if err := d.store.CreateCustomer(ctx, c); err != nil {
		return nil, wrap("desk.CreateVisitor", err)
	}
	return &NewVisitor{Customer: c, Token: token}, nil
}

// GetCustomer returns a customer's profile: a visitor's own, or to an agent
// the customer of a conversation they can see. EUNAUTHORIZED, EFORBIDDEN,
// ENOTFOUND (also when the caller may not see it).
func (d *Desk) GetCustomer(ctx context.Context, a Actor, id string) (*parley.Customer, error) {
	const op = "desk.GetCustomer"
	s, err := allow(a, CustomerView)
	if err != nil {
		return nil, err
	}
	if !parley.ValidID(id) {
		return nil, notFound("Customer")
	}
	switch s {
	case Own:
		if id != a.ID() {
			return nil, notFound("Customer")
		}
	case Visible:
		p, err := d.store.ListConversations(ctx, parley.InboxFilter{CustomerID: id, WaitingOrAssignedTo: a.ID(), Limit: 1})
		if err != nil {
			return nil, wrap(op, err)
		}
		if p.Total == 0 {
			return nil, notFound("Customer")
		}
	}
	c, err := d.store.GetCustomer(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("Customer")
		}
		return nil, wrap(op, err)
	}
	return c, nil
}

// ListCustomers lists every customer, most recently first seen first.
// EUNAUTHORIZED, EFORBIDDEN, EINVALID (bad cursor or limit).
func (d *Desk) ListCustomers(ctx context.Context, a Actor, email, cursor string, limit int) (*parley.CustomerPage, error) {
	if _, err := allow(a, CustomerList); err != nil {
		return nil, err
	}
	p, err := d.store.ListCustomers(ctx, parley.CustomerFilter{Email: parley.NormalizeEmail(email), Cursor: cursor, Limit: limit})
	return p, wrap("desk.ListCustomers", err)
}

// VisitorSeen records that a visitor is here now (their last seen): the
// socket calls it when a visitor's first socket opens and their last one
// closes. Agents are not visitors: for them it does nothing. ENOTFOUND
// (the visitor was deleted meanwhile).
func (d *Desk) VisitorSeen(ctx context.Context, a Actor) error {
	if !a.IsVisitor() {
		return nil
	}
	now := parley.Now()
	if _, err := d.store.UpdateCustomer(ctx, a.Customer.ID, parley.CustomerUpdate{LastSeen: &now}); err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return notFound("Customer")
		}
		return wrap("desk.VisitorSeen", err)
	}
	return nil
}
