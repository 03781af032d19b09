package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/parleychat/parley"
)

const customerColumns = `id, token_hash, name, email, user_agent, ip, location, metadata, first_seen, last_seen`

func scanCustomer(row interface{ Scan(...any) error }) (*parley.Customer, error) {
	var c parley.Customer
	var loc, meta string
	var first, last int64
	if err := row.Scan(&c.ID, &c.TokenHash, &c.Name, &c.Email, &c.UserAgent, &c.IP, &loc, &meta, &first, &last); err != nil {
		return nil, err
	}
	var err error
	if c.Location, err = decodeMetadata(loc); err != nil {
		return nil, err
	}
	if c.Metadata, err = decodeMetadata(meta); err != nil {
		return nil, err
	}
	c.FirstSeen, c.LastSeen = fromMicros(first), fromMicros(last)
	return &c, nil
}

// encodeMetadata returns the JSON text kept for m ("{}" when empty).
func encodeMetadata(m parley.Metadata) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", &parley.Error{Code: parley.EINVALID, Message: "metadata must be a JSON object", Err: err}
	}
	return string(b), nil
}

func decodeMetadata(s string) (parley.Metadata, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	var m parley.Metadata
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// CreateCustomer inserts c, filling ID, and FirstSeen and LastSeen when zero.
// ECONFLICT on a reused token hash; EINVALID.
func (s *Store) CreateCustomer(ctx context.Context, c *parley.Customer) error {
	const op = "sqlite.CreateCustomer"
	c.Email = parley.NormalizeEmail(c.Email)
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = parley.NewID()
	} else if !parley.ValidID(c.ID) {
		return parley.Errorf(parley.EINVALID, "customer id is not a valid id")
	}
	loc, err := encodeMetadata(c.Location)
	if err != nil {
		return err
	}
	meta, err := encodeMetadata(c.Metadata)
	if err != nil {
		return err
	}
	now := parley.Now()
	first, last := now, now
	if !c.FirstSeen.IsZero() {
		first = utc(c.FirstSeen)
	}
	if !c.LastSeen.IsZero() {
		last = utc(c.LastSeen)
	}
	err = s.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers (`+customerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.TokenHash, c.Name, c.Email, c.UserAgent, c.IP, loc, meta, micros(first), micros(last)); err != nil {
			return err
		}
		return indexCustomer(ctx, tx, c.ID, c.Name, c.Email)
	})
	if err != nil {
		if parley.IsCode(err, parley.ECONFLICT) {
			e := *err.(*parley.Error)
			e.Message = "that customer token is already in use"
			return &e
		}
		return err
	}
	c.FirstSeen, c.LastSeen = first, last
	return nil
}

// GetCustomer returns the customer with id. ENOTFOUND.
func (s *Store) GetCustomer(ctx context.Context, id string) (*parley.Customer, error) {
	const op = "sqlite.GetCustomer"
	if !parley.ValidID(id) {
		return nil, notFound(op, "customer")
	}
	c, err := scanCustomer(s.rq.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "customer")
	}
	return c, translate(op, err)
}

// GetCustomerByTokenHash returns the customer whose token has the hash. ENOTFOUND.
func (s *Store) GetCustomerByTokenHash(ctx context.Context, tokenHash string) (*parley.Customer, error) {
	const op = "sqlite.GetCustomerByTokenHash"
	if tokenHash == "" {
		return nil, notFound(op, "customer")
	}
	c, err := scanCustomer(s.rq.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE token_hash = ?`, tokenHash))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "customer")
	}
	return c, translate(op, err)
}

// UpdateCustomer applies up and returns the customer as stored. ENOTFOUND,
// EINVALID.
func (s *Store) UpdateCustomer(ctx context.Context, id string, up parley.CustomerUpdate) (*parley.Customer, error) {
	const op = "sqlite.UpdateCustomer"
	if !parley.ValidID(id) {
		return nil, notFound(op, "customer")
	}
	var out *parley.Customer
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		c, err := scanCustomer(tx.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = ?`, id))
		if err == sql.ErrNoRows {
			return notFound(op, "customer")
		}
		if err != nil {
			return err
		}
		up.Apply(c)
		if err := c.Validate(); err != nil {
			return err
		}
		loc, err := encodeMetadata(c.Location)
		if err != nil {
			return err
		}
		meta, err := encodeMetadata(c.Metadata)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET name = ?, email = ?, user_agent = ?, ip = ?,
			location = ?, metadata = ?, last_seen = ? WHERE id = ?`,
			c.Name, c.Email, c.UserAgent, c.IP, loc, meta, micros(c.LastSeen), id); err != nil {
			return err
		}
		if up.Name != nil || up.Email != nil {
			if err := indexCustomer(ctx, tx, id, c.Name, c.Email); err != nil {
				return err
			}
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListCustomers returns a page of customers, most recently first seen first.
// EINVALID for a bad cursor or limit.
func (s *Store) ListCustomers(ctx context.Context, f parley.CustomerFilter) (*parley.CustomerPage, error) {
	const op = "sqlite.ListCustomers"
	limit, err := pageLimit(f.Limit, parley.DefaultPageSize, parley.MaxPageSize)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + customerColumns + ` FROM customers WHERE 1`
	var args []any
	if f.Email != "" {
		q += ` AND email = ?`
		args = append(args, parley.NormalizeEmail(f.Email))
	}
	if f.Cursor != "" {
		cur, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		q += ` AND (first_seen < ? OR (first_seen = ? AND id < ?))`
		args = append(args, cur.at, cur.at, cur.id)
	}
	q += ` ORDER BY first_seen DESC, id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	page := &parley.CustomerPage{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, translate(op, err)
		}
		page.Customers = append(page.Customers, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(op, err)
	}
	if len(page.Customers) > limit {
		page.Customers = page.Customers[:limit]
		last := page.Customers[limit-1]
		page.NextCursor = encodeCursor(last.FirstSeen, last.ID)
	}
	return page, nil
}

// DeleteCustomer removes a customer and, by cascade, their conversations
// with everything in them. ENOTFOUND.
func (s *Store) DeleteCustomer(ctx context.Context, id string) error {
	const op = "sqlite.DeleteCustomer"
	if !parley.ValidID(id) {
		return notFound(op, "customer")
	}
	n, err := s.exec(ctx, op, `DELETE FROM customers WHERE id = ?`, id)
	s.forgetConversations()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "customer")
	}
	return nil
}
