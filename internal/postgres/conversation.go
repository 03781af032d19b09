package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

const conversationColumns = `id, status, customer_id, assignee_id, customer_ip, metadata, created_at, updated_at,
	closed_at, last_message_at, last_seq, last_customer_seq, last_message_preview`

// conversationColumnsOf is conversationColumns qualified by the alias c.
const conversationColumnsOf = `c.id, c.status, c.customer_id, c.assignee_id, c.customer_ip, c.metadata, c.created_at,
	c.updated_at, c.closed_at, c.last_message_at, c.last_seq, c.last_customer_seq, c.last_message_preview`

// conversationDest returns scan destinations for conversationColumns and a
// function that finishes the conversation once scanned.
func conversationDest(c *parley.Conversation) ([]any, func() error) {
	var assignee *string
	var meta []byte
	dest := []any{&c.ID, &c.Status, &c.CustomerID, &assignee, &c.CustomerIP, &meta, &c.CreatedAt,
		&c.UpdatedAt, &c.ClosedAt, &c.LastMessageAt, &c.LastSeq, &c.LastCustomerSeq, &c.LastMessagePreview}
	return dest, func() error {
		c.AssigneeID = deref(assignee)
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		c.ClosedAt, c.LastMessageAt = utcPtr(c.ClosedAt), utcPtr(c.LastMessageAt)
		var err error
		c.Metadata, err = decodeMetadata(meta)
		return err
	}
}

func scanConversation(row pgx.Row) (*parley.Conversation, error) {
	var c parley.Conversation
	dest, finish := conversationDest(&c)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return &c, finish()
}

// CreateConversation inserts c, filling ID, CreatedAt and UpdatedAt (and
// ClosedAt when created closed). ECONFLICT when the customer already has an
// open conversation; ENOTFOUND when the customer or assignee does not exist;
// EINVALID.
func (s *Store) CreateConversation(ctx context.Context, c *parley.Conversation) error {
	const op = "postgres.CreateConversation"
	if err := c.Validate(); err != nil {
		return err
	}
	if err := assignID(&c.ID, "conversation"); err != nil {
		return err
	}
	meta, err := encodeMetadata(c.Metadata)
	if err != nil {
		return translate(op, err)
	}
	now := parley.Now()
	var closed *time.Time
	if c.Status == parley.StatusClosed {
		closed = &now
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO conversations
		(id, status, customer_id, assignee_id, customer_ip, metadata, created_at, updated_at, closed_at, activity_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $7)`,
		c.ID, string(c.Status), c.CustomerID, nullID(c.AssigneeID), c.CustomerIP, meta, now, closed)
	if err != nil {
		return translate(op, err)
	}
	c.CreatedAt, c.UpdatedAt, c.ClosedAt = now, now, closed
	c.LastMessageAt, c.LastSeq, c.LastCustomerSeq, c.LastMessagePreview = nil, 0, 0, ""
	return nil
}

// GetConversation returns the conversation with id. ENOTFOUND.
func (s *Store) GetConversation(ctx context.Context, id string) (*parley.Conversation, error) {
	const op = "postgres.GetConversation"
	if !parley.ValidID(id) {
		return nil, notFound(op, "conversation")
	}
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = $1`, id))
	if noRows(err) {
		return nil, notFound(op, "conversation")
	}
	return c, translate(op, err)
}

// GetOpenConversation returns the customer's conversation that is not
// closed. ENOTFOUND when there is none.
func (s *Store) GetOpenConversation(ctx context.Context, customerID string) (*parley.Conversation, error) {
	const op = "postgres.GetOpenConversation"
	if !parley.ValidID(customerID) {
		return nil, notFound(op, "open conversation")
	}
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE customer_id = $1 AND status <> 'closed'`, customerID))
	if noRows(err) {
		return nil, notFound(op, "open conversation")
	}
	return c, translate(op, err)
}

// UpdateConversation applies up atomically and returns the conversation as
// stored. Closing sets ClosedAt; reopening clears it. ENOTFOUND; ECONFLICT
// when an Expect field does not hold or reopening would give the customer two
// open conversations; EINVALID.
func (s *Store) UpdateConversation(ctx context.Context, id string, up parley.ConversationUpdate) (*parley.Conversation, error) {
	const op = "postgres.UpdateConversation"
	if !parley.ValidID(id) {
		return nil, notFound(op, "conversation")
	}
	var c *parley.Conversation
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var err error
		c, err = scanConversation(tx.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations
			WHERE id = $1 FOR UPDATE`, id))
		if noRows(err) {
			return notFound(op, "conversation")
		}
		if err != nil {
			return err
		}
		if up.ExpectStatus != nil && c.Status != *up.ExpectStatus {
			return &parley.Error{Code: parley.ECONFLICT, Op: op,
				Message: "the conversation is " + string(c.Status) + " now"}
		}
		if up.ExpectAssigneeID != nil && c.AssigneeID != *up.ExpectAssigneeID {
			return &parley.Error{Code: parley.ECONFLICT, Op: op,
				Message: "the conversation's assignee has changed"}
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
		if err := c.Validate(); err != nil {
			return err
		}
		meta, err := encodeMetadata(c.Metadata)
		if err != nil {
			return err
		}
		c, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations SET status = $2, assignee_id = $3,
			metadata = $4, closed_at = $5, updated_at = $6 WHERE id = $1 RETURNING `+conversationColumns,
			id, string(c.Status), nullID(c.AssigneeID), meta, c.ClosedAt, now))
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteConversation removes a conversation and, by cascade, its messages,
// attachments, participants and transfers. ENOTFOUND.
func (s *Store) DeleteConversation(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "postgres.DeleteConversation", "conversation", `DELETE FROM conversations WHERE id = $1`, id)
}

const participantColumns = `conversation_id, user_id, user_type, joined_at, last_seen_at, last_read_seq`

func scanParticipant(row pgx.Row) (*parley.Participant, error) {
	var p parley.Participant
	if err := row.Scan(&p.ConversationID, &p.UserID, &p.UserType, &p.JoinedAt, &p.LastSeenAt, &p.LastReadSeq); err != nil {
		return nil, err
	}
	p.JoinedAt, p.LastSeenAt = p.JoinedAt.UTC(), p.LastSeenAt.UTC()
	return &p, nil
}

// checkParticipant validates the participant arguments of Join and MarkRead.
func checkParticipant(op, conversationID, userID string, userType parley.ParticipantType) error {
	if !parley.ValidID(conversationID) {
		return notFound(op, "conversation")
	}
	if !parley.ValidID(userID) {
		return &parley.Error{Code: parley.EINVALID, Op: op, Message: "user id is not a valid id"}
	}
	if userType != parley.ParticipantCustomer && userType != parley.ParticipantAgent {
		return &parley.Error{Code: parley.EINVALID, Op: op, Message: "participant type must be customer or agent"}
	}
	return nil
}

// JoinConversation records that a user or customer takes part and returns
// the participant; joining again only updates LastSeenAt. ENOTFOUND when the
// conversation does not exist; EINVALID.
func (s *Store) JoinConversation(ctx context.Context, conversationID, userID string, userType parley.ParticipantType) (*parley.Participant, error) {
	const op = "postgres.JoinConversation"
	if err := checkParticipant(op, conversationID, userID, userType); err != nil {
		return nil, err
	}
	p, err := scanParticipant(s.pool.QueryRow(ctx, `INSERT INTO participants
		(conversation_id, user_id, user_type, joined_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (conversation_id, user_id, user_type) DO UPDATE SET last_seen_at = excluded.last_seen_at
		RETURNING `+participantColumns,
		conversationID, userID, string(userType), parley.Now()))
	return p, translate(op, err)
}

// MarkRead raises the participant's LastReadSeq to seq, never lowering it
// and joining first when needed, and returns the participant. ENOTFOUND
// (conversation); EINVALID when seq < 0.
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, userType parley.ParticipantType, seq int64) (*parley.Participant, error) {
	const op = "postgres.MarkRead"
	if seq < 0 {
		return nil, &parley.Error{Code: parley.EINVALID, Op: op, Message: "seq must not be negative"}
	}
	if err := checkParticipant(op, conversationID, userID, userType); err != nil {
		return nil, err
	}
	// The conversation's row is share-locked first: the read mark's trigger
	// reads its last customer message, which no append may move until this
	// commits, and every writer locks the conversation before its
	// participants, so none waits for another in a circle.
	p, err := scanParticipant(s.pool.QueryRow(ctx, `WITH c AS (SELECT id FROM conversations WHERE id = $1 FOR SHARE)
		INSERT INTO participants (conversation_id, user_id, user_type, joined_at, last_seen_at, last_read_seq)
		SELECT c.id, $2, $3, $4, $4, $5 FROM c
		ON CONFLICT (conversation_id, user_id, user_type)
		DO UPDATE SET last_read_seq = greatest(participants.last_read_seq, excluded.last_read_seq)
		RETURNING `+participantColumns,
		conversationID, userID, string(userType), parley.Now(), seq))
	return p, translate(op, err)
}

// ListParticipants returns the participants of a conversation by join time.
func (s *Store) ListParticipants(ctx context.Context, conversationID string) ([]*parley.Participant, error) {
	const op = "postgres.ListParticipants"
	if !parley.ValidID(conversationID) {
		return []*parley.Participant{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+participantColumns+` FROM participants
		WHERE conversation_id = $1 ORDER BY joined_at, user_type, user_id`, conversationID)
	if err != nil {
		return nil, translate(op, err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.Participant, error) { return scanParticipant(r) })
	return ps, translate(op, err)
}

// TransferConversation, in one transaction, records t, assigns the
// conversation to t.ToAgentID with status active and appends note (when not
// nil) to the timeline. It returns the conversation as stored. ENOTFOUND
// (conversation or agent); ECONFLICT when the conversation is closed or its
// assignee is no longer t.FromAgentID; EINVALID. On any error nothing is
// written.
func (s *Store) TransferConversation(ctx context.Context, t *parley.Transfer, note *parley.Message) (*parley.Conversation, error) {
	const op = "postgres.TransferConversation"
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := assignID(&t.ID, "transfer"); err != nil {
		return nil, err
	}
	var a *appendArgs
	if note != nil {
		if note.ConversationID == "" {
			note.ConversationID = t.ConversationID
		}
		if note.ConversationID != t.ConversationID {
			return nil, &parley.Error{Code: parley.EINVALID, Op: op, Message: "the note belongs to another conversation"}
		}
		var err error
		if a, err = prepareAppend(op, note); err != nil {
			return nil, err
		}
		if err := s.learnWords(ctx, a.words); err != nil {
			return nil, translate(op, err)
		}
	}
	now := parley.Now()
	var c *parley.Conversation
	var stored appendResult
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		var status parley.Status
		var assignee *string
		err := tx.QueryRow(ctx, `SELECT status, assignee_id FROM conversations WHERE id = $1 FOR UPDATE`,
			t.ConversationID).Scan(&status, &assignee)
		if noRows(err) {
			return notFound(op, "conversation")
		}
		if err != nil {
			return err
		}
		if status == parley.StatusClosed {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation is closed"}
		}
		if deref(assignee) != t.FromAgentID {
			return &parley.Error{Code: parley.ECONFLICT, Op: op, Message: "the conversation's assignee has changed"}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transfers
			(id, conversation_id, from_agent_id, to_agent_id, by_user_id, reason, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.ID, t.ConversationID, nullID(t.FromAgentID), t.ToAgentID, t.ByUserID, t.Reason, now); err != nil {
			return err
		}
		if a != nil {
			if stored, err = a.exec(ctx, tx); err != nil {
				return err
			}
			if !stored.ok {
				return notFound(op, "conversation")
			}
		}
		c, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations
			SET assignee_id = $2, status = 'active', updated_at = greatest($3, updated_at)
			WHERE id = $1 RETURNING `+conversationColumns, t.ConversationID, t.ToAgentID, now))
		return err
	})
	if err != nil {
		if parley.IsCode(err, parley.ECONFLICT) && a != nil {
			if _, constraint := pgCode(err); constraint == "messages_client_msg_id_key" {
				return nil, &parley.Error{Code: parley.ECONFLICT, Op: op,
					Message: "the note's client message id was already used", Err: err}
			}
		}
		return nil, err
	}
	t.CreatedAt = now
	if a != nil {
		a.fill(note, stored)
	}
	return c, nil
}

const transferColumns = `id, conversation_id, from_agent_id, to_agent_id, by_user_id, reason, created_at`

// ListTransfers returns a conversation's transfers, oldest first.
func (s *Store) ListTransfers(ctx context.Context, conversationID string) ([]*parley.Transfer, error) {
	const op = "postgres.ListTransfers"
	if !parley.ValidID(conversationID) {
		return []*parley.Transfer{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE conversation_id = $1 ORDER BY created_at, id`, conversationID)
	if err != nil {
		return nil, translate(op, err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.Transfer, error) {
		var t parley.Transfer
		var from, to, by *string
		if err := r.Scan(&t.ID, &t.ConversationID, &from, &to, &by, &t.Reason, &t.CreatedAt); err != nil {
			return nil, err
		}
		t.FromAgentID, t.ToAgentID, t.ByUserID = deref(from), deref(to), deref(by)
		t.CreatedAt = t.CreatedAt.UTC()
		return &t, nil
	})
	return ts, translate(op, err)
}
