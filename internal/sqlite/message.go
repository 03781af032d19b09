package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parleychat/parley"
)

const messageColumns = `id, conversation_id, seq, client_msg_id, sender_id, sender_type, kind, content, created_at, metadata`

const attachmentColumns = `id, message_id, conversation_id, key, url, type, content_type, size, name, checksum, created_at`

func scanMessage(row interface{ Scan(...any) error }) (*parley.Message, error) {
	var m parley.Message
	var clientID, sender sql.NullString
	var created int64
	var meta string
	if err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &clientID, &sender, &m.SenderType, &m.Kind, &m.Content,
		&created, &meta); err != nil {
		return nil, err
	}
	var err error
	if m.Metadata, err = decodeMetadata(meta); err != nil {
		return nil, err
	}
	m.ClientMsgID, m.SenderID = clientID.String, sender.String
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

func scanAttachment(row interface{ Scan(...any) error }) (*parley.Attachment, error) {
	var a parley.Attachment
	var created int64
	if err := row.Scan(&a.ID, &a.MessageID, &a.ConversationID, &a.Key, &a.URL, &a.Type, &a.ContentType, &a.Size,
		&a.Name, &a.Checksum, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// getMessage reads one message with its attachments.
func getMessage(ctx context.Context, q dbtx, id string) (*parley.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	if m.Kind == parley.KindFile {
		if err := loadAttachments(ctx, q, []*parley.Message{m}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// loadAttachments fills the attachments of the file messages in ms.
func loadAttachments(ctx context.Context, q dbtx, ms []*parley.Message) error {
	byID := map[string]*parley.Message{}
	var ids []any
	for _, m := range ms {
		if m.Kind == parley.KindFile {
			byID[m.ID] = m
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+attachmentColumns+` FROM attachments
		WHERE message_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY message_id, position`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return err
		}
		m := byID[a.MessageID]
		m.Attachments = append(m.Attachments, a)
	}
	return rows.Err()
}

// GetMessage returns the message with id, with its attachments. ENOTFOUND.
func (s *Store) GetMessage(ctx context.Context, id string) (*parley.Message, error) {
	const op = "sqlite.GetMessage"
	if !parley.ValidID(id) {
		return nil, notFound(op, "message")
	}
	m, err := getMessage(ctx, s.rq, id)
	if err == sql.ErrNoRows {
		return nil, notFound(op, "message")
	}
	if err != nil {
		return nil, translate(op, err)
	}
	return m, nil
}

// ListMessages returns messages of a conversation in ascending seq order,
// with their attachments. An unknown conversation yields an empty list.
// EINVALID for a bad limit.
func (s *Store) ListMessages(ctx context.Context, conversationID string, f parley.MessageFilter) ([]*parley.Message, error) {
	const op = "sqlite.ListMessages"
	limit, err := pageLimit(f.Limit, parley.MaxMessagePage, parley.MaxMessagePage)
	if err != nil {
		return nil, err
	}
	if !parley.ValidID(conversationID) {
		return nil, nil
	}
	q := `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = ? AND seq > ?`
	args := []any{conversationID, f.AfterSeq}
	if f.BeforeSeq > 0 {
		q += ` AND seq < ?`
		args = append(args, f.BeforeSeq)
	}
	if f.ExcludeNotes {
		q += ` AND kind <> 'note'`
	}
	// With BeforeSeq the page is the newest Limit messages below it, so it is
	// read backwards and reversed.
	desc := f.BeforeSeq > 0
	if desc {
		q += ` ORDER BY seq DESC LIMIT ?`
	} else {
		q += ` ORDER BY seq LIMIT ?`
	}
	args = append(args, limit)

	// One read transaction, so the attachments match the messages.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate(op, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	var out []*parley.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return nil, translate(op, err)
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(op, err)
	}
	if desc {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if err := loadAttachments(ctx, tx, out); err != nil {
		return nil, translate(op, err)
	}
	return out, nil
}

// GetAttachment returns the attachment with id. ENOTFOUND.
func (s *Store) GetAttachment(ctx context.Context, id string) (*parley.Attachment, error) {
	const op = "sqlite.GetAttachment"
	if !parley.ValidID(id) {
		return nil, notFound(op, "attachment")
	}
	a, err := scanAttachment(s.rq.QueryRowContext(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "attachment")
	}
	return a, translate(op, err)
}
