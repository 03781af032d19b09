package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// --- assignment ---

// lockAssignments serializes assignments (per schema, like migrations): in
// READ COMMITTED each statement after the lock sees every assignment that
// committed before it, so a capacity counted there stays true until commit.
// Assignments are one per conversation and take a few milliseconds, so one
// lock for all of them costs little even across nodes.
const lockAssignments = `SELECT pg_advisory_xact_lock(hashtext('parley.assign.' || current_schema()))`

const pickAgentSQL = `SELECT u.id FROM users u
	WHERE NOT u.disabled AND u.availability = 'online'
	  AND (u.max_chats = 0 OR (SELECT count(*) FROM conversations c
	       WHERE c.assignee_id = u.id AND c.status = 'active') < u.max_chats)
	ORDER BY u.last_assigned_at NULLS FIRST, u.id
	LIMIT 1`

// AssignWaiting gives a waiting, unassigned conversation to agentID, or to
// the next available agent round-robin when agentID is "", under the
// assignment lock. ENOTFOUND; ECONFLICT (taken, or the agent is full).
func (s *Store) AssignWaiting(ctx context.Context, conversationID, agentID string) (*parley.Conversation, error) {
	const op = "postgres.AssignWaiting"
	if !parley.ValidID(conversationID) {
		return nil, notFound(op, "conversation")
	}
	if agentID != "" && !parley.ValidID(agentID) {
		return nil, notFound(op, "agent")
	}
	var out *parley.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockAssignments); err != nil {
			return err
		}
		c, err := scanConversation(tx.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = $1`, conversationID))
		if noRows(err) {
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
			err := tx.QueryRow(ctx, pickAgentSQL).Scan(&agent)
			if noRows(err) {
				out = c
				return nil
			}
			if err != nil {
				return err
			}
		} else {
			var maxChats, active int
			err := tx.QueryRow(ctx, `SELECT u.max_chats, (SELECT count(*) FROM conversations c
				WHERE c.assignee_id = u.id AND c.status = 'active') FROM users u WHERE u.id = $1`, agent).Scan(&maxChats, &active)
			if noRows(err) {
				return notFound(op, "agent")
			}
			if err != nil {
				return err
			}
			if maxChats > 0 && active >= maxChats {
				return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the agent has their maximum of conversations"}
			}
		}
		now := parley.Now()
		c, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations SET status = 'active', assignee_id = $2,
			updated_at = greatest($3, updated_at) WHERE id = $1 AND status = 'waiting' AND assignee_id IS NULL
			RETURNING `+conversationColumns, conversationID, agent, now))
		if noRows(err) {
			// Closed or taken by a path that does not take the lock
			// (closing, a lead's assignment) since it was read.
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation is no longer waiting"}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET last_assigned_at = $2 WHERE id = $1`, agent, now); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WaitingConversations returns up to limit waiting, unassigned
// conversations, longest waiting first. EINVALID.
func (s *Store) WaitingConversations(ctx context.Context, limit int) ([]string, error) {
	const op = "postgres.WaitingConversations"
	if limit < 1 || limit > parley.MaxPageSize {
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", parley.MaxPageSize)
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM conversations
		WHERE status = 'waiting' AND assignee_id IS NULL ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, translate(op, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, translate(op, err)
}

// --- ratings ---

// CreateRating stores r, filling CreatedAt. ECONFLICT (rated already),
// ENOTFOUND (conversation), EINVALID.
func (s *Store) CreateRating(ctx context.Context, r *parley.Rating) error {
	const op = "postgres.CreateRating"
	if err := r.Validate(); err != nil {
		return err
	}
	now := parley.Now()
	_, err := s.pool.Exec(ctx, `INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES ($1, $2, $3, $4)`,
		r.ConversationID, r.Score, r.Comment, now)
	if err != nil {
		err = translate(op, err)
		switch parley.ErrorCode(err) {
		case parley.ECONFLICT:
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation was rated already", Err: err}
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
	const op = "postgres.GetRating"
	if !parley.ValidID(conversationID) {
		return nil, notFound(op, "rating")
	}
	var r parley.Rating
	err := s.pool.QueryRow(ctx, `SELECT conversation_id, score, comment, created_at FROM ratings
		WHERE conversation_id = $1`, conversationID).Scan(&r.ConversationID, &r.Score, &r.Comment, &r.CreatedAt)
	if noRows(err) {
		return nil, notFound(op, "rating")
	}
	if err != nil {
		return nil, translate(op, err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// --- SOP versions, search and pins ---

// keepSOPVersion records what a document says at version, inside the
// transaction that made the version.
func keepSOPVersion(ctx context.Context, tx pgx.Tx, id string, version int, title, body string, tags []string, by string, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO sop_versions (sop_id, version, title, body, tags, changed_by, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, version, title, body, tagsArg(tags), nullID(by), at)
	return err
}

// ListSOPVersions returns a document's kept versions, newest first.
func (s *Store) ListSOPVersions(ctx context.Context, documentID string) ([]*parley.SOPVersion, error) {
	const op = "postgres.ListSOPVersions"
	if !parley.ValidID(documentID) {
		return []*parley.SOPVersion{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT sop_id, version, title, body, tags, changed_by, changed_at
		FROM sop_versions WHERE sop_id = $1 ORDER BY version DESC`, documentID)
	if err != nil {
		return nil, translate(op, err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.SOPVersion, error) {
		var v parley.SOPVersion
		var by *string
		if err := r.Scan(&v.DocumentID, &v.Version, &v.Title, &v.Body, &v.Tags, &by, &v.ChangedAt); err != nil {
			return nil, err
		}
		if len(v.Tags) == 0 {
			v.Tags = nil
		}
		v.ChangedBy, v.ChangedAt = deref(by), v.ChangedAt.UTC()
		return &v, nil
	})
	return vs, translate(op, err)
}

// foldASCII lowers ASCII letters only, as SQLite's lower() does, so both
// stores match alike whatever the database's locale.
const foldASCII = `'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'`

const searchSOPsSQL = `SELECT ` + sopColumns + ` FROM sop_documents d
	WHERE ($1 = '' OR strpos(translate(d.title, ` + foldASCII + `), translate($1, ` + foldASCII + `)) > 0
	       OR strpos(translate(d.body, ` + foldASCII + `), translate($1, ` + foldASCII + `)) > 0
	       OR EXISTS (SELECT 1 FROM unnest(d.tags) t WHERE strpos(translate(t, ` + foldASCII + `), translate($1, ` + foldASCII + `)) > 0))
	  AND ($2 = '' OR EXISTS (SELECT 1 FROM unnest(d.tags) t WHERE translate(t, ` + foldASCII + `) = translate($2, ` + foldASCII + `)))
	ORDER BY d.title COLLATE "C", d.id
	LIMIT $3`

// SearchSOPs returns the documents f selects, by title then id. EINVALID.
func (s *Store) SearchSOPs(ctx context.Context, f parley.SOPFilter) ([]*parley.SOPDocument, error) {
	const op = "postgres.SearchSOPs"
	limit, err := checkLimit(f.Limit, parley.DefaultPageSize, parley.MaxPageSize)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, searchSOPsSQL, f.Query, f.Tag, limit)
	if err != nil {
		return nil, translate(op, err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.SOPDocument, error) { return scanSOP(r) })
	return ds, translate(op, err)
}

// PinSOP pins a document to a conversation; again, it changes nothing.
// ENOTFOUND (conversation, document or user).
func (s *Store) PinSOP(ctx context.Context, conversationID, documentID, userID string) error {
	const op = "postgres.PinSOP"
	if !parley.ValidID(conversationID) || !parley.ValidID(documentID) || !parley.ValidID(userID) {
		return notFound(op, "conversation or document")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO conversation_sops (conversation_id, sop_id, pinned_by, pinned_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id, sop_id) DO NOTHING`,
		conversationID, documentID, userID, parley.Now())
	err = translate(op, err)
	if parley.IsCode(err, parley.ENOTFOUND) {
		return notFound(op, "conversation or document")
	}
	return err
}

// UnpinSOP removes a pin. ENOTFOUND when there is none.
func (s *Store) UnpinSOP(ctx context.Context, conversationID, documentID string) error {
	const op = "postgres.UnpinSOP"
	if !parley.ValidID(conversationID) || !parley.ValidID(documentID) {
		return notFound(op, "pin")
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM conversation_sops WHERE conversation_id = $1 AND sop_id = $2`, conversationID, documentID)
	if err != nil {
		return translate(op, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound(op, "pin")
	}
	return nil
}

// ListPinnedSOPs returns the documents pinned to a conversation, oldest
// pin first.
func (s *Store) ListPinnedSOPs(ctx context.Context, conversationID string) ([]*parley.PinnedSOP, error) {
	const op = "postgres.ListPinnedSOPs"
	if !parley.ValidID(conversationID) {
		return []*parley.PinnedSOP{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT p.pinned_by, p.pinned_at, d.id, d.title, d.body, d.tags, d.version,
		d.created_by, d.updated_by, d.created_at, d.updated_at
		FROM conversation_sops p JOIN sop_documents d ON d.id = p.sop_id
		WHERE p.conversation_id = $1 ORDER BY p.pinned_at, p.sop_id`, conversationID)
	if err != nil {
		return nil, translate(op, err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.PinnedSOP, error) {
		var by *string
		var at time.Time
		d, err := scanSOP(prefixRow{r, []any{&by, &at}})
		if err != nil {
			return nil, err
		}
		return &parley.PinnedSOP{ConversationID: conversationID, Document: d, PinnedBy: deref(by), PinnedAt: at.UTC()}, nil
	})
	return ps, translate(op, err)
}

// prefixRow scans columns into pre first, then hands the rest to the
// destinations of a shared scan function.
type prefixRow struct {
	row pgx.Row
	pre []any
}

func (p prefixRow) Scan(dest ...any) error { return p.row.Scan(append(p.pre, dest...)...) }
