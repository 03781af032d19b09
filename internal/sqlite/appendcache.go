package sqlite

import (
	"context"

	"github.com/parleychat/parley"
)

// An append's lookup (findSQL) reads its conversation's row and probes the
// client id index before anything is written: a fifth of an append's time
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
// So that the second case stays rare, the other writes through the writer
// connection (Store.write and Store.exec: every one that may change a
// conversation's row; a read mark changes only participants) move writeGen
// on, and a batch that finds it moved forgets everything before it starts.
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

// fresh returns the memory for a batch that started at write generation
// gen, emptied if other writes have happened since it was filled.
func (a *appendMemory) fresh(gen uint64) *appendMemory {
	if a.gen != gen || len(a.convs) >= maxRemembered {
		clear(a.convs)
		a.gen = gen
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

// wrote notes a write through the writer connection other than the append
// loop's: the loop forgets what it remembers of conversations before its
// next batch. A write inside a transaction calls it before committing, so no
// batch can start in between; a single statement calls it after.
func (s *Store) wrote() { s.writeGen.Add(1) }
