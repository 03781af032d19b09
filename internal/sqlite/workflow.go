package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/parleychat/parley"
)

// --- assignment ---

// pickAgentSQL finds the next agent round-robin. Capacity comes from
// inbox_counts, which triggers keep exact within the transaction.
const pickAgentSQL = `SELECT u.id FROM users u
	WHERE u.disabled = 0 AND u.availability = 'online'
	  AND (u.max_chats = 0 OR coalesce((SELECT ic.conversations FROM inbox_counts ic
	       WHERE ic.status = 'active' AND ic.assignee_id = u.id), 0) < u.max_chats)
	ORDER BY u.last_assigned_at NULLS FIRST, u.id
	LIMIT 1`

// AssignWaiting gives a waiting, unassigned conversation to agentID, or to
// the next available agent round-robin when agentID is "". SQLite has one
// writer, so the check and the assignment cannot interleave with another.
// ENOTFOUND; ECONFLICT (taken, or the agent is full).
func (s *Store) AssignWaiting(ctx context.Context, conversationID, agentID string) (*parley.Conversation, error) {
	const op = "sqlite.AssignWaiting"
	if !parley.ValidID(conversationID) {
		return nil, notFound(op, "conversation")
	}
	if agentID != "" && !parley.ValidID(agentID) {
		return nil, notFound(op, "agent")
	}
	var out *parley.Conversation
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		c, err := getConversation(ctx, tx, conversationID)
		if err == sql.ErrNoRows {
			return notFound(op, "conversation")
		}
		if err != nil {
			return err
		}
		if c.Status != parley.StatusWaiting || c.AssigneeID != "" {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation is no longer waiting"}
		}
		agent := agentID
		if agent == "" {
			err := tx.QueryRowContext(ctx, pickAgentSQL).Scan(&agent)
			if err == sql.ErrNoRows {
				out = c
				return nil
			}
			if err != nil {
				return err
			}
		} else {
			var maxChats, active int
			err := tx.QueryRowContext(ctx, `SELECT u.max_chats, coalesce((SELECT ic.conversations FROM inbox_counts ic
				WHERE ic.status = 'active' AND ic.assignee_id = u.id), 0) FROM users u WHERE u.id = ?`, agent).Scan(&maxChats, &active)
			if err == sql.ErrNoRows {
				return notFound(op, "agent")
			}
			if err != nil {
				return err
			}
			if maxChats > 0 && active >= maxChats {
				return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the agent has their maximum of conversations"}
			}
		}
		now := micros(parley.Now())
		s.forgetConversation(conversationID)
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET status = 'active', assignee_id = ?, updated_at = ?
			WHERE id = ? AND status = 'waiting' AND assignee_id IS NULL`, agent, now, conversationID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_assigned_at = ? WHERE id = ?`, now, agent); err != nil {
			return err
		}
		out, err = getConversation(ctx, tx, conversationID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WaitingConversations returns up to limit waiting, unassigned
// conversations, longest waiting first. EINVALID.
func (s *Store) WaitingConversations(ctx context.Context, limit int) ([]string, error) {
	const op = "sqlite.WaitingConversations"
	if limit < 1 || limit > parley.MaxPageSize {
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", parley.MaxPageSize)
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT id FROM conversations
		WHERE status = 'waiting' AND assignee_id IS NULL ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(op, err)
		}
		out = append(out, id)
	}
	return out, translate(op, rows.Err())
}

// --- ratings ---

// CreateRating stores r, filling CreatedAt. ECONFLICT (rated already),
// ENOTFOUND (conversation), EINVALID.
func (s *Store) CreateRating(ctx context.Context, r *parley.Rating) error {
	const op = "sqlite.CreateRating"
	if err := r.Validate(); err != nil {
		return err
	}
	now := parley.Now()
	if _, err := s.exec(ctx, op, `INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, ?, ?, ?)`,
		r.ConversationID, r.Score, r.Comment, micros(now)); err != nil {
		switch parley.ErrorCode(err) {
		case parley.ECONFLICT:
			e := *err.(*parley.Error)
			e.Message = "the conversation was rated already"
			return &e
		case parley.ENOTFOUND:
			return notFound(op, "conversation")
		}
		return err
	}
	r.CreatedAt = now
	return nil
}

// GetRating returns a conversation's rating. ENOTFOUND.
func (s *Store) GetRating(ctx context.Context, conversationID string) (*parley.Rating, error) {
	const op = "sqlite.GetRating"
	if !parley.ValidID(conversationID) {
		return nil, notFound(op, "rating")
	}
	var r parley.Rating
	var at int64
	err := s.rq.QueryRowContext(ctx, `SELECT conversation_id, score, comment, created_at FROM ratings
		WHERE conversation_id = ?`, conversationID).Scan(&r.ConversationID, &r.Score, &r.Comment, &at)
	if err == sql.ErrNoRows {
		return nil, notFound(op, "rating")
	}
	if err != nil {
		return nil, translate(op, err)
	}
	r.CreatedAt = fromMicros(at)
	return &r, nil
}

// --- SOP versions, search and pins ---

// keepSOPVersion records what a document says at version, inside the
// transaction that made the version.
func keepSOPVersion(ctx context.Context, tx *sql.Tx, id string, version int, title, body, tags, by string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sop_versions (sop_id, version, title, body, tags, changed_by, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, version, title, body, tags, nullString(by), micros(at))
	return err
}

// ListSOPVersions returns a document's kept versions, newest first.
func (s *Store) ListSOPVersions(ctx context.Context, documentID string) ([]*parley.SOPVersion, error) {
	const op = "sqlite.ListSOPVersions"
	if !parley.ValidID(documentID) {
		return nil, nil
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT sop_id, version, title, body, tags, changed_by, changed_at
		FROM sop_versions WHERE sop_id = ? ORDER BY version DESC`, documentID)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.SOPVersion
	for rows.Next() {
		var v parley.SOPVersion
		var tags string
		var by sql.NullString
		var at int64
		if err := rows.Scan(&v.DocumentID, &v.Version, &v.Title, &v.Body, &tags, &by, &at); err != nil {
			return nil, translate(op, err)
		}
		if tags != "" && tags != "[]" {
			if err := json.Unmarshal([]byte(tags), &v.Tags); err != nil {
				return nil, translate(op, err)
			}
		}
		v.ChangedBy, v.ChangedAt = by.String, fromMicros(at)
		out = append(out, &v)
	}
	return out, translate(op, rows.Err())
}

// searchSOPsSQL matches with lower() and instr(): SQLite's lower() folds
// ASCII letters only, which is the rule SearchSOPs promises on every store,
// and instr() needs no escaping of LIKE's wildcards.
const searchSOPsSQL = `SELECT ` + sopColumns + ` FROM sop_documents d
	WHERE (?1 = '' OR instr(lower(d.title), lower(?1)) > 0 OR instr(lower(d.body), lower(?1)) > 0
	       OR EXISTS (SELECT 1 FROM json_each(d.tags) t WHERE instr(lower(t.value), lower(?1)) > 0))
	  AND (?2 = '' OR EXISTS (SELECT 1 FROM json_each(d.tags) t WHERE lower(t.value) = lower(?2)))
	ORDER BY d.title, d.id
	LIMIT ?3`

// SearchSOPs returns the documents f selects, by title then id. EINVALID.
func (s *Store) SearchSOPs(ctx context.Context, f parley.SOPFilter) ([]*parley.SOPDocument, error) {
	const op = "sqlite.SearchSOPs"
	limit, err := pageLimit(f.Limit, parley.DefaultPageSize, parley.MaxPageSize)
	if err != nil {
		return nil, err
	}
	rows, err := s.rq.QueryContext(ctx, searchSOPsSQL, f.Query, f.Tag, limit)
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

// PinSOP pins a document to a conversation; again, it changes nothing.
// ENOTFOUND (conversation, document or user).
func (s *Store) PinSOP(ctx context.Context, conversationID, documentID, userID string) error {
	const op = "sqlite.PinSOP"
	if !parley.ValidID(conversationID) || !parley.ValidID(documentID) || !parley.ValidID(userID) {
		return notFound(op, "conversation or document")
	}
	_, err := s.exec(ctx, op, `INSERT INTO conversation_sops (conversation_id, sop_id, pinned_by, pinned_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id, sop_id) DO NOTHING`,
		conversationID, documentID, userID, micros(parley.Now()))
	if parley.IsCode(err, parley.ENOTFOUND) {
		return notFound(op, "conversation or document")
	}
	return err
}

// UnpinSOP removes a pin. ENOTFOUND when there is none.
func (s *Store) UnpinSOP(ctx context.Context, conversationID, documentID string) error {
	const op = "sqlite.UnpinSOP"
	if !parley.ValidID(conversationID) || !parley.ValidID(documentID) {
		return notFound(op, "pin")
	}
	n, err := s.exec(ctx, op, `DELETE FROM conversation_sops WHERE conversation_id = ? AND sop_id = ?`, conversationID, documentID)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "pin")
	}
	return nil
}

// ListPinnedSOPs returns the documents pinned to a conversation, oldest
// pin first.
func (s *Store) ListPinnedSOPs(ctx context.Context, conversationID string) ([]*parley.PinnedSOP, error) {
	const op = "sqlite.ListPinnedSOPs"
	if !parley.ValidID(conversationID) {
		return nil, nil
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT p.pinned_by, p.pinned_at, d.id, d.title, d.body, d.tags, d.version,
		d.created_by, d.updated_by, d.created_at, d.updated_at
		FROM conversation_sops p JOIN sop_documents d ON d.id = p.sop_id
		WHERE p.conversation_id = ? ORDER BY p.pinned_at, p.sop_id`, conversationID)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.PinnedSOP
	for rows.Next() {
		var by sql.NullString
		var at int64
		d, err := scanSOP(prefixScanner{rows, []any{&by, &at}})
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, &parley.PinnedSOP{ConversationID: conversationID, Document: d, PinnedBy: by.String, PinnedAt: fromMicros(at)})
	}
	return out, translate(op, rows.Err())
}

// prefixScanner scans columns into pre first, then hands the rest to the
// destinations of a shared scan function.
type prefixScanner struct {
	row interface{ Scan(...any) error }
	pre []any
}

func (p prefixScanner) Scan(dest ...any) error { return p.row.Scan(append(p.pre, dest...)...) }
