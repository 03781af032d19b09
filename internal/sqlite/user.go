package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parleychat/parley"
)

const userColumns = `id, email, name, password_hash, role, availability, max_chats, disabled, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*parley.User, error) {
	var u parley.User
	var created, updated int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &u.Availability,
		&u.MaxChats, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

// CreateUser inserts u, filling ID, CreatedAt and UpdatedAt. ECONFLICT when
// the email is taken; EINVALID.
func (s *Store) CreateUser(ctx context.Context, u *parley.User) error {
	const op = "sqlite.CreateUser"
	u.Email = parley.NormalizeEmail(u.Email)
	if err := u.Validate(); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = parley.NewID()
	} else if !parley.ValidID(u.ID) {
		return parley.Errorf(parley.EINVALID, "user id is not a valid id")
	}
	now := parley.Now()
	_, err := s.exec(ctx, op, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.Role, u.Availability, u.MaxChats, u.Disabled, micros(now), micros(now))
	if err != nil {
		return emailConflict(err)
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// emailConflict names the email as the cause of a unique violation on users
// (the id is random, so the email is what collides).
func emailConflict(err error) error {
	if parley.IsCode(err, parley.ECONFLICT) {
		e := *err.(*parley.Error)
		e.Message = "that email is already taken"
		return &e
	}
	return err
}

// GetUser returns the user with id. ENOTFOUND.
func (s *Store) GetUser(ctx context.Context, id string) (*parley.User, error) {
	const op = "sqlite.GetUser"
	if !parley.ValidID(id) {
		return nil, notFound(op, "user")
	}
	u, err := scanUser(s.rq.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "user")
	}
	return u, translate(op, err)
}

// GetUserByEmail returns the user with the (normalized) email. ENOTFOUND.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*parley.User, error) {
	const op = "sqlite.GetUserByEmail"
	email = parley.NormalizeEmail(email)
	if email == "" {
		return nil, notFound(op, "user")
	}
	u, err := scanUser(s.rq.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "user")
	}
	return u, translate(op, err)
}

// ListUsers returns the users f selects, ordered by name then id.
func (s *Store) ListUsers(ctx context.Context, f parley.UserFilter) ([]*parley.User, error) {
	const op = "sqlite.ListUsers"
	var where []string
	var args []any
	if f.Role != "" {
		where = append(where, "role = ?")
		args = append(args, f.Role)
	}
	if f.Availability != "" {
		where = append(where, "availability = ?")
		args = append(args, f.Availability)
	}
	if !f.IncludeDisabled {
		where = append(where, "disabled = 0")
	}
	q := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY name, id`
	rows, err := s.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, u)
	}
	return out, translate(op, rows.Err())
}

// CountUsers counts every user, disabled ones included.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, translate("sqlite.CountUsers", err)
}

// UpdateUser applies up and returns the user as stored. ENOTFOUND,
// ECONFLICT (email taken), EINVALID.
func (s *Store) UpdateUser(ctx context.Context, id string, up parley.UserUpdate) (*parley.User, error) {
	const op = "sqlite.UpdateUser"
	if !parley.ValidID(id) {
		return nil, notFound(op, "user")
	}
	var out *parley.User
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if err == sql.ErrNoRows {
			return notFound(op, "user")
		}
		if err != nil {
			return err
		}
		up.Apply(u)
		if err := u.Validate(); err != nil {
			return err
		}
		u.UpdatedAt = parley.Now()
		_, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, name = ?, password_hash = ?, role = ?,
			availability = ?, max_chats = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			u.Email, u.Name, u.PasswordHash, u.Role, u.Availability, u.MaxChats, u.Disabled, micros(u.UpdatedAt), id)
		if err != nil {
			return emailConflict(translate(op, err))
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUser removes a user with their sessions, tokens and personal quick
// replies (by cascade); conversations assigned to them become unassigned
// (ON DELETE SET NULL). ENOTFOUND.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const op = "sqlite.DeleteUser"
	if !parley.ValidID(id) {
		return notFound(op, "user")
	}
	n, err := s.exec(ctx, op, `DELETE FROM users WHERE id = ?`, id)
	s.forgetConversations()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "user")
	}
	return nil
}
