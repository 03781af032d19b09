package desk

import (
	"context"
	"sync"

	"github.com/parleychat/parley"
)

// recentCap bounds how many conversations a desk remembers.
const recentCap = 10_000

// recent remembers, for conversations messages were lately sent to, what
// decides who may send to them: customer, status and assignee. It saves
// reading the conversation before every message. What it remembers may be
// stale (another node, or a change made straight in the store); it is only
// a guess that the append confirms (Message.Expect), and a message is never
// refused on it.
type recent struct {
	mu sync.Mutex
	m  map[string]recentConversation
}

type recentConversation struct {
	customerID string
	state      parley.ConversationState
}

// get returns the conversation id as remembered, or nil.
func (r *recent) get(id string) *parley.Conversation {
	r.mu.Lock()
	e, ok := r.m[id]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	return &parley.Conversation{ID: id, CustomerID: e.customerID, Status: e.state.Status, AssigneeID: e.state.AssigneeID}
}

// put remembers c. When full it forgets an arbitrary conversation first.
func (r *recent) put(c *parley.Conversation) {
	e := recentConversation{customerID: c.CustomerID, state: c.State()}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]recentConversation)
	}
	if _, ok := r.m[c.ID]; !ok && len(r.m) >= recentCap {
		for id := range r.m {
			delete(r.m, id)
			break
		}
	}
	r.m[c.ID] = e
}

// update remembers c's new state if c is remembered.
func (r *recent) update(c *parley.Conversation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.m[c.ID]; ok {
		e.state = c.State()
		r.m[c.ID] = e
	}
}

// forget drops conversation id.
func (r *recent) forget(id string) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

// maxAppendTries bounds how often appendChecked reads the conversation
// again after its state changed under a send.
const maxAppendTries = 3

// appendChecked appends m for a, doing act (reply or note), to conversation
// c (nil: read it now) after checking that a may: c may be a snapshot (the
// desk's recent conversations, or one read before a long upload), since the
// append holds only if the status and assignee it was checked on are still
// the stored ones (Message.Expect). When they are not, or a check fails on
// a snapshot, the conversation is read again and the checks redone: a
// caller is refused only on what is stored. An agent's first reply to a
// waiting conversation claims it. It returns the conversation as checked.
func (d *Desk) appendChecked(ctx context.Context, op string, a Actor, act Action, m *parley.Message, c *parley.Conversation) (*parley.Conversation, bool, error) {
	stored := false // c was read from the store in this call
	for try := 0; ; try++ {
		if try == maxAppendTries {
			return nil, false, parley.Errorf(parley.ECONFLICT, "The conversation changed while the message was sent; send it again.")
		}
		if c == nil {
			var err error
			if c, err = d.conversation(ctx, op, m.ConversationID); err != nil {
				if parley.IsCode(err, parley.ENOTFOUND) {
					d.recent.forget(m.ConversationID)
				}
				return nil, false, err
			}
			stored = true
		}
		err := mayAppend(a, act, c)
		claim := err == nil && act == ConversationReply && a.IsAgent() && c.AssigneeID == ""
		if (err != nil || claim) && !stored {
			c = nil
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if claim {
			if c, err = d.claim(ctx, a, c); err != nil {
				return nil, false, err
			}
		}
		state := c.State()
		m.Expect = &state
		created, err := d.store.AppendMessage(ctx, m)
		m.Expect = nil
		switch parley.ErrorCode(err) {
		case "":
			d.recent.put(c)
			return c, created, nil
		case parley.ECONFLICT:
			c = nil
			continue
		case parley.ENOTFOUND:
			d.recent.forget(m.ConversationID)
			return nil, false, notFound("Conversation")
		case parley.EINVALID:
			return nil, false, err
		}
		return nil, false, wrap(op, err)
	}
}

// mayAppend checks on c that a may do act (reply or note) there.
func mayAppend(a Actor, act Action, c *parley.Conversation) error {
	if !sees(a, c) {
		return notFound("Conversation")
	}
	if c.Status == parley.StatusClosed {
		return parley.Errorf(parley.ECONFLICT, "The conversation is closed.")
	}
	return can(a, act, c)
}
