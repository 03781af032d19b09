package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

const sessionColumns = `id, user_id, token_hash, csrf_token, ip, user_agent, created_at, last_seen_at, idle_expires_at, expires_at`

func scanSession(row pgx.Row) (*parley.Session, error) {
	var x parley.Session
	err := row.Scan(&x.ID, &x.UserID, &x.TokenHash, &x.CSRFToken, &x.IP, &x.UserAgent,
		&x.CreatedAt, &x.LastSeenAt, &x.IdleExpiresAt, &x.ExpiresAt)
	if err != nil {
		return nil, err
	}
	x.CreatedAt, x.LastSeenAt = x.CreatedAt.UTC(), x.LastSeenAt.UTC()
	x.IdleExpiresAt, x.ExpiresAt = x.IdleExpiresAt.UTC(), x.ExpiresAt.UTC()
	return &x, nil
}

// CreateSession inserts x, filling ID, CreatedAt and LastSeenAt. ENOTFOUND
// when the user does not exist; ECONFLICT on a reused hash; EINVALID.
func (s *Store) CreateSession(ctx context.Context, x *parley.Session) error {
	const op = "postgres.CreateSession"
	if err := x.Validate(); err != nil {
		return err
	}
	if err := assignID(&x.ID, "session"); err != nil {
		return err
	}
	now := parley.Now()
	idle, expires := utc(x.IdleExpiresAt), utc(x.ExpiresAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)`,
		x.ID, x.UserID, x.TokenHash, x.CSRFToken, x.IP, x.UserAgent, now, idle, expires)
	if err != nil {
		return translate(op, err)
	}
	x.CreatedAt, x.LastSeenAt, x.IdleExpiresAt, x.ExpiresAt = now, now, idle, expires
	return nil
}

// GetSessionByTokenHash returns the session with the token hash, expired or
// not. ENOTFOUND.
func (s *Store) GetSessionByTokenHash(ctx context.Context, tokenHash string) (*parley.Session, error) {
	const op = "postgres.GetSessionByTokenHash"
	x, err := scanSession(s.pool.QueryRow(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, tokenHash))
	if noRows(err) {
		return nil, notFound(op, "session")
	}
	return x, translate(op, err)
}

// TouchSession records activity: LastSeenAt = seen, IdleExpiresAt =
// idleExpires, never past ExpiresAt. ENOTFOUND.
func (s *Store) TouchSession(ctx context.Context, id string, seen, idleExpires time.Time) error {
	const op = "postgres.TouchSession"
	if !parley.ValidID(id) {
		return notFound(op, "session")
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sessions
		SET last_seen_at = $2, idle_expires_at = least($3, expires_at) WHERE id = $1`,
		id, utc(seen), utc(idleExpires))
	if err != nil {
		return translate(op, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(op, "session")
	}
	return nil
}

// DeleteSession removes one session. ENOTFOUND.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "postgres.DeleteSession", "session", `DELETE FROM sessions WHERE id = $1`, id)
}

// DeleteUserSessions removes every session of the user except exceptID (""
// removes all) and returns how many it removed. A malformed except id names
// no session, so every session goes.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	const op = "postgres.DeleteUserSessions"
	if !parley.ValidID(userID) {
		return 0, nil
	}
	var except any
	if parley.ValidID(exceptID) {
		except = exceptID
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions
		WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2::uuid)`, userID, except)
	if err != nil {
		return 0, translate(op, err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredSessions removes sessions whose idle or absolute expiry is
// before now and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	const op = "postgres.DeleteExpiredSessions"
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE least(idle_expires_at, expires_at) < $1`, utc(now))
	if err != nil {
		return 0, translate(op, err)
	}
	return int(tag.RowsAffected()), nil
}

const tokenColumns = `id, user_id, name, token_hash, created_at, last_used_at, revoked_at`

func scanToken(row pgx.Row) (*parley.APIToken, error) {
	var t parley.APIToken
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.LastUsedAt, t.RevokedAt = utcPtr(t.LastUsedAt), utcPtr(t.RevokedAt)
	return &t, nil
}

// CreateAPIToken inserts t, filling ID and CreatedAt. ENOTFOUND (user),
// ECONFLICT (hash reused), EINVALID.
func (s *Store) CreateAPIToken(ctx context.Context, t *parley.APIToken) error {
	const op = "postgres.CreateAPIToken"
	if err := t.Validate(); err != nil {
		return err
	}
	if err := assignID(&t.ID, "token"); err != nil {
		return err
	}
	now := parley.Now()
	lastUsed, revoked := utcPtr(t.LastUsedAt), utcPtr(t.RevokedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.UserID, t.Name, t.TokenHash, now, lastUsed, revoked)
	if err != nil {
		return translate(op, err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = now, lastUsed, revoked
	return nil
}

// GetAPITokenByHash returns the token with the hash, revoked or not. ENOTFOUND.
func (s *Store) GetAPITokenByHash(ctx context.Context, tokenHash string) (*parley.APIToken, error) {
	const op = "postgres.GetAPITokenByHash"
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, tokenHash))
	if noRows(err) {
		return nil, notFound(op, "API token")
	}
	return t, translate(op, err)
}

// GetAPIToken returns the token with id. ENOTFOUND.
func (s *Store) GetAPIToken(ctx context.Context, id string) (*parley.APIToken, error) {
	const op = "postgres.GetAPIToken"
	if !parley.ValidID(id) {
		return nil, notFound(op, "API token")
	}
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
	if noRows(err) {
		return nil, notFound(op, "API token")
	}
	return t, translate(op, err)
}

// ListAPITokens returns the user's tokens ("" for everyone's), newest first.
func (s *Store) ListAPITokens(ctx context.Context, userID string) ([]*parley.APIToken, error) {
	const op = "postgres.ListAPITokens"
	var rows pgx.Rows
	var err error
	switch {
	case userID == "":
		rows, err = s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at DESC, id DESC`)
	case parley.ValidID(userID):
		rows, err = s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens
			WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	default:
		return []*parley.APIToken{}, nil
	}
	if err != nil {
		return nil, translate(op, err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.APIToken, error) { return scanToken(r) })
	return ts, translate(op, err)
}

// TouchAPIToken sets LastUsedAt. ENOTFOUND.
func (s *Store) TouchAPIToken(ctx context.Context, id string, used time.Time) error {
	const op = "postgres.TouchAPIToken"
	return s.updateByID(ctx, op, "API token", `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, id, utc(used))
}

// RevokeAPIToken sets RevokedAt; revoking again keeps the first time. ENOTFOUND.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	const op = "postgres.RevokeAPIToken"
	return s.updateByID(ctx, op, "API token",
		`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, utc(at))
}

// updateByID runs a single-row update with id as $1, ENOTFOUND when it
// matched nothing.
func (s *Store) updateByID(ctx context.Context, op, what, sql, id string, args ...any) error {
	if !parley.ValidID(id) {
		return notFound(op, what)
	}
	tag, err := s.pool.Exec(ctx, sql, append([]any{id}, args...)...)
	if err != nil {
		return translate(op, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(op, what)
	}
	return nil
}
