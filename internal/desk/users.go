package desk

import (
	"context"

	"github.com/parleychat/parley"
)

// NewUser is what an admin gives to create an account.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     parley.Role
	MaxChats int
}

// CreateUser creates an agent account. EUNAUTHORIZED, EFORBIDDEN (not an
// admin), EINVALID, ECONFLICT (email taken).
func (d *Desk) CreateUser(ctx context.Context, a Actor, in NewUser) (*parley.User, error) {
	const op = "desk.CreateUser"
	if _, err := allow(a, UserManage); err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = parley.RoleAgent
	}
	if !in.Role.Valid() {
		return nil, parley.Errorf(parley.EINVALID, "role must be one of agent, senior_agent, team_lead, admin")
	}
	if err := checkPassword("password", in.Password); err != nil {
		return nil, err
	}
	u := &parley.User{Email: parley.NormalizeEmail(in.Email), Name: in.Name, PasswordHash: "-",
		Role: in.Role, Availability: parley.Offline, MaxChats: in.MaxChats}
	if err := u.Validate(); err != nil { // before paying for the hash
		return nil, err
	}
	hash, err := d.hasher.hash(in.Password)
	if err != nil {
		return nil, wrap(op, err)
	}
	u.PasswordHash = hash
	if err := d.store.CreateUser(ctx, u); err != nil {
		if parley.IsCode(err, parley.ECONFLICT) {
			return nil, parley.Errorf(parley.ECONFLICT, "A user with that email exists.")
		}
		return nil, wrap(op, err)
	}
	return u, nil
}

// UserQuery selects users in ListUsers.
type UserQuery struct {
	Role            parley.Role
	Availability    parley.Availability
	IncludeDisabled bool // admins only
}

// ListUsers lists agent accounts. EUNAUTHORIZED, EFORBIDDEN (visitors; a
// non-admin asking for disabled accounts), EINVALID (unknown filter values).
func (d *Desk) ListUsers(ctx context.Context, a Actor, q UserQuery) ([]*parley.User, error) {
	if _, err := allow(a, UserView); err != nil {
		return nil, err
	}
	if q.IncludeDisabled {
		if _, err := allow(a, UserManage); err != nil {
			return nil, err
		}
	}
	if q.Role != "" && !q.Role.Valid() {
		return nil, parley.Errorf(parley.EINVALID, "role must be one of agent, senior_agent, team_lead, admin")
	}
	if q.Availability != "" && !q.Availability.Valid() {
		return nil, parley.Errorf(parley.EINVALID, "availability must be online, away or offline")
	}
	us, err := d.store.ListUsers(ctx, parley.UserFilter{Role: q.Role, Availability: q.Availability, IncludeDisabled: q.IncludeDisabled})
	return us, wrap("desk.ListUsers", err)
}

// GetUser returns one account. Disabled accounts are visible to admins only.
// EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND.
func (d *Desk) GetUser(ctx context.Context, a Actor, id string) (*parley.User, error) {
	if _, err := allow(a, UserView); err != nil {
		return nil, err
	}
	u, err := d.store.GetUser(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("User")
		}
		return nil, wrap("desk.GetUser", err)
	}
	if u.Disabled && scope(a, UserManage) != All {
		return nil, notFound("User")
	}
	return u, nil
}

// UserChange is what an admin may change about an account.
type UserChange struct {
	Email        *string
	Name         *string
	Password     *string
	Role         *parley.Role
	Availability *parley.Availability
	MaxChats     *int
	Disabled     *bool
}

// UpdateUser changes an account. A new password, a new role or disabling
// ends every session of the user (the admin's own current one excepted).
// Admins cannot demote or disable themselves, so a server always keeps an
// admin. EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT.
func (d *Desk) UpdateUser(ctx context.Context, a Actor, id string, ch UserChange) (*parley.User, error) {
	const op = "desk.UpdateUser"
	if _, err := allow(a, UserManage); err != nil {
		return nil, err
	}
	old, err := d.store.GetUser(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("User")
		}
		return nil, wrap(op, err)
	}
	if old.ID == a.User.ID {
		if ch.Role != nil && *ch.Role != old.Role || ch.Disabled != nil && *ch.Disabled {
			return nil, parley.Errorf(parley.EINVALID, "You cannot change your own role or disable yourself.")
		}
	}
	if ch.Role != nil && !ch.Role.Valid() {
		return nil, parley.Errorf(parley.EINVALID, "role must be one of agent, senior_agent, team_lead, admin")
	}
	if ch.Availability != nil && !ch.Availability.Valid() {
		return nil, parley.Errorf(parley.EINVALID, "availability must be online, away or offline")
	}
	up := parley.UserUpdate{Email: ch.Email, Name: ch.Name, Role: ch.Role, Availability: ch.Availability,
		MaxChats: ch.MaxChats, Disabled: ch.Disabled}
	if ch.Password != nil {
		if err := checkPassword("password", *ch.Password); err != nil {
			return nil, err
		}
		h, err := d.hasher.hash(*ch.Password)
		if err != nil {
			return nil, wrap(op, err)
		}
		up.PasswordHash = &h
	}
	u, err := d.store.UpdateUser(ctx, id, up)
	if err != nil {
		if parley.IsCode(err, parley.ECONFLICT) {
			return nil, parley.Errorf(parley.ECONFLICT, "A user with that email exists.")
		}
		return nil, wrap(op, err)
	}
	d.availabilityChanged(ctx, old, u)
	if ch.Password != nil || u.Role != old.Role || u.Disabled && !old.Disabled {
		keep := ""
		if u.ID == a.User.ID && a.Session != nil {
			keep = a.Session.ID
		}
		if err := d.endSessions(ctx, u.ID, keep); err != nil {
			return nil, err
		}
	}
	return u, nil
}
