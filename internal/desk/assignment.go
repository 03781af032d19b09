package desk

import (
	"context"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// Automatic assignment. Waiting conversations are offered, longest waiting
// first, to the available agents round-robin (the store's AssignWaiting
// decides who, in the database, so several nodes agree): when a
// conversation starts, and whenever an agent may have room (they come
// online, their maximum rises, a conversation of theirs closes, is
// transferred or requeued). An agent who goes offline gets their active
// conversations returned to the queue, which offers them to the others.

// maxDrain bounds how many conversations one drain assigns, so that the
// request which triggered it stays short; the next trigger goes on.
const maxDrain = 200

// offer gives c, when it waits unassigned, to the next available agent and
// returns it as stored (c itself when nobody took it).
func (d *Desk) offer(ctx context.Context, c *parley.Conversation) *parley.Conversation {
	if !d.autoAssign || c.Status != parley.StatusWaiting || c.AssigneeID != "" {
		return c
	}
	got, ok := d.assignNext(ctx, c.ID)
	if !ok {
		return c
	}
	return got
}

// assignNext offers one conversation; ok reports whether an agent took it.
func (d *Desk) assignNext(ctx context.Context, id string) (*parley.Conversation, bool) {
	ctx = background(ctx)
	got, err := d.store.AssignWaiting(ctx, id, "")
	if err != nil {
		if !parley.IsCode(err, parley.ECONFLICT) && !parley.IsCode(err, parley.ENOTFOUND) {
			d.log.Warn("offering a conversation", "conversation", id, "err", err)
		}
		return nil, false
	}
	if got.AssigneeID == "" {
		return got, false
	}
	if _, err := d.store.JoinConversation(ctx, got.ID, got.AssigneeID, parley.ParticipantAgent); err != nil {
		d.log.Warn("joining an offered conversation", "conversation", got.ID, "err", err)
	}
	before := *got
	before.Status, before.AssigneeID = parley.StatusWaiting, ""
	d.conversationChanged(ctx, &before, got, ChangeAutoAssigned)
	return got, true
}

// drainQueue offers the waiting conversations, longest waiting first, until
// the queue is empty or no agent has room.
func (d *Desk) drainQueue(ctx context.Context) {
	if !d.autoAssign {
		return
	}
	ctx = background(ctx)
	assigned := 0
	for assigned < maxDrain {
		ids, err := d.store.WaitingConversations(ctx, 50)
		if err != nil {
			d.log.Warn("reading the queue", "err", err)
			return
		}
		took := false
		for _, id := range ids {
			got, ok := d.assignNext(ctx, id)
			if !ok {
				if got != nil {
					return // it still waits: nobody has room
				}
				continue // taken or closed meanwhile
			}
			took = true
			if assigned++; assigned >= maxDrain {
				return
			}
		}
		if len(ids) < 50 || !took {
			return
		}
	}
}

// agentOffline returns an agent's active conversations to the queue (when
// configured), then offers the queue to the agents still available.
func (d *Desk) agentOffline(ctx context.Context, userID string) {
	ctx = background(ctx)
	if d.requeueOnOffline {
		for range 100 {
			p, err := d.store.ListConversations(ctx, parley.InboxFilter{AssigneeID: userID,
				Statuses: []parley.Status{parley.StatusActive}, Limit: parley.MaxPageSize})
			if err != nil {
				d.log.Warn("listing an offline agent's conversations", "user", userID, "err", err)
				break
			}
			moved := 0
			for _, e := range p.Entries {
				c := e.Conversation
				got, err := d.store.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{
					Status: ptr(parley.StatusWaiting), AssigneeID: ptr(""),
					ExpectStatus: ptr(parley.StatusActive), ExpectAssigneeID: ptr(userID)})
				if err != nil {
					if !parley.IsCode(err, parley.ECONFLICT) && !parley.IsCode(err, parley.ENOTFOUND) {
						d.log.Warn("requeueing a conversation", "conversation", c.ID, "err", err)
					}
					continue
				}
				moved++
				d.conversationChanged(ctx, c, got, ChangeStatus)
			}
			if moved == 0 || len(p.Entries) < parley.MaxPageSize {
				break
			}
		}
	}
	d.drainQueue(ctx)
}

// availabilityChanged reacts to a user's new standing: room may have
// appeared (online, a higher maximum) or they stopped taking chats
// (offline, disabled).
func (d *Desk) availabilityChanged(ctx context.Context, old, u *parley.User) {
	switch {
	case !old.Disabled && u.Disabled, old.Availability != parley.Offline && u.Availability == parley.Offline:
		d.agentOffline(ctx, u.ID)
	case u.Availability == parley.Online && !u.Disabled &&
		(old.Availability != parley.Online || old.Disabled || capacity(u) > capacity(old)):
		d.drainQueue(ctx)
	}
}

// capacity is how many active conversations u may hold.
func capacity(u *parley.User) int {
	if u.MaxChats == 0 {
		return parley.MaxChatsCap + 1
	}
	return u.MaxChats
}

// presence counts down, per agent whose last socket closed, the grace
// after which they are taken offline.
type presence struct {
	grace time.Duration
	mu    sync.Mutex
	gone  map[string]*time.Timer
	wg    sync.WaitGroup
	stop  bool
}

// AgentConnected is called when an agent's first socket opens (on this
// node): a countdown to take them offline stops.
func (d *Desk) AgentConnected(ctx context.Context, a Actor) {
	if !a.IsAgent() {
		return
	}
	p := &d.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.gone[a.User.ID]; t != nil && t.Stop() {
		p.wg.Done()
	}
	delete(p.gone, a.User.ID)
}

// AgentDisconnected is called when an agent's last socket closes (on this
// node). Unless one opens again within the grace period, the agent is set
// offline, and their active conversations go back to the queue when
// configured. Presence is counted per node, like the socket's.
func (d *Desk) AgentDisconnected(ctx context.Context, a Actor) {
	p := &d.presence
	if !a.IsAgent() || p.grace <= 0 {
		return
	}
	id := a.User.ID
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop {
		return
	}
	if t := p.gone[id]; t != nil && t.Stop() {
		p.wg.Done()
	}
	p.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(p.grace, func() {
		defer p.wg.Done()
		p.mu.Lock()
		current := p.gone[id] == t
		if current {
			delete(p.gone, id)
		}
		p.mu.Unlock()
		if current {
			d.agentGone(context.Background(), id)
		}
	})
	p.gone[id] = t
}

// agentGone takes an agent whose sockets stayed closed offline.
func (d *Desk) agentGone(ctx context.Context, id string) {
	u, err := d.store.GetUser(ctx, id)
	if err != nil {
		if !parley.IsCode(err, parley.ENOTFOUND) {
			d.log.Warn("taking a disconnected agent offline", "user", id, "err", err)
		}
		return
	}
	if u.Availability != parley.Offline {
		nu, err := d.store.UpdateUser(ctx, id, parley.UserUpdate{Availability: ptr(parley.Offline)})
		if err != nil {
			d.log.Warn("taking a disconnected agent offline", "user", id, "err", err)
			return
		}
		d.log.Info("agent offline: no socket for the grace period", "user", id, "grace", d.presence.grace)
		d.availabilityChanged(ctx, u, nu)
	}
}

// Close stops the countdowns of disconnected agents and waits for any that
// is running. The desk must not be used afterwards.
func (d *Desk) Close() {
	p := &d.presence
	p.mu.Lock()
	p.stop = true
	for id, t := range p.gone {
		if t.Stop() {
			p.wg.Done()
		}
		delete(p.gone, id)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
