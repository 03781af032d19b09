package sqlite

import (
	"context"
	"database/sql"

	"github.com/parleychat/parley"
)

const conversationColumns = `id, status, customer_id, assignee_id, customer_ip, metadata, created_at, updated_at,
	closed_at, last_message_at, last_seq, last_customer_seq, last_message_preview`

// conversationColumnsOf is conversationColumns qualified by the alias c.
const conversationColumnsOf = `c.id, c.status, c.customer_id, c.assignee_id, c.customer_ip, c.metadata, c.created_at,
	c.updated_at, c.closed_at, c.last_message_at, c.last_seq, c.last_customer_seq, c.last_message_preview`

// scanConversation reads conversationColumns, then any extra destinations.
func scanConversation(row interface{ Scan(...any) error }, extra ...any) (*parley.Conversation, error) {
	var c parley.Conversation
	var assignee sql.NullString
	var meta string
	var created, updated int64
	var closed, lastMsg sql.NullInt64
	dest := append([]any{&c.ID, &c.Status, &c.CustomerID, &assignee, &c.CustomerIP, &meta, &created, &updated,
		&closed, &lastMsg, &c.LastSeq, &c.LastCustomerSeq, &c.LastMessagePreview}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if c.Metadata, err = decodeMetadata(meta); err != nil {
		return nil, err
	}
	c.AssigneeID = assignee.String
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.ClosedAt, c.LastMessageAt = fromNullMicros(closed), fromNullMicros(lastMsg)
	return &c, nil
}

func getConversation(ctx context.Context, q dbtx, id string) (*parley.Conversation, error) {
	return scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = ?`, id))
}

// conversationConflict explains a unique violation on conversations: with
// random ids, the one-open-conversation-per-customer index is what trips.
func conversationConflict(err error) error {
	if parley.IsCode(err, parley.ECONFLICT) {
		e := *err.(*parley.Error)
		e.Message = "the customer already has an open conversation"
		return &e
	}
	return err
}

// CreateConversation inserts c, filling ID, CreatedAt and UpdatedAt (and
// ClosedAt when created closed). ECONFLICT when the customer already has a
// conversation that is not closed (the partial unique index decides);
// ENOTFOUND when the customer or assignee does not exist; EINVALID.
func (s *Store) CreateConversation(ctx context.Context, c *parley.Conversation) error {
	const op = "sqlite.CreateConversation"
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = parley.NewID()
	} else if !parley.ValidID(c.ID) {
		return parley.Errorf(parley.EINVALID, "conversation id is not a valid id")
	}
	meta, err := encodeMetadata(c.Metadata)
	if err != nil {
		return err
	}
	now := parley.Now()
	var closedAt *int64
	if c.Status == parley.StatusClosed {
		v := micros(now)
		closedAt = &v
	}
	_, err = s.exec(ctx, op, `INSERT INTO conversations (id, status, customer_id, assignee_id, customer_ip, metadata,
		created_at, updated_at, closed_at, activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Status, c.CustomerID, nullString(c.AssigneeID), c.CustomerIP, meta,
		micros(now), micros(now), closedAt, micros(now))
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			e := *err.(*parley.Error)
			e.Message = "the customer or assignee does not exist"
			return &e
		}
		return conversationConflict(err)
	}
	c.CreatedAt, c.UpdatedAt = now, now
	c.ClosedAt = nil
	if closedAt != nil {
		c.ClosedAt = &now
	}
	c.LastMessageAt, c.LastSeq, c.LastCustomerSeq, c.LastMessagePreview = nil, 0, 0, ""
	return nil
}

// GetConversation returns the conversation with id. ENOTFOUND.
func (s *Store) GetConversation(ctx context.Context, id string) (*parley.Conversation, error) {
	const op = "sqlite.GetConversation"
	if !parley.ValidID(id) {
		return nil, notFound(op, "conversation")
	}
	c, err := getConversation(ctx, s.rq, id)
	if err == sql.ErrNoRows {
		return nil, notFound(op, "conversation")
	}
	return c, translate(op, err)
}

// GetOpenConversation returns the customer's conversation that is not
// closed. ENOTFOUND when there is none.
func (s *Store) GetOpenConversation(ctx context.Context, customerID string) (*parley.Conversation, error) {
	const op = "sqlite.GetOpenConversation"
	if !parley.ValidID(customerID) {
		return nil, notFound(op, "open conversation")
	}
	c, err := scanConversation(s.rq.QueryRowContext(ctx,
		`SELECT `+conversationColumns+` FROM conversations WHERE customer_id = ? AND status <> 'closed'`, customerID))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "open conversation")
	}
	return c, translate(op, err)
}

// UpdateConversation applies up atomically and returns the conversation as
// stored. Closing sets ClosedAt; reopening clears it. ENOTFOUND; ECONFLICT
// when an Expect field does not hold or reopening would give the customer
// two open conversations; EINVALID.
func (s *Store) UpdateConversation(ctx context.Context, id string, up parley.ConversationUpdate) (*parley.Conversation, error) {
	const op = "sqlite.UpdateConversation"
	if !parley.ValidID(id) {
		return nil, notFound(op, "conversation")
	}
	// Validate the update on its own first, so an invalid one never reaches
	// the database (and reports EINVALID even for an unknown id).
	probe := parley.Conversation{Status: parley.StatusWaiting, CustomerID: id, Metadata: up.Metadata}
	if up.Status != nil {
		probe.Status = *up.Status
	}
	if up.AssigneeID != nil {
		probe.AssigneeID = *up.AssigneeID
	}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	var out *parley.Conversation
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		c, err := getConversation(ctx, tx, id)
		if err == sql.ErrNoRows {
			return notFound(op, "conversation")
		}
		if err != nil {
			return err
		}
		if up.ExpectStatus != nil && c.Status != *up.ExpectStatus {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation is no longer " + string(*up.ExpectStatus)}
		}
		if up.ExpectAssigneeID != nil && c.AssigneeID != *up.ExpectAssigneeID {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation's assignee has changed"}
		}
		now := parley.Now()
		if up.Status != nil {
			switch {
			case *up.Status == parley.StatusClosed && c.Status != parley.StatusClosed:
				c.ClosedAt = &now
			case *up.Status != parley.StatusClosed:
				c.ClosedAt = nil
			}
			c.Status = *up.Status
		}
		if up.AssigneeID != nil {
			c.AssigneeID = *up.AssigneeID
		}
		if up.Metadata != nil {
			c.Metadata = up.Metadata
		}
		meta, err := encodeMetadata(c.Metadata)
		if err != nil {
			return err
		}
		c.UpdatedAt = now
		s.forgetConversation(id)
		_, err = tx.ExecContext(ctx, `UPDATE conversations SET status = ?, assignee_id = ?, metadata = ?, updated_at = ?,
			closed_at = ? WHERE id = ?`,
			c.Status, nullString(c.AssigneeID), meta, micros(now), nullMicros(c.ClosedAt), id)
		if err != nil {
			err = translate(op, err)
			if parley.IsCode(err, parley.ENOTFOUND) {
				e := *err.(*parley.Error)
				e.Message = "assignee not found"
				return &e
			}
			return conversationConflict(err)
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteConversation removes a conversation and, by cascade, its messages,
// attachments, participants and transfers. ENOTFOUND.
func (s *Store) DeleteConversation(ctx context.Context, id string) error {
	const op = "sqlite.DeleteConversation"
	if !parley.ValidID(id) {
		return notFound(op, "conversation")
	}
	n, err := s.exec(ctx, op, `DELETE FROM conversations WHERE id = ?`, id)
	s.forgetConversations()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op, "conversation")
	}
	return nil
}

const participantColumns = `conversation_id, user_id, user_type, joined_at, last_seen_at, last_read_seq`

func scanParticipant(row interface{ Scan(...any) error }) (*parley.Participant, error) {
	var p parley.Participant
	var joined, seen int64
	if err := row.Scan(&p.ConversationID, &p.UserID, &p.UserType, &joined, &seen, &p.LastReadSeq); err != nil {
		return nil, err
	}
	p.JoinedAt, p.LastSeenAt = fromMicros(joined), fromMicros(seen)
	return &p, nil
}

func checkParticipant(op, userID string, userType parley.ParticipantType) error {
	if userType != parley.ParticipantCustomer && userType != parley.ParticipantAgent {
		return &parley.Error{Code: parley.EINVALID, Op: op, Message: "participant type must be customer or agent"}
	}
	if !parley.ValidID(userID) {
		return &parley.Error{Code: parley.EINVALID, Op: op, Message: "participant id is not a valid id"}
	}
	return nil
}

// participantError reports a foreign-key failure as the missing conversation.
func participantError(op string, err error) error {
	if err == sql.ErrNoRows || parley.IsCode(err, parley.ENOTFOUND) {
		return notFound(op, "conversation")
	}
	return translate(op, err)
}

// JoinConversation records that a user or customer takes part; joining again
// only updates LastSeenAt. ENOTFOUND when the conversation does not exist;
// EINVALID.
func (s *Store) JoinConversation(ctx context.Context, conversationID, userID string, userType parley.ParticipantType) (*parley.Participant, error) {
	const op = "sqlite.JoinConversation"
	if err := checkParticipant(op, userID, userType); err != nil {
		return nil, err
	}
	if !parley.ValidID(conversationID) {
		return nil, notFound(op, "conversation")
	}
	if s.isClosed() {
		return nil, closedError(op)
	}
	now := micros(parley.Now())
	p, err := scanParticipant(s.writer.QueryRowContext(ctx, `INSERT INTO participants (`+participantColumns+`)
		VALUES (?, ?, ?, ?, ?, 0)
		ON CONFLICT (conversation_id, user_id, user_type) DO UPDATE SET last_seen_at = excluded.last_seen_at
		RETURNING `+participantColumns, conversationID, userID, userType, now, now))
	if err != nil {
		return nil, participantError(op, translate(op, err))
	}
	return p, nil
}

// MarkRead raises the participant's LastReadSeq to seq (never lowers it),
// joining first when needed. ENOTFOUND (conversation); EINVALID.
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, userType parley.ParticipantType, seq int64) (*parley.Participant, error) {
	const op = "sqlite.MarkRead"
	if seq < 0 {
		return nil, &parley.Error{Code: parley.EINVALID, Op: op, Message: "seq must not be negative"}
	}
	if err := checkParticipant(op, userID, userType); err != nil {
		return nil, err
	}
	if !parley.ValidID(conversationID) {
		return nil, notFound(op, "conversation")
	}
	if s.isClosed() {
		return nil, closedError(op)
	}
	now := micros(parley.Now())
	p, err := scanParticipant(s.writer.QueryRowContext(ctx, `INSERT INTO participants (`+participantColumns+`)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (conversation_id, user_id, user_type) DO UPDATE SET last_read_seq = max(last_read_seq, excluded.last_read_seq)
		RETURNING `+participantColumns, conversationID, userID, userType, now, now, seq))
	if err != nil {
		return nil, participantError(op, translate(op, err))
	}
	return p, nil
}

// ListParticipants returns the participants of a conversation by join time.
func (s *Store) ListParticipants(ctx context.Context, conversationID string) ([]*parley.Participant, error) {
	const op = "sqlite.ListParticipants"
	if !parley.ValidID(conversationID) {
		return nil, nil
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT `+participantColumns+` FROM participants
		WHERE conversation_id = ? ORDER BY joined_at, user_type, user_id`, conversationID)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, p)
	}
	return out, translate(op, rows.Err())
}

const transferColumns = `id, conversation_id, from_agent_id, to_agent_id, by_user_id, reason, created_at`

// TransferConversation, in one transaction, records t, assigns the
// conversation to t.ToAgentID with status active and appends note (a system
// message) as AppendMessage does. ENOTFOUND (conversation or agent);
// ECONFLICT when the conversation is closed or its assignee is no longer
// t.FromAgentID; EINVALID. On any error nothing is written.
func (s *Store) TransferConversation(ctx context.Context, t *parley.Transfer, note *parley.Message) (*parley.Conversation, error) {
	const op = "sqlite.TransferConversation"
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.ID != "" && !parley.ValidID(t.ID) {
		return nil, parley.Errorf(parley.EINVALID, "transfer id is not a valid id")
	}
	if note == nil {
		return nil, parley.Errorf(parley.EINVALID, "a transfer needs a note")
	}
	if note.ConversationID == "" {
		note.ConversationID = t.ConversationID
	}
	if note.ConversationID != t.ConversationID {
		return nil, parley.Errorf(parley.EINVALID, "the note belongs to another conversation")
	}
	if note.SenderType != parley.SenderSystem {
		return nil, parley.Errorf(parley.EINVALID, "a transfer note is a system message")
	}
	if err := checkMessage(note); err != nil {
		return nil, err
	}
	if err := s.prepareAppendStmts(ctx); err != nil {
		return nil, translate(op, err)
	}
	var out *parley.Conversation
	stored := cloneMessage(note)
	var created bool
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		c, err := getConversation(ctx, tx, t.ConversationID)
		if err == sql.ErrNoRows {
			return notFound(op, "conversation")
		}
		if err != nil {
			return err
		}
		if c.Status == parley.StatusClosed {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation is closed"}
		}
		if c.AssigneeID != t.FromAgentID {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation's assignee has changed"}
		}
		id := t.ID
		if id == "" {
			id = parley.NewID()
		}
		now := parley.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO transfers (`+transferColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, t.ConversationID, nullString(t.FromAgentID), t.ToAgentID, t.ByUserID, t.Reason, micros(now)); err != nil {
			return agentNotFound(op, err)
		}
		s.forgetConversation(t.ConversationID)
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET status = 'active', assignee_id = ?, updated_at = ?
			WHERE id = ?`, t.ToAgentID, micros(now), t.ConversationID); err != nil {
			return agentNotFound(op, err)
		}
		created, err = s.appendTx(ctx, tx, stored)
		if err != nil {
			return err
		}
		if out, err = getConversation(ctx, tx, t.ConversationID); err != nil {
			return err
		}
		t.ID, t.CreatedAt = id, now
		return nil
	})
	if err != nil {
		return nil, err
	}
	fillMessage(note, stored, created)
	return out, nil
}

func agentNotFound(op string, err error) error {
	err = translate(op, err)
	if parley.IsCode(err, parley.ENOTFOUND) {
		e := *err.(*parley.Error)
		e.Message = "agent not found"
		return &e
	}
	return err
}

// ListTransfers returns a conversation's transfers, oldest first.
func (s *Store) ListTransfers(ctx context.Context, conversationID string) ([]*parley.Transfer, error) {
	const op = "sqlite.ListTransfers"
	if !parley.ValidID(conversationID) {
		return nil, nil
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE conversation_id = ? ORDER BY created_at, rowid`, conversationID)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*parley.Transfer
	for rows.Next() {
		var t parley.Transfer
		var from, to, by sql.NullString
		var created int64
		if err := rows.Scan(&t.ID, &t.ConversationID, &from, &to, &by, &t.Reason, &created); err != nil {
			return nil, translate(op, err)
		}
		t.FromAgentID, t.ToAgentID, t.ByUserID = from.String, to.String, by.String
		t.CreatedAt = fromMicros(created)
		out = append(out, &t)
	}
	return out, translate(op, rows.Err())
}
