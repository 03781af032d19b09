package sqlite

import (
	"errors"

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

// remember notes m, just appended after customers customer messages, as
// its conversation's newest, in state. A nil memory remembers nothing.
func (a *appendMemory) remember(m *parley.Message, customers int64, state parley.ConversationState) {
	if a != nil {
		a.convs[m.ConversationID] = convMemory{last: m.Seq, customers: customers + customerMessages(m), state: state}
	}
}

// errNotInserted: the INSERT of an append at a remembered seq was refused,
// and nothing written; the append takes the full path.
var errNotInserted = errors.New("not inserted at the remembered seq")

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
