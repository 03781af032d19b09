package sqlite

import (
	"context"
	"database/sql"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
)

// Appends are group-committed. SQLite commits one transaction at a time, and
// a commit costs far more than the few statements of an append, so one loop
// takes every append waiting at that moment (up to maxBatch), runs each in
// its own SAVEPOINT inside one transaction, and commits them together. An
// append that fails rolls back to its savepoint alone; the others commit.
// Each caller hears its result only after the commit, so "returned" still
// means "durable" (as durable as the synchronous setting makes it).
//
// Serializing appends in one loop is also what makes seqs gapless and client
// ids idempotent: no two appends ever read the same conversation row at once.

const maxBatch = 256

// Request states: a caller that gives up (its context ends) while its
// request still waits marks it abandoned; the loop marks it taken before
// running it. Exactly one of the two wins, so a cancelled append is never
// written, and an append being written is always answered.
const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

type appendReq struct {
	m       *parley.Message // a private copy, filled by the loop
	ownIDs  bool            // the caller chose the message's or an attachment's id
	state   atomic.Int32
	created bool
	err     error
	done    chan struct{}
}

// AppendMessage is the heart of Parley. In one transaction it gives m the
// conversation's next seq, inserts it with its attachments and bumps the
// conversation (LastSeq, LastMessageAt, UpdatedAt; LastCustomerSeq for a
// customer's message; LastMessagePreview unless m is a note). It fills ID,
// Seq, CreatedAt and each attachment's ID, MessageID, ConversationID and
// CreatedAt, and returns created = true.
//
// When m.ClientMsgID is set and (conversation, sender, client id) was
// appended before, it writes nothing, fills m with the stored message and
// returns created = false. ENOTFOUND (conversation); EINVALID; EUNAVAILABLE
// when the store is closed or ctx ends before the append was taken up. On
// any error nothing is written.
func (s *Store) AppendMessage(ctx context.Context, m *parley.Message) (bool, error) {
	const op = "sqlite.AppendMessage"
	if err := checkMessage(m); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, translate(op, err)
	}
	req := &appendReq{m: cloneMessage(m), done: make(chan struct{}), ownIDs: m.ID != ""}
	for _, a := range m.Attachments {
		req.ownIDs = req.ownIDs || a.ID != ""
	}
	select {
	case s.appends <- req:
	case <-ctx.Done():
		return false, translate(op, ctx.Err())
	case <-s.closing:
		return false, closedError(op)
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqPending, reqAbandoned) {
			return false, translate(op, ctx.Err())
		}
		<-req.done // already being written: wait for the commit's verdict
	}
	if req.err != nil {
		return false, req.err
	}
	fillMessage(m, req.m, req.created)
	return req.created, nil
}

// appendLoop runs until Close, committing batches of appends.
func (s *Store) appendLoop() {
	defer close(s.loopDone)
	batch := make([]*appendReq, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-s.appends:
			batch = append(batch, r)
		case <-s.closing:
			return
		}
		// Callers just answered by the last commit are runnable but may not
		// have run yet; yielding once lets them queue, which doubles the
		// batch under load and halves the commits.
		runtime.Gosched()
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.appends:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch writes the batch in one transaction and answers every request
// in it.
func (s *Store) commitBatch(batch []*appendReq) {
	taken := batch[:0:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqPending, reqTaken) {
			taken = append(taken, r)
		} else {
			close(r.done)
		}
	}
	if len(taken) == 0 {
		return
	}
	// Savepoints cost a copy of every page an append touches, so they are
	// kept for appends that can fail after writing: those bringing their own
	// ids, which may collide. Any other append fails, if at all, before it
	// writes (unknown conversation) or for a reason that dooms the batch
	// (I/O); in that rare case the batch is rolled back and run again with a
	// savepoint around every append.
	if !s.runBatch(taken, false) {
		s.rerun.Add(1)
		s.runBatch(taken, true)
	}
	for _, r := range taken {
		close(r.done)
	}
}

// runBatch runs taken in one transaction and sets each request's result. It
// returns false, having rolled back and set nothing, when an append without
// a savepoint failed after writing.
func (s *Store) runBatch(taken []*appendReq, savepointAll bool) bool {
	const op = "sqlite.AppendMessage"
	// The requests' own contexts only decide whether a request is taken; a
	// taken request runs to its commit so its caller hears the truth.
	ctx := context.Background()
	fail := func(err error) bool {
		for _, r := range taken {
			r.created, r.err = false, translate(op, err)
		}
		return true
	}
	if err := s.prepareAppendStmts(ctx); err != nil {
		return fail(err)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	st := s.bindAppendStmts(ctx, tx)
	var idx *searchBatch
	var mem *appendMemory
	if !savepointAll {
		idx = s.newSearchBatch()
		// Taken while the batch holds the connection: a write that
		// committed before asked to forget before it committed.
		mem = s.freshMemory()
	}
	committed := false
	defer func() {
		if !committed && mem != nil {
			// What the batch remembered was never stored.
			mem.forget()
		}
	}()
	for _, r := range taken {
		if savepointAll || r.ownIDs {
			if _, err := st.savepoint.ExecContext(ctx); err != nil {
				tx.Rollback()
				return fail(err)
			}
			r.created, _, r.err = s.appendWith(ctx, st, r.m, nil, nil)
			if mem != nil {
				delete(mem.convs, r.m.ConversationID)
			}
			if r.err != nil {
				if _, err := st.rollbackTo.ExecContext(ctx); err != nil {
					tx.Rollback()
					return fail(err)
				}
			}
			if _, err := st.release.ExecContext(ctx); err != nil {
				tx.Rollback()
				return fail(err)
			}
			continue
		}
		var wrote bool
		r.created, wrote, r.err = s.appendWith(ctx, st, r.m, idx, mem)
		if r.err != nil && wrote {
			tx.Rollback()
			return false
		}
	}
	// The words of the batch go in last: see searchBatch. A failure there
	// is run again with every append in its savepoint, indexed one by one.
	if idx != nil {
		if err := idx.write(ctx, st); err != nil {
			tx.Rollback()
			return false
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	committed = true
	s.words.learn(idx)
	s.batches.Add(1)
	s.batched.Add(int64(len(taken)))
	return true
}

// appendStmts are the append's statements, prepared once on the writer.
type appendStmts struct {
	mu                               sync.Mutex
	ready                            bool
	findClient, bump, bumpIf, insert *sql.Stmt
	attach                           *sql.Stmt
	savepoint, rollbackTo, release   *sql.Stmt
	searchDoc, searchWords, vocab    *sql.Stmt // search.go
	searchWordsBatch, lastDoc        *sql.Stmt // search.go
	searchDocs                       *sql.Stmt // search.go
}

func (a *appendStmts) all() []*sql.Stmt {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*sql.Stmt
	for _, st := range []*sql.Stmt{a.findClient, a.bump, a.bumpIf, a.insert, a.attach, a.savepoint, a.rollbackTo, a.release,
		a.searchDoc, a.searchWords, a.vocab, a.searchWordsBatch, a.lastDoc, a.searchDocs} {
		if st != nil {
			out = append(out, st)
		}
	}
	return out
}

const (
	// findSQL reads the conversation's last seq, its count of customer
	// messages, its status and assignee (for Message.Expect) and, when the
	// append has a client id, the message already appended with it (NULL if
	// none). Appends are serialized on the one
	// writer connection, so nothing writes the row between this read and
	// bump.
	findSQL = `SELECT last_seq, customer_messages, status, coalesce(assignee_id, ''), CASE WHEN ?3 IS NULL THEN NULL ELSE (SELECT id FROM messages
		WHERE conversation_id = ?1 AND sender_id IS ?2 AND client_msg_id = ?3) END
		FROM conversations WHERE id = ?1`
	// bump sets the new seq (?1) and customer count (?7); a plain UPDATE, as
	// RETURNING would make SQLite materialize its rows in a temporary table.
	bumpSQL = `UPDATE conversations SET
		last_seq = ?1,
		last_customer_seq = CASE WHEN ?2 = 'customer' THEN ?1 ELSE last_customer_seq END,
		customer_messages = ?7,
		last_message_preview = CASE WHEN ?3 = 'note' THEN last_message_preview ELSE ?4 END,
		last_message_at = ?5, activity_at = ?5, updated_at = ?5
		WHERE id = ?6`
	insertMessageSQL = `INSERT INTO messages (id, conversation_id, seq, client_msg_id, sender_id, sender_type, kind,
		content, created_at, metadata, customer_through) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertAttachmentSQL = `INSERT INTO attachments (id, message_id, conversation_id, position, key, url, type,
		content_type, size, name, checksum, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// txStmts are appendStmts bound to one transaction.
type txStmts struct {
	tx                                              *sql.Tx
	findClient, bump, bumpIf, insert, attach        *sql.Stmt
	savepoint, rollbackTo, release                  *sql.Stmt
	searchDoc, searchWords, vocab, searchWordsBatch *sql.Stmt
	lastDoc, searchDocs                             *sql.Stmt
}

// prepareAppendStmts prepares the append statements on the writer the first
// time; database/sql keeps them prepared on the writer's one connection, so
// every later transaction reuses them. It must run outside a transaction:
// the transaction would hold the only connection preparing needs.
func (s *Store) prepareAppendStmts(ctx context.Context) error {
	a := &s.stmts
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ready {
		var err error
		for _, p := range []struct {
			dst **sql.Stmt
			q   string
		}{
			{&a.findClient, findSQL},
			{&a.bump, bumpSQL},
			{&a.bumpIf, bumpIfSQL},
			{&a.insert, insertMessageSQL},
			{&a.attach, insertAttachmentSQL},
			{&a.savepoint, "SAVEPOINT append"},
			{&a.rollbackTo, "ROLLBACK TO append"},
			{&a.release, "RELEASE append"},
			{&a.searchDoc, indexMessageDocSQL},
			{&a.searchWords, indexMessageWordsSQL},
			{&a.vocab, indexVocabularySQL},
			{&a.searchWordsBatch, indexMessagesWordsSQL},
			{&a.lastDoc, lastMessageDocSQL},
			{&a.searchDocs, indexMessagesDocsSQL},
		} {
			if *p.dst, err = s.writer.PrepareContext(ctx, p.q); err != nil {
				return err
			}
		}
		a.ready = true
	}
	return nil
}

// bindAppendStmts binds the prepared append statements to tx.
func (s *Store) bindAppendStmts(ctx context.Context, tx *sql.Tx) *txStmts {
	a := &s.stmts
	return &txStmts{
		tx:          tx,
		findClient:  tx.StmtContext(ctx, a.findClient),
		bump:        tx.StmtContext(ctx, a.bump),
		bumpIf:      tx.StmtContext(ctx, a.bumpIf),
		insert:      tx.StmtContext(ctx, a.insert),
		attach:      tx.StmtContext(ctx, a.attach),
		savepoint:   tx.StmtContext(ctx, a.savepoint),
		rollbackTo:  tx.StmtContext(ctx, a.rollbackTo),
		release:     tx.StmtContext(ctx, a.release),
		searchDoc:   tx.StmtContext(ctx, a.searchDoc),
		searchWords: tx.StmtContext(ctx, a.searchWords),
		vocab:       tx.StmtContext(ctx, a.vocab),

		searchWordsBatch: tx.StmtContext(ctx, a.searchWordsBatch),
		lastDoc:          tx.StmtContext(ctx, a.lastDoc),
		searchDocs:       tx.StmtContext(ctx, a.searchDocs),
	}
}

// appendTx appends m inside tx (which the caller commits), for writes such
// as transfers that append as part of a larger transaction. The caller has
// run prepareAppendStmts before opening tx.
func (s *Store) appendTx(ctx context.Context, tx *sql.Tx, m *parley.Message) (bool, error) {
	created, _, err := s.appendWith(ctx, s.bindAppendStmts(ctx, tx), m, nil, nil)
	return created, err
}

// appendWith is one append: the idempotency lookup, the seq bump, the
// message and its attachments. m has passed checkMessage. wrote tells
// whether it changed anything before an error; the caller then rolls back.
//
// When idx is not nil the message's words are left to idx, which the batch
// writes after every append (see searchBatch); otherwise they are indexed
// here. When mem is not nil, an append to a conversation it remembers skips
// the lookup (see appendMemory), and every append updates it.
func (s *Store) appendWith(ctx context.Context, st *txStmts, m *parley.Message, idx *searchBatch, mem *appendMemory) (created, wrote bool, err error) {
	const op = "sqlite.AppendMessage"
	if mem != nil {
		if known, ok := mem.convs[m.ConversationID]; ok {
			delete(mem.convs, m.ConversationID)
			if m.Expect == nil || *m.Expect == known.state {
				wrote, err := s.writeAppend(ctx, st, m, idx, known.last, known.customers, &known)
				if err != errNotInserted {
					if err == nil {
						mem.remember(m, known.customers, known.state)
					}
					return err == nil, wrote, err
				}
			}
		}
	}
	var last, customers int64
	var state parley.ConversationState
	var dup sql.NullString
	err = st.findClient.QueryRowContext(ctx, m.ConversationID, nullString(m.SenderID), nullString(m.ClientMsgID)).
		Scan(&last, &customers, &state.Status, &state.AssigneeID, &dup)
	switch {
	case err == sql.ErrNoRows:
		return false, false, notFound(op, "conversation")
	case err != nil:
		return false, false, translate(op, err)
	case m.Expect != nil && *m.Expect != state:
		return false, false, conversationChanged(op)
	case dup.Valid:
		if mem != nil {
			mem.convs[m.ConversationID] = convMemory{last: last, customers: customers, state: state}
		}
		stored, err := getMessage(ctx, st.tx, dup.String)
		if err != nil {
			return false, false, translate(op, err)
		}
		*m = *stored
		return false, false, nil
	}
	if wrote, err := s.writeAppend(ctx, st, m, idx, last, customers, nil); err != nil {
		return false, wrote, err
	}
	mem.remember(m, customers, state)
	return true, true, nil
}

// writeAppend writes m at the seq after last, its conversation having had
// customers customer messages: the conversation's bump, the message, its
// attachments and its search words. With known (what the append loop
// remembers of the conversation, see appendMemory) the message goes in
// first, and the bump only on the condition that the row still holds known:
// an INSERT refused then returns errNotInserted, having written nothing. It
// fills m's ID, Seq and CreatedAt; wrote is as appendWith's.
func (s *Store) writeAppend(ctx context.Context, st *txStmts, m *parley.Message, idx *searchBatch, last, customers int64, known *convMemory) (wrote bool, err error) {
	const op = "sqlite.AppendMessage"
	meta, err := encodeMetadata(m.Metadata)
	if err != nil {
		return false, err
	}
	now := parley.Now()
	seq := last + 1
	customers += customerMessages(m)
	if m.ID == "" {
		m.ID = parley.NewID()
	}
	bump := []any{seq, string(m.SenderType), string(m.Kind), m.Preview(), micros(now), m.ConversationID, customers}
	insert := func() error {
		_, err := st.insert.ExecContext(ctx, m.ID, m.ConversationID, seq, nullString(m.ClientMsgID), nullString(m.SenderID),
			m.SenderType, m.Kind, m.Content, micros(now), meta, customers)
		return err
	}
	if known == nil {
		if _, err := st.bump.ExecContext(ctx, bump...); err != nil {
			return true, translate(op, err)
		}
		if err := insert(); err != nil {
			return true, translate(op, err)
		}
	} else {
		if err := insert(); err != nil {
			return false, errNotInserted
		}
		res, err := st.bumpIf.ExecContext(ctx, append(bump, known.last, known.customers, string(known.state.Status), known.state.AssigneeID)...)
		if err != nil {
			return true, translate(op, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return true, errForgotten
		}
	}
	if err := s.attachAndIndex(ctx, st, m, idx, now); err != nil {
		return true, err
	}
	m.Seq, m.CreatedAt = seq, now
	return true, nil
}

// customerMessages is 1 for a customer's message, 0 for any other.
func customerMessages(m *parley.Message) int64 {
	if m.SenderType == parley.SenderCustomer {
		return 1
	}
	return 0
}

// attachAndIndex inserts m's attachments and its search words (or leaves
// them to idx), after m itself was inserted at now.
func (s *Store) attachAndIndex(ctx context.Context, st *txStmts, m *parley.Message, idx *searchBatch, now time.Time) error {
	const op = "sqlite.AppendMessage"
	for i, a := range m.Attachments {
		if a.ID == "" {
			a.ID = parley.NewID()
		}
		if _, err := st.attach.ExecContext(ctx, a.ID, m.ID, m.ConversationID, i, a.Key, a.URL, a.Type,
			a.ContentType, a.Size, a.Name, a.Checksum, micros(now)); err != nil {
			return translate(op, err)
		}
		a.MessageID, a.ConversationID, a.CreatedAt = m.ID, m.ConversationID, now
	}
	if idx != nil {
		idx.add(m)
	} else if err := indexMessage(ctx, func(m *parley.Message) *sql.Row {
		return st.searchDoc.QueryRowContext(ctx, m.ID, m.ConversationID)
	}, st.searchWords, st.vocab, s.words, m); err != nil {
		return translate(op, err)
	}
	return nil
}

// checkMessage validates m as AppendMessage writes it. EINVALID.
func checkMessage(m *parley.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.ID != "" && !parley.ValidID(m.ID) {
		return parley.Errorf(parley.EINVALID, "message id is not a valid id")
	}
	for _, a := range m.Attachments {
		if a == nil {
			return parley.Errorf(parley.EINVALID, "an attachment is missing")
		}
		if a.ID != "" && !parley.ValidID(a.ID) {
			return parley.Errorf(parley.EINVALID, "attachment id is not a valid id")
		}
	}
	return nil
}

// cloneMessage copies m and its attachments, so the append loop never writes
// into memory its caller may still be reading.
func cloneMessage(m *parley.Message) *parley.Message {
	c := *m
	c.Attachments = make([]*parley.Attachment, len(m.Attachments))
	for i, a := range m.Attachments {
		ac := *a
		c.Attachments[i] = &ac
	}
	return &c
}

// fillMessage copies the stored message into the caller's m. A new message
// fills the caller's attachment structs in place; a duplicate replaces m's
// fields (attachments included) with what was stored first.
func fillMessage(m, stored *parley.Message, created bool) {
	if !created {
		*m = *stored
		return
	}
	atts := m.Attachments
	*m = *stored
	for i, a := range atts {
		*a = *stored.Attachments[i]
	}
	m.Attachments = atts
}
