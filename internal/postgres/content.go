package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

const quickReplyColumns = `id, owner_id, shortcut, text, created_at, updated_at`

func scanQuickReply(row pgx.Row) (*parley.QuickReply, error) {
	var q parley.QuickReply
	var owner *string
	if err := row.Scan(&q.ID, &owner, &q.Shortcut, &q.Text, &q.CreatedAt, &q.UpdatedAt); err != nil {
		return nil, err
	}
	q.OwnerID = deref(owner)
	q.CreatedAt, q.UpdatedAt = q.CreatedAt.UTC(), q.UpdatedAt.UTC()
	return &q, nil
}

// CreateQuickReply inserts q, filling ID, CreatedAt, UpdatedAt. ECONFLICT
// when the owner (or the shared set) already has the shortcut; ENOTFOUND
// (owner); EINVALID.
func (s *Store) CreateQuickReply(ctx context.Context, q *parley.QuickReply) error {
	const op = "postgres.CreateQuickReply"
	if err := q.Validate(); err != nil {
		return err
	}
	if err := assignID(&q.ID, "quick reply"); err != nil {
		return err
	}
	now := parley.Now()
	_, err := s.pool.Exec(ctx, `INSERT INTO quick_replies (`+quickReplyColumns+`) VALUES ($1, $2, $3, $4, $5, $5)`,
		q.ID, nullID(q.OwnerID), q.Shortcut, q.Text, now)
	if err != nil {
		return translate(op, err)
	}
	q.CreatedAt, q.UpdatedAt = now, now
	return nil
}

// GetQuickReply returns the quick reply with id. ENOTFOUND.
func (s *Store) GetQuickReply(ctx context.Context, id string) (*parley.QuickReply, error) {
	const op = "postgres.GetQuickReply"
	if !parley.ValidID(id) {
		return nil, notFound(op, "quick reply")
	}
	q, err := scanQuickReply(s.pool.QueryRow(ctx, `SELECT `+quickReplyColumns+` FROM quick_replies WHERE id = $1`, id))
	if noRows(err) {
		return nil, notFound(op, "quick reply")
	}
	return q, translate(op, err)
}

// ListQuickReplies returns the shared replies and, when ownerID is set, that
// user's own, ordered by shortcut (by code point) then id.
func (s *Store) ListQuickReplies(ctx context.Context, ownerID string) ([]*parley.QuickReply, error) {
	const op = "postgres.ListQuickReplies"
	var owner any
	if parley.ValidID(ownerID) {
		owner = ownerID
	}
	rows, err := s.pool.Query(ctx, `SELECT `+quickReplyColumns+` FROM quick_replies
		WHERE owner_id IS NULL OR owner_id = $1::uuid ORDER BY shortcut COLLATE "C", id`, owner)
	if err != nil {
		return nil, translate(op, err)
	}
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.QuickReply, error) { return scanQuickReply(r) })
	return qs, translate(op, err)
}

// UpdateQuickReply applies up and returns the reply as stored. ENOTFOUND,
// ECONFLICT (shortcut taken), EINVALID.
func (s *Store) UpdateQuickReply(ctx context.Context, id string, up parley.QuickReplyUpdate) (*parley.QuickReply, error) {
	const op = "postgres.UpdateQuickReply"
	if !parley.ValidID(id) {
		return nil, notFound(op, "quick reply")
	}
	var q *parley.QuickReply
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var err error
		q, err = scanQuickReply(tx.QueryRow(ctx, `SELECT `+quickReplyColumns+` FROM quick_replies WHERE id = $1 FOR UPDATE`, id))
		if noRows(err) {
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
		_, err = tx.Exec(ctx, `UPDATE quick_replies SET shortcut = $2, text = $3, updated_at = $4 WHERE id = $1`,
			id, q.Shortcut, q.Text, q.UpdatedAt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// DeleteQuickReply removes a quick reply. ENOTFOUND.
func (s *Store) DeleteQuickReply(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "postgres.DeleteQuickReply", "quick reply", `DELETE FROM quick_replies WHERE id = $1`, id)
}

const sopColumns = `id, title, body, tags, version, created_by, updated_by, created_at, updated_at`

func scanSOP(row pgx.Row) (*parley.SOPDocument, error) {
	var d parley.SOPDocument
	var createdBy, updatedBy *string
	err := row.Scan(&d.ID, &d.Title, &d.Body, &d.Tags, &d.Version, &createdBy, &updatedBy, &d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if len(d.Tags) == 0 {
		d.Tags = nil
	}
	d.CreatedBy, d.UpdatedBy = deref(createdBy), deref(updatedBy)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// tagsArg passes tags as a text[], empty rather than NULL when there are none.
func tagsArg(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

// CreateSOP inserts d with Version 1, filling ID, CreatedAt, UpdatedAt (and
// UpdatedBy from CreatedBy when empty). ENOTFOUND (author); EINVALID.
func (s *Store) CreateSOP(ctx context.Context, d *parley.SOPDocument) error {
	const op = "postgres.CreateSOP"
	if d.UpdatedBy == "" {
		d.UpdatedBy = d.CreatedBy
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if err := assignID(&d.ID, "document"); err != nil {
		return err
	}
	now := parley.Now()
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sop_documents (`+sopColumns+`) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $7)`,
			d.ID, d.Title, d.Body, tagsArg(d.Tags), d.CreatedBy, d.UpdatedBy, now); err != nil {
			return err
		}
		return keepSOPVersion(ctx, tx, d.ID, 1, d.Title, d.Body, d.Tags, d.UpdatedBy, now)
	})
	if err != nil {
		return err
	}
	d.Version, d.CreatedAt, d.UpdatedAt = 1, now, now
	return nil
}

// GetSOP returns the document with id. ENOTFOUND.
func (s *Store) GetSOP(ctx context.Context, id string) (*parley.SOPDocument, error) {
	const op = "postgres.GetSOP"
	if !parley.ValidID(id) {
		return nil, notFound(op, "document")
	}
	d, err := scanSOP(s.pool.QueryRow(ctx, `SELECT `+sopColumns+` FROM sop_documents WHERE id = $1`, id))
	if noRows(err) {
		return nil, notFound(op, "document")
	}
	return d, translate(op, err)
}

// ListSOPs returns every document, ordered by title (by code point) then id.
func (s *Store) ListSOPs(ctx context.Context) ([]*parley.SOPDocument, error) {
	const op = "postgres.ListSOPs"
	rows, err := s.pool.Query(ctx, `SELECT `+sopColumns+` FROM sop_documents ORDER BY title COLLATE "C", id`)
	if err != nil {
		return nil, translate(op, err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.SOPDocument, error) { return scanSOP(r) })
	return ds, translate(op, err)
}

// UpdateSOP applies up, increments Version and returns the document as
// stored. ENOTFOUND; ECONFLICT when ExpectVersion does not hold; EINVALID.
func (s *Store) UpdateSOP(ctx context.Context, id string, up parley.SOPUpdate) (*parley.SOPDocument, error) {
	const op = "postgres.UpdateSOP"
	if !parley.ValidID(id) {
		return nil, notFound(op, "document")
	}
	var d *parley.SOPDocument
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var err error
		d, err = scanSOP(tx.QueryRow(ctx, `SELECT `+sopColumns+` FROM sop_documents WHERE id = $1 FOR UPDATE`, id))
		if noRows(err) {
			return notFound(op, "document")
		}
		if err != nil {
			return err
		}
		if up.ExpectVersion != 0 && d.Version != up.ExpectVersion {
			return &parley.Error{Code: parley.ECONFLICT, Op: op,
				Message: "the document was changed by someone else; reload it"}
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
		check := *d
		if check.CreatedBy == "" {
			// The author's account was deleted (the reference went NULL);
			// that does not make the document invalid to edit.
			check.CreatedBy = up.UpdatedBy
		}
		if err := check.Validate(); err != nil {
			return err
		}
		d, err = scanSOP(tx.QueryRow(ctx, `UPDATE sop_documents SET title = $2, body = $3, tags = $4,
			version = version + 1, updated_by = $5, updated_at = $6 WHERE id = $1 RETURNING `+sopColumns,
			id, d.Title, d.Body, tagsArg(d.Tags), d.UpdatedBy, parley.Now()))
		if err != nil {
			return err
		}
		return keepSOPVersion(ctx, tx, d.ID, d.Version, d.Title, d.Body, d.Tags, d.UpdatedBy, d.UpdatedAt)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// DeleteSOP removes a document. ENOTFOUND.
func (s *Store) DeleteSOP(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "postgres.DeleteSOP", "document", `DELETE FROM sop_documents WHERE id = $1`, id)
}
