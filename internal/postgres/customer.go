package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

const customerColumns = `id, token_hash, name, email, user_agent, ip, location, metadata, first_seen, last_seen`

// customerColumnsOf is customerColumns qualified by the alias cu.
const customerColumnsOf = `cu.id, cu.token_hash, cu.name, cu.email, cu.user_agent, cu.ip, cu.location, cu.metadata,
	cu.first_seen, cu.last_seen`

// customerDest returns scan destinations for customerColumns and a function
// that finishes the customer once scanned.
func customerDest(c *parley.Customer) ([]any, func() error) {
	var loc, meta []byte
	dest := []any{&c.ID, &c.TokenHash, &c.Name, &c.Email, &c.UserAgent, &c.IP, &loc, &meta, &c.FirstSeen, &c.LastSeen}
	return dest, func() error {
		var err error
		if c.Location, err = decodeMetadata(loc); err != nil {
			return err
		}
		if c.Metadata, err = decodeMetadata(meta); err != nil {
			return err
		}
		c.FirstSeen, c.LastSeen = c.FirstSeen.UTC(), c.LastSeen.UTC()
		return nil
	}
}

func scanCustomer(row pgx.Row) (*parley.Customer, error) {
	var c parley.Customer
	dest, finish := customerDest(&c)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateCustomer inserts c, filling ID, and FirstSeen and LastSeen when zero.
// ECONFLICT on a reused token hash; EINVALID.
func (s *Store) CreateCustomer(ctx context.Context, c *parley.Customer) error {
	const op = "postgres.CreateCustomer"
	c.Email = parley.NormalizeEmail(c.Email)
	if err := c.Validate(); err != nil {
		return err
	}
	if err := assignID(&c.ID, "customer"); err != nil {
		return err
	}
	loc, err := encodeMetadata(c.Location)
	if err != nil {
		return translate(op, err)
	}
	meta, err := encodeMetadata(c.Metadata)
	if err != nil {
		return translate(op, err)
	}
	now := parley.Now()
	first, last := utc(c.FirstSeen), utc(c.LastSeen)
	if c.FirstSeen.IsZero() {
		first = now
	}
	if c.LastSeen.IsZero() {
		last = now
	}
	words := searchWords(c.Name, c.Email)
	if err := s.learnWords(ctx, words); err != nil {
		return translate(op, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO customers (`+customerColumns+`, search)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, array_to_tsvector($11::text[]))`,
		c.ID, c.TokenHash, c.Name, c.Email, c.UserAgent, c.IP, loc, meta, first, last, words)
	if err != nil {
		return translate(op, err)
	}
	c.FirstSeen, c.LastSeen = first, last
	return nil
}

// GetCustomer returns the customer with id. ENOTFOUND.
func (s *Store) GetCustomer(ctx context.Context, id string) (*parley.Customer, error) {
	const op = "postgres.GetCustomer"
	if !parley.ValidID(id) {
		return nil, notFound(op, "customer")
	}
	c, err := scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id))
	if noRows(err) {
		return nil, notFound(op, "customer")
	}
	return c, translate(op, err)
}

// GetCustomerByTokenHash returns the customer whose token has the hash. ENOTFOUND.
func (s *Store) GetCustomerByTokenHash(ctx context.Context, tokenHash string) (*parley.Customer, error) {
	const op = "postgres.GetCustomerByTokenHash"
	c, err := scanCustomer(s.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE token_hash = $1`, tokenHash))
	if noRows(err) {
		return nil, notFound(op, "customer")
	}
	return c, translate(op, err)
}

// UpdateCustomer applies up and returns the customer as stored. ENOTFOUND, EINVALID.
func (s *Store) UpdateCustomer(ctx context.Context, id string, up parley.CustomerUpdate) (*parley.Customer, error) {
	const op = "postgres.UpdateCustomer"
	if !parley.ValidID(id) {
		return nil, notFound(op, "customer")
	}
	// New words of a new name or email join the vocabulary first; the
	// others are in it already.
	var name, email string
	if up.Name != nil {
		name = *up.Name
	}
	if up.Email != nil {
		email = parley.NormalizeEmail(*up.Email)
	}
	if err := s.learnWords(ctx, searchWords(name, email)); err != nil {
		return nil, translate(op, err)
	}
	var c *parley.Customer
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var err error
		c, err = scanCustomer(tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1 FOR UPDATE`, id))
		if noRows(err) {
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
		c, err = scanCustomer(tx.QueryRow(ctx, `UPDATE customers SET name = $2, email = $3, user_agent = $4,
			ip = $5, location = $6, metadata = $7, last_seen = $8, search = array_to_tsvector($9::text[])
			WHERE id = $1 RETURNING `+customerColumns,
			id, c.Name, c.Email, c.UserAgent, c.IP, loc, meta, utc(c.LastSeen), searchWords(c.Name, c.Email)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListCustomers returns a page of customers, most recently first seen first.
// EINVALID for a bad cursor or limit.
func (s *Store) ListCustomers(ctx context.Context, f parley.CustomerFilter) (*parley.CustomerPage, error) {
	const op = "postgres.ListCustomers"
	limit, err := checkLimit(f.Limit, parley.DefaultPageSize, parley.MaxPageSize)
	if err != nil {
		return nil, err
	}
	var after *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	q := `SELECT ` + customerColumns + ` FROM customers WHERE true`
	args := []any{limit + 1}
	if f.Email != "" {
		args = append(args, parley.NormalizeEmail(f.Email))
		q += ` AND email = $` + itoa(len(args))
	}
	if after != nil {
		args = append(args, after.at, after.id)
		q += ` AND (first_seen, id) < ($` + itoa(len(args)-1) + `, $` + itoa(len(args)) + `::uuid)`
	}
	q += ` ORDER BY first_seen DESC, id DESC LIMIT $1`
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.Customer, error) { return scanCustomer(r) })
	if err != nil {
		return nil, translate(op, err)
	}
	page := &parley.CustomerPage{Customers: cs}
	if len(cs) > limit {
		page.Customers = cs[:limit]
		last := cs[limit-1]
		page.NextCursor = encodeCursor(last.FirstSeen, last.ID)
	}
	return page, nil
}

// DeleteCustomer removes a customer and, by cascade, their conversations with
// everything in them. ENOTFOUND.
func (s *Store) DeleteCustomer(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "postgres.DeleteCustomer", "customer", `DELETE FROM customers WHERE id = $1`, id)
}
