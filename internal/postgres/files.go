package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// CustomerUploadBytes sums the sizes of the attachments of the messages the
// customer sent. It walks the customer's conversations (indexed) and their
// attachments (indexed by conversation), not every message.
func (s *Store) CustomerUploadBytes(ctx context.Context, customerID string) (int64, error) {
	const op = "postgres.CustomerUploadBytes"
	if !parley.ValidID(customerID) {
		return 0, nil
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(a.size), 0)::bigint
		FROM conversations c
		JOIN attachments a ON a.conversation_id = c.id
		JOIN messages m ON m.id = a.message_id
		WHERE c.customer_id = $1 AND m.sender_type = 'customer' AND m.sender_id = $1`, customerID).Scan(&n)
	return n, translate(op, err)
}

// GetThumbnail returns the thumbnail made for an attachment. ENOTFOUND.
func (s *Store) GetThumbnail(ctx context.Context, attachmentID string) (*parley.Thumbnail, error) {
	const op = "postgres.GetThumbnail"
	if !parley.ValidID(attachmentID) {
		return nil, notFound(op, "thumbnail")
	}
	t := &parley.Thumbnail{}
	err := s.pool.QueryRow(ctx, `SELECT attachment_id, key, content_type, size, width, height, created_at
		FROM thumbnails WHERE attachment_id = $1`, attachmentID).
		Scan(&t.AttachmentID, &t.Key, &t.ContentType, &t.Size, &t.Width, &t.Height, &t.CreatedAt)
	if noRows(err) {
		return nil, notFound(op, "thumbnail")
	}
	if err != nil {
		return nil, translate(op, err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// CreateThumbnail records t, filling CreatedAt. ECONFLICT when the attachment
// has one; ENOTFOUND when the attachment does not exist; EINVALID.
func (s *Store) CreateThumbnail(ctx context.Context, t *parley.Thumbnail) error {
	const op = "postgres.CreateThumbnail"
	if err := t.Validate(); err != nil {
		return err
	}
	now := parley.Now()
	_, err := s.pool.Exec(ctx, `INSERT INTO thumbnails (attachment_id, key, content_type, size, width, height, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.AttachmentID, t.Key, t.ContentType, t.Size, t.Width, t.Height, now)
	if err != nil {
		switch code, _ := pgCode(err); code {
		case "23505":
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the attachment has a thumbnail already", Err: err}
		case "23503":
			return &parley.Error{Code: parley.ENOTFOUND, Op: op, Message: "attachment not found", Err: err}
		}
		return translate(op, err)
	}
	t.CreatedAt = now
	return nil
}

// maxGarbagePage bounds ListBlobGarbage.
const maxGarbagePage = 1000

// ListBlobGarbage returns up to limit keys of blobs no row refers to any
// more, oldest first. EINVALID for a bad limit.
func (s *Store) ListBlobGarbage(ctx context.Context, limit int) ([]string, error) {
	const op = "postgres.ListBlobGarbage"
	if limit < 1 || limit > maxGarbagePage {
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", maxGarbagePage)
	}
	rows, err := s.pool.Query(ctx, `SELECT key FROM blob_garbage ORDER BY added_at, key LIMIT $1`, limit)
	if err != nil {
		return nil, translate(op, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, translate(op, err)
	}
	if keys == nil {
		keys = []string{}
	}
	return keys, nil
}

// ForgetBlobGarbage drops keys from the garbage list.
func (s *Store) ForgetBlobGarbage(ctx context.Context, keys []string) error {
	const op = "postgres.ForgetBlobGarbage"
	if len(keys) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM blob_garbage WHERE key = ANY($1::text[])`, keys)
	return translate(op, err)
}
