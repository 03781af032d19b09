package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/parleychat/parley"
)

const quickReplyColumns = `id, owner_id, shortcut, text, created_at, updated_at`

func scanQuickReply(row interface{ Scan(...any) error }) (*parley.QuickReply, error) {
	var q parley.QuickReply
	var owner sql.NullString
	var created, updated int64
	if err := row.Scan(&q.ID, &owner, &q.Shortcut, &q.Text, &created, &updated); err != nil {
		return nil, err
	}
	q.OwnerID = owner.String
	q.CreatedAt, q.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &q, nil
}

func shortcutConflict(op string, err error) error {
	err = translate(op, err)
	switch parley.ErrorCode(err) {
	case parley.ECONFLICT:
		e := *err.(*parley.Error)
		e.Message = "that shortcut is already taken"
		return &e
	case parley.ENOTFOUND:
		e := *err.(*parley.Error)
		e.Message = "owner not found"
		return &e
	}
	return err
}

// CreateQuickReply inserts q, filling ID, CreatedAt, UpdatedAt. ECONFLICT
// when the owner (or the shared set) already has the shortcut; ENOTFOUND
// (owner); EINVALID.
func (s *Store) CreateQuickReply(ctx context.Context, q *parley.QuickReply) error {
	const op = "sqlite.CreateQuickReply"
	if err := q.Validate(); err != nil {
		return err
	}
	if q.ID == "" {
		q.ID = parley.NewID()
	} else if !parley.ValidID(q.ID) {
		return parley.Errorf(parley.EINVALID, "quick reply id is not a valid id")
	}
	now := parley.Now()
	if _, err := s.exec(ctx, op, `INSERT INTO quick_replies (`+quickReplyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		q.ID, nullString(q.OwnerID), q.Shortcut, q.Text, micros(now), micros(now)); err != nil {
		return shortcutConflict(op, err)
	}
	q.CreatedAt, q.UpdatedAt = now, now
	return nil
}

// GetQuickReply returns the quick reply with id. ENOTFOUND.
func (s *Store) GetQuickReply(ctx context.Context, id string) (*parley.QuickReply, error) {
	const op = "sqlite.GetQuickReply"
	if !parley.ValidID(id) {
		return nil, notFound(op, "quick reply")
	}
	q, err := scanQuickReply(s.rq.QueryRowContext(ctx, `SELECT `+quickReplyColumns+` FROM quick_replies WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "quick reply")
	}
	return q, translate(op, err)
}

// ListQuickReplies returns the shared replies and, when ownerID is set, that
// user's own, ordered by shortcut then id.
func (s *Store) ListQuickReplies(ctx context.Context, ownerID string) ([]*parley.QuickReply, error) {
	const op = "sqlite.ListQuickReplies"
	rows, err := s.rq.QueryContext(ctx, `SELECT `+quickReplyColumns+` FROM quick_replies
		WHERE owner_id IS NULL OR owner_id = ? ORDER BY shortcut, id`, ownerID)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.QuickReply
	for rows.Next() {
		q, err := scanQuickReply(rows)
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, q)
	}
	return out, translate(op, rows.Err())
}

// UpdateQuickReply applies up and returns the reply as stored. ENOTFOUND,
// ECONFLICT (shortcut taken), EINVALID.
func (s *Store) UpdateQuickReply(ctx context.Context, id string, up parley.QuickReplyUpdate) (*parley.QuickReply, error) {
	const op = "sqlite.UpdateQuickReply"
	if !parley.ValidID(id) {
		return nil, notFound(op, "quick reply")
	}
	var out *parley.QuickReply
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		q, err := scanQuickReply(tx.QueryRowContext(ctx, `SELECT `+quickReplyColumns+` FROM quick_replies WHERE id = ?`, id))
		if err == sql.ErrNoRows {
			return notFound(op, "quick reply")
		}
		if err != nil {
			return err
		}
		if up.Shortcut != nil {
			q.Shortcut = *up.Shortcut
		}
		if up.Text != nil {
			q.Text = *up.Text
		}
		if err := q.Validate(); err != nil {
			return err
		}
		q.UpdatedAt = parley.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE quick_replies SET shortcut = ?, text = ?, updated_at = ? WHERE id = ?`,
			q.Shortcut, q.Text, micros(q.UpdatedAt), id); err != nil {
			return shortcutConflict(op, err)
		}
		out = q
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteQuickReply removes a quick reply. ENOTFOUND.
func (s *Store) DeleteQuickReply(ctx context.Context, id string) error {
	const op = "sqlite.DeleteQuickReply"
	if !parley.ValidID(id) {
		return notFound(op, "quick reply")
	}
	n, err := s.exec(ctx, op, `DELETE FROM quick_replies WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "quick reply")
	}
	return nil
}

const sopColumns = `id, title, body, tags, version, created_by, updated_by, created_at, updated_at`

func scanSOP(row interface{ Scan(...any) error }) (*parley.SOPDocument, error) {
	var d parley.SOPDocument
	var tags string
	var createdBy, updatedBy sql.NullString
	var created, updated int64
	if err := row.Scan(&d.ID, &d.Title, &d.Body, &tags, &d.Version, &createdBy, &updatedBy, &created, &updated); err != nil {
		return nil, err
	}
	if tags != "" && tags != "[]" {
		if err := json.Unmarshal([]byte(tags), &d.Tags); err != nil {
			return nil, err
		}
	}
	d.CreatedBy, d.UpdatedBy = createdBy.String, updatedBy.String
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

func encodeTags(tags []string) (string, error) {
	if len(tags) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(tags)
	return string(b), err
}

func authorNotFound(op string, err error) error {
	err = translate(op, err)
	if parley.IsCode(err, parley.ENOTFOUND) {
		e := *err.(*parley.Error)
		e.Message = "author not found"
		return &e
	}
	return err
}

// CreateSOP inserts d with Version 1, filling ID, CreatedAt, UpdatedAt.
// ENOTFOUND (author); EINVALID.
func (s *Store) CreateSOP(ctx context.Context, d *parley.SOPDocument) error {
	const op = "sqlite.CreateSOP"
	if err := d.Validate(); err != nil {
		return err
	}
	if d.ID == "" {
		d.ID = parley.NewID()
	} else if !parley.ValidID(d.ID) {
		return parley.Errorf(parley.EINVALID, "document id is not a valid id")
	}
	tags, err := encodeTags(d.Tags)
	if err != nil {
		return &parley.Error{Code: parley.EINVALID, Op: op, Message: "tags cannot be encoded", Err: err}
	}
	now := parley.Now()
	err = s.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sop_documents (`+sopColumns+`) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			d.ID, d.Title, d.Body, tags, d.CreatedBy, d.UpdatedBy, micros(now), micros(now)); err != nil {
			return err
		}
		return keepSOPVersion(ctx, tx, d.ID, 1, d.Title, d.Body, tags, d.UpdatedBy, now)
	})
	if err != nil {
		return authorNotFound(op, err)
	}
	d.Version, d.CreatedAt, d.UpdatedAt = 1, now, now
	return nil
}

// GetSOP returns the document with id. ENOTFOUND.
func (s *Store) GetSOP(ctx context.Context, id string) (*parley.SOPDocument, error) {
	const op = "sqlite.GetSOP"
	if !parley.ValidID(id) {
		return nil, notFound(op, "document")
	}
	d, err := scanSOP(s.rq.QueryRowContext(ctx, `SELECT `+sopColumns+` FROM sop_documents WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "document")
	}
	return d, translate(op, err)
}

// ListSOPs returns every document, ordered by title then id.
func (s *Store) ListSOPs(ctx context.Context) ([]*parley.SOPDocument, error) {
	const op = "sqlite.ListSOPs"
	rows, err := s.rq.QueryContext(ctx, `SELECT `+sopColumns+` FROM sop_documents ORDER BY title, id`)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.SOPDocument
	for rows.Next() {
		d, err := scanSOP(rows)
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, d)
	}
	return out, translate(op, rows.Err())
}

// UpdateSOP applies up, increments Version and returns the document as
// stored. ENOTFOUND; ECONFLICT when ExpectVersion does not hold; EINVALID.
func (s *Store) UpdateSOP(ctx context.Context, id string, up parley.SOPUpdate) (*parley.SOPDocument, error) {
	const op = "sqlite.UpdateSOP"
	if !parley.ValidID(id) {
		return nil, notFound(op, "document")
	}
	var out *parley.SOPDocument
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		d, err := scanSOP(tx.QueryRowContext(ctx, `SELECT `+sopColumns+` FROM sop_documents WHERE id = ?`, id))
		if err == sql.ErrNoRows {
			return notFound(op, "document")
		}
		if err != nil {
			return err
		}
		if up.Title != nil {
			d.Title = *up.Title
		}
		if up.Body != nil {
			d.Body = *up.Body
		}
		if up.Tags != nil {
			d.Tags = up.Tags
		}
		d.UpdatedBy = up.UpdatedBy
		// The author may have been deleted since (created_by is then NULL);
		// that does not make the document invalid.
		check := *d
		if check.CreatedBy == "" {
			check.CreatedBy = up.UpdatedBy
		}
		if err := check.Validate(); err != nil {
			return err
		}
		if up.ExpectVersion != 0 && d.Version != up.ExpectVersion {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the document was changed by someone else"}
		}
		tags, err := encodeTags(d.Tags)
		if err != nil {
			return &parley.Error{Code: parley.EINVALID, Op: op, Message: "tags cannot be encoded", Err: err}
		}
		d.Version++
		d.UpdatedAt = parley.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE sop_documents SET title = ?, body = ?, tags = ?, version = ?,
			updated_by = ?, updated_at = ? WHERE id = ?`,
			d.Title, d.Body, tags, d.Version, d.UpdatedBy, micros(d.UpdatedAt), id); err != nil {
			return authorNotFound(op, err)
		}
		if err := keepSOPVersion(ctx, tx, id, d.Version, d.Title, d.Body, tags, d.UpdatedBy, d.UpdatedAt); err != nil {
			return authorNotFound(op, err)
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteSOP removes a document. ENOTFOUND.
func (s *Store) DeleteSOP(ctx context.Context, id string) error {
	const op = "sqlite.DeleteSOP"
	if !parley.ValidID(id) {
		return notFound(op, "document")
	}
	n, err := s.exec(ctx, op, `DELETE FROM sop_documents WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "document")
	}
	return nil
}
