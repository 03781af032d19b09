package sqlite

import (
	"context"

	"github.com/parleychat/parley"
)

// An append's lookup (findSQL) reads its conversation's row and probes the
// client id index before anything is written: about a sixth of an append's time
// on the writer. The append loop remembers, for the conversations it has
// appended to, what that lookup read, and an append to one of them skips
// it: the message goes in at the next seq, then the conversation is bumped
// on the condition that its row still holds what was remembered
// (bumpIfSQL).
//
// What is remembered may be out of date; that never reaches a caller:
//   - a seq taken meanwhile, a client id used before or a conversation gone
//     make the INSERT fail on its constraints, which writes nothing; the
//     append then takes the full path, whose lookup tells which it was;
//   - a row changed in any other field the append relies on (status,
//     assignee, count of customer messages) makes the conditional bump change
//     nothing after the message was inserted: the batch is then rolled back
//     and run again with a savepoint around every append, on the full path.
//
// The conditions are what makes the memory safe; so that the costly second
// case stays rare, the store's own writes that change a conversation's row
// outside the loop (a claim, an assignment, a transfer, a status change) ask
// the loop to forget that conversation (forgetConversation), and those that
// may change many (deleting a user, a customer, a conversation) to forget
// everything (forgetConversations). A batch does so before it starts.
type appendMemory struct {
	gen   uint64
	convs map[string]convMemory
}

// convMemory is what an append needs of its conversation's row.
type convMemory struct {
	last, customers int64
	state           parley.ConversationState
}

// maxRemembered bounds the conversations remembered; past it the memory
// starts again empty.
const maxRemembered = 20000

// bumpIfSQL is bumpSQL on the condition that the row holds what the append
// loop remembers of it: last seq ?8, customer messages ?9, status ?10 and
// assignee ?11 (empty for none).
const bumpIfSQL = bumpSQL + ` AND last_seq = ?8 AND customer_messages = ?9 AND status = ?10 AND coalesce(assignee_id, '') = ?11`

// freshMemory returns the memory for a batch, having forgotten what other
// writes asked it to. The batch calls it while it holds the writer
// connection: a write that committed before asked before it committed.
func (s *Store) freshMemory() *appendMemory {
	a := &s.memory
	s.forgetMu.Lock()
	forget := s.forgetting
	s.forgetting = nil
	s.forgetMu.Unlock()
	if gen := s.writeGen.Load(); a.gen != gen || len(a.convs) >= maxRemembered {
		clear(a.convs)
		a.gen = gen
	}
	for _, id := range forget {
		delete(a.convs, id)
	}
	if a.convs == nil {
		a.convs = make(map[string]convMemory)
	}
	return a
}

func (a *appendMemory) forget() { clear(a.convs) }

// appendRemembered appends m at the seq after what is remembered of its
// conversation, mem. It reports done = false, having written nothing, when
// the INSERT failed: the caller then takes the full path. With done, wrote
// and err are as appendWith's.
func (s *Store) appendRemembered(ctx context.Context, st *txStmts, m *parley.Message, idx *searchBatch, mem convMemory) (wrote bool, err error, done bool) {
	const op = "sqlite.AppendMessage"
	meta, err := encodeMetadata(m.Metadata)
	if err != nil {
		return false, err, true
	}
	now := parley.Now()
	seq, customers := mem.last+1, mem.customers
	if m.SenderType == parley.SenderCustomer {
		customers++
	}
	id := m.ID
	if id == "" {
		id = parley.NewID()
	}
	if _, err := st.insert.ExecContext(ctx, id, m.ConversationID, seq, nullString(m.ClientMsgID), nullString(m.SenderID),
		m.SenderType, m.Kind, m.Content, micros(now), meta, customers); err != nil {
		return false, nil, false
	}
	m.ID = id
	res, err := st.bumpIf.ExecContext(ctx, seq, string(m.SenderType), string(m.Kind), m.Preview(), micros(now), m.ConversationID, customers,
		mem.last, mem.customers, string(mem.state.Status), mem.state.AssigneeID)
	if err != nil {
		return true, translate(op, err), true
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return true, errForgotten, true
	}
	if err := s.attachAndIndex(ctx, st, m, idx, now); err != nil {
		return true, err, true
	}
	m.Seq, m.CreatedAt = seq, now
	return true, nil, true
}

// errForgotten: a conversation's row no longer held what the append loop
// remembered of it. The batch runs again on the full path; no caller sees it.
var errForgotten = &parley.Error{Code: parley.ECONFLICT, Op: "sqlite.AppendMessage", Message: "the conversation changed"}

// forgetConversation asks the append loop to forget conversation id before
// its next batch. A write calls it inside its transaction, before it
// commits, so no batch can start in between.
func (s *Store) forgetConversation(id string) {
	s.forgetMu.Lock()
	if len(s.forgetting) < maxRemembered {
		s.forgetting = append(s.forgetting, id)
	} else {
		s.writeGen.Add(1)
	}
	s.forgetMu.Unlock()
}

// forgetConversations asks the append loop to forget every conversation
// before its next batch, after a write that may have changed any number of
// them. A single statement, which holds the connection only while it runs,
// calls it after.
func (s *Store) forgetConversations() { s.writeGen.Add(1) }
