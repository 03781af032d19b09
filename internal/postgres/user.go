package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

const userColumns = `id, email, name, password_hash, role, availability, max_chats, disabled, created_at, updated_at`

func scanUser(row pgx.Row) (*parley.User, error) {
	var u parley.User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &u.Availability,
		&u.MaxChats, &u.Disabled, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// CreateUser inserts u, filling ID, CreatedAt and UpdatedAt. ECONFLICT when
// the email is taken; EINVALID.
func (s *Store) CreateUser(ctx context.Context, u *parley.User) error {
	const op = "postgres.CreateUser"
	u.Email = parley.NormalizeEmail(u.Email)
	if err := u.Validate(); err != nil {
		return err
	}
	if err := assignID(&u.ID, "user"); err != nil {
		return err
	}
	now := parley.Now()
	_, err := s.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		u.ID, u.Email, u.Name, u.PasswordHash, string(u.Role), string(u.Availability),
		u.MaxChats, u.Disabled, now)
	if err != nil {
		return translate(op, err)
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// GetUser returns the user with id. ENOTFOUND.
func (s *Store) GetUser(ctx context.Context, id string) (*parley.User, error) {
	const op = "postgres.GetUser"
	if !parley.ValidID(id) {
		return nil, notFound(op, "user")
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if noRows(err) {
		return nil, notFound(op, "user")
	}
	return u, translate(op, err)
}

// GetUserByEmail returns the user with the (normalized) email. ENOTFOUND.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*parley.User, error) {
	const op = "postgres.GetUserByEmail"
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`,
		parley.NormalizeEmail(email)))
	if noRows(err) {
		return nil, notFound(op, "user")
	}
	return u, translate(op, err)
}

// ListUsers returns the users f selects, ordered by name then id. Names sort
// by code point (COLLATE "C") so the order does not hang on the server's locale.
func (s *Store) ListUsers(ctx context.Context, f parley.UserFilter) ([]*parley.User, error) {
	const op = "postgres.ListUsers"
	var where []string
	var args []any
	if f.Role != "" {
		args = append(args, string(f.Role))
		where = append(where, "role = $1")
	}
	if f.Availability != "" {
		args = append(args, string(f.Availability))
		where = append(where, "availability = $"+itoa(len(args)))
	}
	if !f.IncludeDisabled {
		where = append(where, "NOT disabled")
	}
	q := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY name COLLATE "C", id`
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.User, error) { return scanUser(r) })
	return users, translate(op, err)
}

// CountUsers counts every user, disabled ones included.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, translate("postgres.CountUsers", err)
}

// UpdateUser applies up and returns the user as stored. ENOTFOUND, ECONFLICT
// (email taken), EINVALID.
func (s *Store) UpdateUser(ctx context.Context, id string, up parley.UserUpdate) (*parley.User, error) {
	const op = "postgres.UpdateUser"
	if !parley.ValidID(id) {
		return nil, notFound(op, "user")
	}
	var u *parley.User
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if noRows(err) {
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
		_, err = tx.Exec(ctx, `UPDATE users SET email = $2, name = $3, password_hash = $4, role = $5,
			availability = $6, max_chats = $7, disabled = $8, updated_at = $9 WHERE id = $1`,
			id, u.Email, u.Name, u.PasswordHash, string(u.Role), string(u.Availability),
			u.MaxChats, u.Disabled, u.UpdatedAt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser removes a user; the schema's cascades remove their sessions,
// tokens and personal quick replies and unassign their conversations. ENOTFOUND.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	const op = "postgres.DeleteUser"
	return s.deleteByID(ctx, op, "user", `DELETE FROM users WHERE id = $1`, id)
}

// deleteByID runs a single-row delete, ENOTFOUND when it removed nothing.
func (s *Store) deleteByID(ctx context.Context, op, what, sql, id string) error {
	if !parley.ValidID(id) {
		return notFound(op, what)
	}
	tag, err := s.pool.Exec(ctx, sql, id)
	if err != nil {
		return translate(op, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(op, what)
	}
	return nil
}
