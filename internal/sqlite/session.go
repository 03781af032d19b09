package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/parleychat/parley"
)

const sessionColumns = `id, user_id, token_hash, csrf_token, ip, user_agent, created_at, last_seen_at, idle_expires_at, expires_at`

func scanSession(row interface{ Scan(...any) error }) (*parley.Session, error) {
	var se parley.Session
	var created, seen, idle, expires int64
	if err := row.Scan(&se.ID, &se.UserID, &se.TokenHash, &se.CSRFToken, &se.IP, &se.UserAgent,
		&created, &seen, &idle, &expires); err != nil {
		return nil, err
	}
	se.CreatedAt, se.LastSeenAt = fromMicros(created), fromMicros(seen)
	se.IdleExpiresAt, se.ExpiresAt = fromMicros(idle), fromMicros(expires)
	return &se, nil
}

// CreateSession inserts se, filling ID, CreatedAt and LastSeenAt. ENOTFOUND
// when the user does not exist; ECONFLICT on a reused hash; EINVALID.
func (s *Store) CreateSession(ctx context.Context, se *parley.Session) error {
	const op = "sqlite.CreateSession"
	if err := se.Validate(); err != nil {
		return err
	}
	if se.ID == "" {
		se.ID = parley.NewID()
	} else if !parley.ValidID(se.ID) {
		return parley.Errorf(parley.EINVALID, "session id is not a valid id")
	}
	now := parley.Now()
	se.IdleExpiresAt, se.ExpiresAt = utc(se.IdleExpiresAt), utc(se.ExpiresAt)
	_, err := s.exec(ctx, op, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		se.ID, se.UserID, se.TokenHash, se.CSRFToken, se.IP, se.UserAgent,
		micros(now), micros(now), micros(se.IdleExpiresAt), micros(se.ExpiresAt))
	if err != nil {
		return err
	}
	se.CreatedAt, se.LastSeenAt = now, now
	return nil
}

// GetSessionByTokenHash returns the session with the token hash, expired or
// not. ENOTFOUND.
func (s *Store) GetSessionByTokenHash(ctx context.Context, tokenHash string) (*parley.Session, error) {
	const op = "sqlite.GetSessionByTokenHash"
	if tokenHash == "" {
		return nil, notFound(op, "session")
	}
	se, err := scanSession(s.rq.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, tokenHash))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "session")
	}
	return se, translate(op, err)
}

// TouchSession records activity: LastSeenAt = seen, IdleExpiresAt =
// idleExpires, never past ExpiresAt. ENOTFOUND.
func (s *Store) TouchSession(ctx context.Context, id string, seen, idleExpires time.Time) error {
	const op = "sqlite.TouchSession"
	if !parley.ValidID(id) {
		return notFound(op, "session")
	}
	n, err := s.exec(ctx, op, `UPDATE sessions SET last_seen_at = ?, idle_expires_at = min(?, expires_at) WHERE id = ?`,
		micros(utc(seen)), micros(utc(idleExpires)), id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "session")
	}
	return nil
}

// DeleteSession removes one session. ENOTFOUND.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	const op = "sqlite.DeleteSession"
	if !parley.ValidID(id) {
		return notFound(op, "session")
	}
	n, err := s.exec(ctx, op, `DELETE FROM sessions WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "session")
	}
	return nil
}

// DeleteUserSessions removes every session of the user except exceptID
// ("" removes all) and returns how many it removed.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	const op = "sqlite.DeleteUserSessions"
	if !parley.ValidID(userID) {
		return 0, nil
	}
	n, err := s.exec(ctx, op, `DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?`, userID, nullString(exceptID))
	return int(n), err
}

// DeleteExpiredSessions removes sessions whose idle or absolute expiry is
// before now and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	n, err := s.exec(ctx, "sqlite.DeleteExpiredSessions",
		`DELETE FROM sessions WHERE min(idle_expires_at, expires_at) < ?`, micros(utc(now)))
	return int(n), err
}

const apiTokenColumns = `id, user_id, name, token_hash, created_at, last_used_at, revoked_at`

func scanAPIToken(row interface{ Scan(...any) error }) (*parley.APIToken, error) {
	var t parley.APIToken
	var created int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, &created, &used, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMicros(created)
	t.LastUsedAt, t.RevokedAt = fromNullMicros(used), fromNullMicros(revoked)
	return &t, nil
}

// CreateAPIToken inserts t, filling ID and CreatedAt. ENOTFOUND (user),
// ECONFLICT (hash reused), EINVALID.
func (s *Store) CreateAPIToken(ctx context.Context, t *parley.APIToken) error {
	const op = "sqlite.CreateAPIToken"
	if err := t.Validate(); err != nil {
		return err
	}
	if t.ID == "" {
		t.ID = parley.NewID()
	} else if !parley.ValidID(t.ID) {
		return parley.Errorf(parley.EINVALID, "token id is not a valid id")
	}
	now := parley.Now()
	var used, revoked *time.Time
	if t.LastUsedAt != nil {
		u := utc(*t.LastUsedAt)
		used = &u
	}
	if t.RevokedAt != nil {
		r := utc(*t.RevokedAt)
		revoked = &r
	}
	_, err := s.exec(ctx, op, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.UserID, t.Name, t.TokenHash, micros(now), nullMicros(used), nullMicros(revoked))
	if err != nil {
		return err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = now, used, revoked
	return nil
}

// GetAPITokenByHash returns the token with the hash, revoked or not. ENOTFOUND.
func (s *Store) GetAPITokenByHash(ctx context.Context, tokenHash string) (*parley.APIToken, error) {
	const op = "sqlite.GetAPITokenByHash"
	if tokenHash == "" {
		return nil, notFound(op, "API token")
	}
	t, err := scanAPIToken(s.rq.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, tokenHash))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "API token")
	}
	return t, translate(op, err)
}

// GetAPIToken returns the token with id. ENOTFOUND.
func (s *Store) GetAPIToken(ctx context.Context, id string) (*parley.APIToken, error) {
	const op = "sqlite.GetAPIToken"
	if !parley.ValidID(id) {
		return nil, notFound(op, "API token")
	}
	t, err := scanAPIToken(s.rq.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "API token")
	}
	return t, translate(op, err)
}

// ListAPITokens returns the user's tokens ("" for everyone's), newest first.
func (s *Store) ListAPITokens(ctx context.Context, userID string) ([]*parley.APIToken, error) {
	const op = "sqlite.ListAPITokens"
	q := `SELECT ` + apiTokenColumns + ` FROM api_tokens ORDER BY created_at DESC, id DESC`
	var args []any
	if userID != "" {
		if !parley.ValidID(userID) {
			return nil, nil
		}
		q = `SELECT ` + apiTokenColumns + ` FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC`
		args = append(args, userID)
	}
	rows, err := s.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, t)
	}
	return out, translate(op, rows.Err())
}

// TouchAPIToken sets LastUsedAt. ENOTFOUND.
func (s *Store) TouchAPIToken(ctx context.Context, id string, used time.Time) error {
	const op = "sqlite.TouchAPIToken"
	if !parley.ValidID(id) {
		return notFound(op, "API token")
	}
	n, err := s.exec(ctx, op, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, micros(utc(used)), id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "API token")
	}
	return nil
}

// RevokeAPIToken sets RevokedAt once; revoking again keeps the first time.
// ENOTFOUND.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	const op = "sqlite.RevokeAPIToken"
	if !parley.ValidID(id) {
		return notFound(op, "API token")
	}
	n, err := s.exec(ctx, op, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(utc(at)), id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "API token")
	}
	return nil
}
