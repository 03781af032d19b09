package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// appendSQL appends a message in one statement. A customer's message also
// ends the caught-up state of the conversation's agents who had read to its
// end (the inbox counters of migration 0006), under the same row lock. The UPDATE takes the
// conversation's row lock, which serializes appends per conversation: the
// next seq is last_seq + 1 as seen after the lock, so seqs have no gap and no
// repeat. The message takes its time from the conversation's bumped
// last_message_at, which never goes backwards, so created_at rises with seq.
// A repeated client message id (stored before, by another transaction or by
// an earlier append of the same batch) fails the whole statement on
// messages_client_msg_id_key, undoing the bump, so no seq is burnt; the
// caller then reads the original. Checking for it first in the statement
// would cost every append a lookup, and a plan cached while messages was
// small may make that lookup a scan. $12 and $13, when $12 is not NULL, are
// the status and assignee Message.Expect requires. No row back means no such
// conversation, or one whose state is not the one expected.
const appendSQL = `WITH c AS (
	UPDATE conversations SET
		last_seq = last_seq + 1,
		last_customer_seq = CASE WHEN $5::text = 'customer' THEN last_seq + 1 ELSE last_customer_seq END,
		last_message_at = greatest($9::timestamptz, last_message_at),
		activity_at = greatest($9::timestamptz, last_message_at),
		updated_at = greatest($9::timestamptz, last_message_at, updated_at),
		last_message_preview = CASE WHEN $6::text = 'note' THEN last_message_preview ELSE $10 END
	WHERE id = $2 AND ($12::text IS NULL OR (status = $12 AND assignee_id IS NOT DISTINCT FROM $13::uuid))
	RETURNING last_seq, last_message_at
), m AS (
	INSERT INTO messages (id, conversation_id, seq, client_msg_id, sender_id, sender_type, kind, content, created_at, metadata, search)
	SELECT $1, $2, c.last_seq, $3, $4, $5, $6, $7, c.last_message_at, $8, array_to_tsvector($11::text[]) FROM c
	RETURNING id, seq, created_at
), caught AS (
	UPDATE participants p SET caught = false, caught_status = NULL, caught_assignee = NULL
	FROM c
	WHERE $5::text = 'customer' AND p.conversation_id = $2 AND p.user_type = 'agent'
		AND p.caught AND p.last_read_seq < c.last_seq
)`

// appendResultSQL ends appendSQL with its one row of result.
const appendResultSQL = `
SELECT seq, created_at FROM m`

const appendMessageSQL = appendSQL + appendResultSQL

// appendWithAttachmentsSQL also inserts the attachments, passed as parallel
// arrays, in the same statement. ($11 is the message's words for search.)
const appendWithAttachmentsSQL = appendSQL + `, a AS (
	INSERT INTO attachments (id, message_id, conversation_id, position, key, url, type, content_type, size, name, checksum, created_at)
	SELECT u.id, m.id, $2, u.ord - 1, u.key, u.url, u.type, u.content_type, u.size, u.name, u.checksum, m.created_at
	FROM m, unnest($14::uuid[], $15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[], $20::text[], $21::text[])
		WITH ORDINALITY AS u(id, key, url, type, content_type, size, name, checksum, ord)
)` + appendResultSQL

// appendArgs is a validated message ready for appendSQL.
type appendArgs struct {
	sql  string
	args []any
	// conversationID orders appends within a batch, so that concurrent
	// batches take conversation row locks in one order.
	conversationID string
	// words are the message's search words ($11), learned before the append.
	words []string
}

// appendResult is what appendSQL returned for one message.
type appendResult struct {
	ok        bool // false: the conversation does not exist
	seq       int64
	createdAt time.Time
}

// prepareAppend validates m, assigns its ids and builds the statement. The
// statement's arguments share nothing mutable with m.
func prepareAppend(op string, m *parley.Message) (*appendArgs, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := assignID(&m.ID, "message"); err != nil {
		return nil, err
	}
	for _, at := range m.Attachments {
		if err := assignID(&at.ID, "attachment"); err != nil {
			return nil, err
		}
	}
	meta, err := encodeMetadata(m.Metadata)
	if err != nil {
		return nil, &parley.Error{Code: parley.EINVALID, Op: op, Message: "metadata must be a JSON object", Err: err}
	}
	words := searchWords(m.SearchText())
	var expectStatus, expectAssignee any
	if e := m.Expect; e != nil {
		expectStatus, expectAssignee = string(e.Status), nullID(e.AssigneeID)
	}
	args := []any{m.ID, m.ConversationID, nullText(m.ClientMsgID), nullID(m.SenderID),
		string(m.SenderType), string(m.Kind), m.Content, meta, parley.Now(), m.Preview(), words,
		expectStatus, expectAssignee}
	if len(m.Attachments) == 0 {
		return &appendArgs{sql: appendMessageSQL, args: args, conversationID: m.ConversationID, words: words}, nil
	}
	n := len(m.Attachments)
	ids, keys, urls, types := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	cts, sizes, names, sums := make([]string, n), make([]int64, n), make([]string, n), make([]string, n)
	for i, at := range m.Attachments {
		ids[i], keys[i], urls[i], types[i] = at.ID, at.Key, at.URL, string(at.Type)
		cts[i], sizes[i], names[i], sums[i] = at.ContentType, at.Size, at.Name, at.Checksum
	}
	args = append(args, ids, keys, urls, types, cts, sizes, names, sums)
	return &appendArgs{sql: appendWithAttachmentsSQL, args: args, conversationID: m.ConversationID, words: words}, nil
}

// scanAppend reads appendSQL's result row.
func scanAppend(row pgx.Row) (appendResult, error) {
	var r appendResult
	err := row.Scan(&r.seq, &r.createdAt)
	if noRows(err) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.ok, r.createdAt = true, r.createdAt.UTC()
	return r, nil
}

func (a *appendArgs) exec(ctx context.Context, q querier) (appendResult, error) {
	return scanAppend(q.QueryRow(ctx, a.sql, a.args...))
}

// fill records in m what the store assigned.
func (a *appendArgs) fill(m *parley.Message, r appendResult) {
	m.Seq, m.CreatedAt = r.seq, r.createdAt
	for _, at := range m.Attachments {
		at.MessageID, at.ConversationID, at.CreatedAt = m.ID, m.ConversationID, r.createdAt
	}
}

// isClientIDConflict reports whether err is the unique violation of a client
// message id stored before.
func isClientIDConflict(err error) bool {
	code, constraint := pgCode(err)
	return code == "23505" && constraint == "messages_client_msg_id_key"
}

// AppendMessage gives m the conversation's next seq and inserts it with its
// attachments, bumping the conversation, all in one statement. Concurrent
// calls are committed together (see groupCommit); each returns only once its
// transaction committed. A repeated (conversation, sender, client id) writes
// nothing and fills m with the stored message (created = false); of two
// identical appends racing, the row lock lets one insert and the other then
// sees it. ENOTFOUND (conversation); EINVALID.
func (s *Store) AppendMessage(ctx context.Context, m *parley.Message) (bool, error) {
	const op = "postgres.AppendMessage"
	a, err := prepareAppend(op, m)
	if err != nil {
		return false, err
	}
	if err := s.learnWords(ctx, a.words); err != nil {
		return false, translate(op, err)
	}
	r, err := s.appends.append(ctx, a)
	return s.appended(ctx, op, m, a, r, err)
}

// appended turns the outcome of a's batch into AppendMessage's result.
func (s *Store) appended(ctx context.Context, op string, m *parley.Message, a *appendArgs, r appendResult, err error) (bool, error) {
	switch {
	case err != nil && isClientIDConflict(err):
		return s.storedAppend(ctx, op, m, err)
	case err != nil:
		return false, translate(op, err)
	case !r.ok:
		return false, s.missedAppend(ctx, op, m)
	}
	a.fill(m, r)
	return true, nil
}

// missedAppend tells why an append found no conversation row to bump: none
// exists (ENOTFOUND), or m.Expect did not hold (ECONFLICT).
func (s *Store) missedAppend(ctx context.Context, op string, m *parley.Message) error {
	if m.Expect == nil {
		return notFound(op, "conversation")
	}
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`, m.ConversationID).Scan(&exists)
	switch {
	case err != nil:
		return translate(op, err)
	case exists:
		return conversationChanged(op)
	}
	return notFound(op, "conversation")
}

// storedAppend fills m with the message stored earlier under m's client id.
func (s *Store) storedAppend(ctx context.Context, op string, m *parley.Message, cause error) (bool, error) {
	stored, err := s.getMessage(ctx, `WHERE conversation_id = $1 AND sender_id IS NOT DISTINCT FROM $2 AND client_msg_id = $3`,
		m.ConversationID, nullID(m.SenderID), m.ClientMsgID)
	if noRows(err) {
		// Deleted between the conflict and the read: the caller may retry.
		return false, translate(op, cause)
	}
	if err != nil {
		return false, translate(op, err)
	}
	*m = *stored
	return false, nil
}

const messageColumns = `id, conversation_id, seq, client_msg_id, sender_id, sender_type, kind, content, created_at, metadata`

func scanMessage(row pgx.Row) (*parley.Message, error) {
	var m parley.Message
	var clientID, sender *string
	var meta []byte
	err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &clientID, &sender, &m.SenderType, &m.Kind,
		&m.Content, &m.CreatedAt, &meta)
	if err != nil {
		return nil, err
	}
	m.ClientMsgID, m.SenderID, m.CreatedAt = deref(clientID), deref(sender), m.CreatedAt.UTC()
	if m.Metadata, err = decodeMetadata(meta); err != nil {
		return nil, err
	}
	return &m, nil
}

const attachmentColumns = `id, message_id, conversation_id, key, url, type, content_type, size, name, checksum, created_at`

func scanAttachment(row pgx.Row) (*parley.Attachment, error) {
	var a parley.Attachment
	err := row.Scan(&a.ID, &a.MessageID, &a.ConversationID, &a.Key, &a.URL, &a.Type, &a.ContentType,
		&a.Size, &a.Name, &a.Checksum, &a.CreatedAt)
	if err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

func collectAttachments(rows pgx.Rows) ([]*parley.Attachment, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.Attachment, error) { return scanAttachment(r) })
}

// getMessage reads one message selected by where, with its attachments, in
// one round trip. pgx.ErrNoRows when there is none.
func (s *Store) getMessage(ctx context.Context, where string, args ...any) (*parley.Message, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+messageColumns+` FROM messages `+where, args...)
	b.Queue(`SELECT `+attachmentColumns+` FROM attachments
		WHERE message_id = (SELECT id FROM messages `+where+`) ORDER BY position`, args...)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	m, err := scanMessage(br.QueryRow())
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	if m.Attachments, err = collectAttachments(rows); err != nil {
		return nil, err
	}
	if len(m.Attachments) == 0 {
		m.Attachments = nil
	}
	return m, br.Close()
}

// GetMessage returns the message with id, with its attachments. ENOTFOUND.
func (s *Store) GetMessage(ctx context.Context, id string) (*parley.Message, error) {
	const op = "postgres.GetMessage"
	if !parley.ValidID(id) {
		return nil, notFound(op, "message")
	}
	m, err := s.getMessage(ctx, `WHERE id = $1`, id)
	if noRows(err) {
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
	const op = "postgres.ListMessages"
	limit, err := checkLimit(f.Limit, parley.MaxMessagePage, parley.MaxMessagePage)
	if err != nil {
		return nil, err
	}
	if !parley.ValidID(conversationID) {
		return []*parley.Message{}, nil
	}
	where := `conversation_id = $1 AND seq > $2`
	args := []any{conversationID, f.AfterSeq, limit}
	if f.ExcludeNotes {
		where += ` AND kind <> 'note'`
	}
	var q string
	if f.BeforeSeq > 0 {
		// The newest limit messages before BeforeSeq, read downwards along
		// the (conversation_id, seq) index, then put back in order.
		args = append(args, f.BeforeSeq)
		q = `SELECT * FROM (SELECT ` + messageColumns + ` FROM messages WHERE ` + where + ` AND seq < $4
			ORDER BY seq DESC LIMIT $3) AS newest ORDER BY seq`
	} else {
		q = `SELECT ` + messageColumns + ` FROM messages WHERE ` + where + ` ORDER BY seq LIMIT $3`
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, translate(op, err)
	}
	var files []string
	byID := map[string]*parley.Message{}
	for _, m := range ms {
		if m.Kind == parley.KindFile {
			files = append(files, m.ID)
			byID[m.ID] = m
		}
	}
	if len(files) == 0 {
		return ms, nil
	}
	rows, err = s.pool.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
		WHERE message_id = ANY($1::uuid[]) ORDER BY message_id, position`, files)
	if err != nil {
		return nil, translate(op, err)
	}
	as, err := collectAttachments(rows)
	if err != nil {
		return nil, translate(op, err)
	}
	for _, a := range as {
		m := byID[a.MessageID]
		m.Attachments = append(m.Attachments, a)
	}
	return ms, nil
}

// GetAttachment returns the attachment with id. ENOTFOUND.
func (s *Store) GetAttachment(ctx context.Context, id string) (*parley.Attachment, error) {
	const op = "postgres.GetAttachment"
	if !parley.ValidID(id) {
		return nil, notFound(op, "attachment")
	}
	a, err := scanAttachment(s.pool.QueryRow(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE id = $1`, id))
	if noRows(err) {
		return nil, notFound(op, "attachment")
	}
	return a, translate(op, err)
}
