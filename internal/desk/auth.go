package desk

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// touchEvery bounds how often a request records activity on a session, token
// or visitor: at most one write per credential per interval, not one per request.
const touchEvery = time.Minute

var errBadLogin = &parley.Error{Code: parley.EUNAUTHORIZED, Message: "Email or password is incorrect."}

// Bootstrap creates the first admin when there are no users. With an empty
// password it generates a strong one and returns it (printed once by the
// caller). created is false when users exist. EINVALID for a bad email or
// password.
func (d *Desk) Bootstrap(ctx context.Context, email, password string) (created bool, generatedPassword string, err error) {
	const op = "desk.Bootstrap"
	n, err := d.store.CountUsers(ctx)
	if err != nil {
		return false, "", wrap(op, err)
	}
	if n > 0 {
		return false, "", nil
	}
	if password == "" {
		password = randomSecret(18)
		generatedPassword = password
	}
	if err := checkPassword("admin password", password); err != nil {
		return false, "", err
	}
	hash, err := d.hasher.hash(password)
	if err != nil {
		return false, "", wrap(op, err)
	}
	u := &parley.User{Email: parley.NormalizeEmail(email), Name: "Administrator", PasswordHash: hash,
		Role: parley.RoleAdmin, Availability: parley.Offline}
	if err := d.store.CreateUser(ctx, u); err != nil {
		if parley.IsCode(err, parley.ECONFLICT) {
			return false, "", nil // another node created it first
		}
		return false, "", wrap(op, err)
	}
	d.log.Info("created the first admin", "email", u.Email)
	return true, generatedPassword, nil
}

// LoginResult is a new session: Token goes in the cookie, CSRFToken to the
// client for the X-CSRF-Token header.
type LoginResult struct {
	User      *parley.User
	Session   *parley.Session
	Token     string
	CSRFToken string
}

// Login checks an email and password and starts a new session (a new id and
// token at every login). EUNAUTHORIZED for an unknown email, a wrong
// password or a disabled account, all with one message; EINVALID for a
// malformed request.
func (d *Desk) Login(ctx context.Context, email, password, ip, userAgent string) (*LoginResult, error) {
	const op = "desk.Login"
	if email == "" || password == "" {
		return nil, parley.Errorf(parley.EINVALID, "email and password are required")
	}
	if len(password) > maxPasswordLen || len(email) > parley.MaxEmailLen {
		return nil, errBadLogin
	}
	u, err := d.store.GetUserByEmail(ctx, parley.NormalizeEmail(email))
	if err != nil && !parley.IsCode(err, parley.ENOTFOUND) {
		return nil, wrap(op, err)
	}
	if u == nil {
		verifyPassword(d.dummy(), password)
		return nil, errBadLogin
	}
	if !verifyPassword(u.PasswordHash, password) || u.Disabled {
		return nil, errBadLogin
	}
	now := parley.Now()
	token, hash := newToken(SessionTokenPrefix)
	s := &parley.Session{
		UserID:        u.ID,
		TokenHash:     hash,
		CSRFToken:     randomSecret(32),
		IP:            clip(ip, 64),
		UserAgent:     clip(userAgent, 1000),
		IdleExpiresAt: now.Add(d.sessionIdle),
		ExpiresAt:     now.Add(d.sessionMax),
	}
	if s.IdleExpiresAt.After(s.ExpiresAt) {
		s.IdleExpiresAt = s.ExpiresAt
	}
	if err := d.store.CreateSession(ctx, s); err != nil {
		return nil, wrap(op, err)
	}
	return &LoginResult{User: u, Session: s, Token: token, CSRFToken: s.CSRFToken}, nil
}

func (d *Desk) dummy() string { return d.dummyHash() }

// clip cuts s to at most n bytes of valid UTF-8 (headers are not trusted to be either).
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// AuthenticateSession returns the agent whose session cookie holds token.
// EUNAUTHORIZED when the token is unknown, the session expired, or the user
// is disabled or gone.
func (d *Desk) AuthenticateSession(ctx context.Context, token string) (Actor, error) {
	const op = "desk.AuthenticateSession"
	if !wellFormed(token, SessionTokenPrefix) {
		return Anon, errUnauthorized
	}
	s, err := d.store.GetSessionByTokenHash(ctx, HashToken(token))
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return Anon, errUnauthorized
		}
		return Anon, wrap(op, err)
	}
	now := parley.Now()
	if !now.Before(s.IdleExpiresAt) || !now.Before(s.ExpiresAt) {
		if err := d.store.DeleteSession(background(ctx), s.ID); err != nil && !parley.IsCode(err, parley.ENOTFOUND) {
			d.log.Warn("deleting an expired session", "err", err)
		}
		return Anon, errUnauthorized
	}
	u, err := d.activeUser(ctx, op, s.UserID)
	if err != nil {
		return Anon, err
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		idle := now.Add(d.sessionIdle)
		if err := d.store.TouchSession(background(ctx), s.ID, now, idle); err != nil && !parley.IsCode(err, parley.ENOTFOUND) {
			d.log.Warn("touching a session", "err", err)
		}
		s.LastSeenAt = now
		if idle.Before(s.ExpiresAt) {
			s.IdleExpiresAt = idle
		} else {
			s.IdleExpiresAt = s.ExpiresAt
		}
	}
	return Actor{Kind: Agent, User: u, Session: s}, nil
}

// CheckCSRF reports whether header is the CSRF token of a's session, in
// constant time. Callers authenticated otherwise than by session pass.
func CheckCSRF(a Actor, header string) bool {
	if a.Session == nil {
		return true
	}
	return header != "" && subtle.ConstantTimeCompare([]byte(header), []byte(a.Session.CSRFToken)) == 1
}

// AuthenticateBearer returns the actor of an Authorization bearer token: an
// API token (acting as its user) or a visitor token. EUNAUTHORIZED when the
// token is unknown or revoked, or its user disabled.
func (d *Desk) AuthenticateBearer(ctx context.Context, token string) (Actor, error) {
	const op = "desk.AuthenticateBearer"
	switch {
	case wellFormed(token, APITokenPrefix):
		t, err := d.store.GetAPITokenByHash(ctx, HashToken(token))
		if err != nil {
			if parley.IsCode(err, parley.ENOTFOUND) {
				return Anon, errUnauthorized
			}
			return Anon, wrap(op, err)
		}
		if t.RevokedAt != nil {
			return Anon, errUnauthorized
		}
		u, err := d.activeUser(ctx, op, t.UserID)
		if err != nil {
			return Anon, err
		}
		now := parley.Now()
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
			if err := d.store.TouchAPIToken(background(ctx), t.ID, now); err != nil && !parley.IsCode(err, parley.ENOTFOUND) {
				d.log.Warn("touching an API token", "err", err)
			}
			t.LastUsedAt = &now
		}
		return Actor{Kind: Agent, User: u, Token: t}, nil
	case wellFormed(token, VisitorTokenPrefix):
		c, err := d.store.GetCustomerByTokenHash(ctx, HashToken(token))
		if err != nil {
			if parley.IsCode(err, parley.ENOTFOUND) {
				return Anon, errUnauthorized
			}
			return Anon, wrap(op, err)
		}
		now := parley.Now()
		if now.Sub(c.LastSeen) >= touchEvery {
			if _, err := d.store.UpdateCustomer(background(ctx), c.ID, parley.CustomerUpdate{LastSeen: &now}); err != nil && !parley.IsCode(err, parley.ENOTFOUND) {
				d.log.Warn("touching a visitor", "err", err)
			}
			c.LastSeen = now
		}
		return Actor{Kind: Visitor, Customer: c}, nil
	}
	return Anon, errUnauthorized
}

func (d *Desk) activeUser(ctx context.Context, op, id string) (*parley.User, error) {
	u, err := d.store.GetUser(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, errUnauthorized
		}
		return nil, wrap(op, err)
	}
	if u.Disabled {
		return nil, errUnauthorized
	}
	return u, nil
}

// Logout ends the session the agent signed in with. EUNAUTHORIZED,
// EFORBIDDEN (visitors), EINVALID when a signed in with an API token.
func (d *Desk) Logout(ctx context.Context, a Actor) error {
	if _, err := allow(a, SelfManage); err != nil {
		return err
	}
	if a.Session == nil {
		return parley.Errorf(parley.EINVALID, "signed in with an API token: revoke the token instead")
	}
	if err := d.store.DeleteSession(ctx, a.Session.ID); err != nil && !parley.IsCode(err, parley.ENOTFOUND) {
		return wrap("desk.Logout", err)
	}
	d.sessionsEnded(ctx, SessionsEnded{UserID: a.User.ID, Session: a.Session.ID})
	return nil
}

// Me returns the signed-in user. EUNAUTHORIZED, EFORBIDDEN (visitors).
func (d *Desk) Me(ctx context.Context, a Actor) (*parley.User, error) {
	if _, err := allow(a, SelfManage); err != nil {
		return nil, err
	}
	return a.User, nil
}

// MeUpdate holds what a user may change about themselves.
type MeUpdate struct {
	Name         *string
	Availability *parley.Availability
}

// UpdateMe changes the caller's own name or availability. EUNAUTHORIZED,
// EFORBIDDEN, EINVALID.
func (d *Desk) UpdateMe(ctx context.Context, a Actor, up MeUpdate) (*parley.User, error) {
	if _, err := allow(a, SelfManage); err != nil {
		return nil, err
	}
	if up.Availability != nil && !up.Availability.Valid() {
		return nil, parley.Errorf(parley.EINVALID, "availability must be online, away or offline")
	}
	u, err := d.store.UpdateUser(ctx, a.User.ID, parley.UserUpdate{Name: up.Name, Availability: up.Availability})
	if err != nil {
		return nil, wrap("desk.UpdateMe", err)
	}
	d.availabilityChanged(ctx, a.User, u)
	return u, nil
}

// ChangePassword sets the caller's password after checking the current one,
// and ends every other session of theirs. EUNAUTHORIZED, EFORBIDDEN (wrong
// current password, visitors), EINVALID (weak new password).
func (d *Desk) ChangePassword(ctx context.Context, a Actor, current, next string) error {
	const op = "desk.ChangePassword"
	if _, err := allow(a, SelfManage); err != nil {
		return err
	}
	if err := checkPassword("new password", next); err != nil {
		return err
	}
	if !verifyPassword(a.User.PasswordHash, current) {
		return parley.Errorf(parley.EFORBIDDEN, "The current password is incorrect.")
	}
	hash, err := d.hasher.hash(next)
	if err != nil {
		return wrap(op, err)
	}
	if _, err := d.store.UpdateUser(ctx, a.User.ID, parley.UserUpdate{PasswordHash: &hash}); err != nil {
		return wrap(op, err)
	}
	keep := ""
	if a.Session != nil {
		keep = a.Session.ID
	}
	return d.endSessions(ctx, a.User.ID, keep)
}

// endSessions ends every session of the user but except, and tells Events
// so that every socket of the user but those of except closes: sockets
// opened with an API token close too, since the user's role or standing
// they were opened with may be what changed (they reconnect with the token).
func (d *Desk) endSessions(ctx context.Context, userID, except string) error {
	n, err := d.store.DeleteUserSessions(background(ctx), userID, except)
	if err != nil {
		return wrap("desk.endSessions", err)
	}
	if n > 0 {
		d.log.Info("ended sessions", "user", userID, "count", n)
	}
	d.sessionsEnded(ctx, SessionsEnded{UserID: userID, KeepSession: except})
	return nil
}
