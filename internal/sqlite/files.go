package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parleychat/parley"
)

// CustomerUploadBytes sums the sizes of the attachments of the messages the
// customer sent. It walks the customer's conversations (indexed) and their
// attachments (indexed by conversation), not every message.
func (s *Store) CustomerUploadBytes(ctx context.Context, customerID string) (int64, error) {
	const op = "sqlite.CustomerUploadBytes"
	if !parley.ValidID(customerID) {
		return 0, nil
	}
	var n int64
	err := s.rq.QueryRowContext(ctx, `SELECT coalesce(sum(a.size), 0)
		FROM conversations c
		JOIN attachments a ON a.conversation_id = c.id
		JOIN messages m ON m.id = a.message_id
		WHERE c.customer_id = ? AND m.sender_type = 'customer' AND m.sender_id = ?`, customerID, customerID).Scan(&n)
	return n, translate(op, err)
}

// GetThumbnail returns the thumbnail made for an attachment. ENOTFOUND.
func (s *Store) GetThumbnail(ctx context.Context, attachmentID string) (*parley.Thumbnail, error) {
	const op = "sqlite.GetThumbnail"
	if !parley.ValidID(attachmentID) {
		return nil, notFound(op, "thumbnail")
	}
	t := &parley.Thumbnail{}
	var created int64
	err := s.rq.QueryRowContext(ctx, `SELECT attachment_id, key, content_type, size, width, height, created_at
		FROM thumbnails WHERE attachment_id = ?`, attachmentID).
		Scan(&t.AttachmentID, &t.Key, &t.ContentType, &t.Size, &t.Width, &t.Height, &created)
	if err == sql.ErrNoRows {
		return nil, notFound(op, "thumbnail")
	}
	if err != nil {
		return nil, translate(op, err)
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

// CreateThumbnail records t, filling CreatedAt. ECONFLICT when the attachment
// has one; ENOTFOUND when the attachment does not exist; EINVALID.
func (s *Store) CreateThumbnail(ctx context.Context, t *parley.Thumbnail) error {
	const op = "sqlite.CreateThumbnail"
	if err := t.Validate(); err != nil {
		return err
	}
	now := parley.Now()
	_, err := s.exec(ctx, op, `INSERT INTO thumbnails (attachment_id, key, content_type, size, width, height, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.AttachmentID, t.Key, t.ContentType, t.Size, t.Width, t.Height, micros(now))
	switch parley.ErrorCode(err) {
	case "":
		t.CreatedAt = now
		return nil
	case parley.ECONFLICT:
		return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the attachment has a thumbnail already", Err: err}
	case parley.ENOTFOUND:
		return &parley.Error{Code: parley.ENOTFOUND, Op: op, Message: "attachment not found", Err: err}
	}
	return err
}

// maxGarbagePage bounds ListBlobGarbage.
const maxGarbagePage = 1000

// ListBlobGarbage returns up to limit keys of blobs no row refers to any
// more, oldest first. EINVALID for a bad limit.
func (s *Store) ListBlobGarbage(ctx context.Context, limit int) ([]string, error) {
	const op = "sqlite.ListBlobGarbage"
	if limit < 1 || limit > maxGarbagePage {
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", maxGarbagePage)
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT key FROM blob_garbage ORDER BY added_at, key LIMIT ?`, limit)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	keys := []string{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, translate(op, err)
		}
		keys = append(keys, k)
	}
	return keys, translate(op, rows.Err())
}

// ForgetBlobGarbage drops keys from the garbage list.
func (s *Store) ForgetBlobGarbage(ctx context.Context, keys []string) error {
	const op = "sqlite.ForgetBlobGarbage"
	for len(keys) > 0 {
		n := min(len(keys), 500)
		args := make([]any, n)
		for i, k := range keys[:n] {
			args[i] = k
		}
		q := `DELETE FROM blob_garbage WHERE key IN (?` + strings.Repeat(", ?", n-1) + `)`
		if _, err := s.exec(ctx, op, q, args...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}
