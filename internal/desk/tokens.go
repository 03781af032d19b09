package desk

import (
	"context"

	"github.com/parleychat/parley"
)

// NewAPIToken is a token just created: Token is shown once and never stored.
type NewAPIToken struct {
	*parley.APIToken
	Token string
}

// CreateToken creates an API token acting as the caller. EUNAUTHORIZED,
// EFORBIDDEN (visitors), EINVALID.
func (d *Desk) CreateToken(ctx context.Context, a Actor, name string) (*NewAPIToken, error) {
	if _, err := allow(a, TokenOwn); err != nil {
		return nil, err
	}
	token, hash := newToken(APITokenPrefix)
	t := &parley.APIToken{UserID: a.User.ID, Name: name, TokenHash: hash}
	if err := d.store.CreateAPIToken(ctx, t); err != nil {
		return nil, wrap("desk.CreateToken", err)
	}
	return &NewAPIToken{APIToken: t, Token: token}, nil
}

// ListTokens lists the caller's tokens, or everyone's for an admin.
// EUNAUTHORIZED, EFORBIDDEN.
func (d *Desk) ListTokens(ctx context.Context, a Actor) ([]*parley.APIToken, error) {
	if _, err := allow(a, TokenOwn); err != nil {
		return nil, err
	}
	owner := a.User.ID
	if scope(a, TokenAll) == All {
		owner = ""
	}
	ts, err := d.store.ListAPITokens(ctx, owner)
	return ts, wrap("desk.ListTokens", err)
}

// RevokeToken revokes a token of the caller's (any token for an admin).
// EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND (also for someone else's token).
func (d *Desk) RevokeToken(ctx context.Context, a Actor, id string) error {
	const op = "desk.RevokeToken"
	if _, err := allow(a, TokenOwn); err != nil {
		return err
	}
	t, err := d.store.GetAPIToken(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return notFound("Token")
		}
		return wrap(op, err)
	}
	if t.UserID != a.User.ID && scope(a, TokenAll) != All {
		return notFound("Token")
	}
	if err := d.store.RevokeAPIToken(ctx, t.ID, parley.Now()); err != nil {
		return wrap(op, err)
	}
	d.sessionsEnded(ctx, SessionsEnded{UserID: t.UserID, Token: t.ID})
	return nil
}
