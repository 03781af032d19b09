package desk

import (
	"context"
	"fmt"

	"github.com/parleychat/parley"
)

// TransferInput is a request to hand a conversation to another agent.
type TransferInput struct {
	ToAgentID string
	Reason    string
	// Force hands it over even when the agent is not online or is at their
	// maximum of conversations (team leads and admins).
	Force bool
}

// Transfer hands a conversation to another agent with a reason, recording
// the transfer and a line in the timeline that tells the visitor who they
// now talk to. Agents transfer their own; senior agents and above any. The
// receiving agent must be online and below their maximum unless Force.
// EUNAUTHORIZED, EFORBIDDEN (Force below team lead), ENOTFOUND, EINVALID,
// ECONFLICT (closed, reassigned meanwhile, or the agent is offline or full).
func (d *Desk) Transfer(ctx context.Context, a Actor, id string, in TransferInput) (*parley.Conversation, error) {
	const op = "desk.Transfer"
	if in.Force {
		if _, err := allow(a, ConversationTransferForce); err != nil {
			if parley.IsCode(err, parley.EFORBIDDEN) {
				return nil, parley.Errorf(parley.EFORBIDDEN, "Only team leads and admins can force a transfer.")
			}
			return nil, err
		}
	}
	c, err := d.authorized(ctx, a, ConversationTransfer, op, id)
	if err != nil {
		return nil, err
	}
	if c.Status == parley.StatusClosed {
		return nil, parley.Errorf(parley.ECONFLICT, "The conversation is closed.")
	}
	to, err := d.agent(ctx, op, in.ToAgentID, "toAgentId")
	if err != nil {
		return nil, err
	}
	if to.ID == c.AssigneeID {
		return nil, parley.Errorf(parley.EINVALID, "The conversation is already assigned to %s.", to.Name)
	}
	if !in.Force {
		if to.Availability != parley.Online {
			return nil, parley.Errorf(parley.ECONFLICT, "%s is %s and not taking chats; a team lead can force the transfer.", to.Name, to.Availability)
		}
		full, err := d.atCapacity(ctx, to)
		if err != nil {
			return nil, err
		}
		if full {
			return nil, parley.Errorf(parley.ECONFLICT, "%s already has their maximum of %d conversations; a team lead can force the transfer.", to.Name, to.MaxChats)
		}
	}
	t := &parley.Transfer{ConversationID: c.ID, FromAgentID: c.AssigneeID, ToAgentID: to.ID, ByUserID: a.ID(), Reason: in.Reason}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	// The line is the visitor's as much as the agents': plain words, and
	// no reason (that stays among agents, in the transfer history).
	note := &parley.Message{ConversationID: c.ID, SenderType: parley.SenderSystem, Kind: parley.KindSystem,
		Content:  fmt.Sprintf("You are now talking to %s.", to.Name),
		Metadata: parley.Metadata{"event": "transferred", "fromAgentId": c.AssigneeID, "toAgentId": to.ID}}
	got, err := d.store.TransferConversation(ctx, t, note)
	if err != nil {
		switch parley.ErrorCode(err) {
		case parley.ECONFLICT:
			return nil, errChanged
		case parley.ENOTFOUND:
			return nil, notFound("Conversation")
		case parley.EINVALID:
			return nil, err
		}
		return nil, wrap(op, err)
	}
	if _, err := d.store.JoinConversation(ctx, c.ID, to.ID, parley.ParticipantAgent); err != nil {
		d.log.Warn("joining a transferred conversation", "conversation", c.ID, "err", err)
	}
	d.messageAppended(ctx, got, note)
	d.conversationChanged(ctx, c, got, ChangeTransferred)
	if c.AssigneeID != "" {
		d.drainQueue(ctx) // the first agent has a slot more
	}
	return got, nil
}

// TransferRecord is a transfer with the names of the agents in it ("" for
// an account since deleted, or an unassigned start).
type TransferRecord struct {
	*parley.Transfer
	FromName, ToName, ByName string
}

// ListTransfers returns a conversation's transfers, oldest first, to an
// agent who sees it. EUNAUTHORIZED, EFORBIDDEN (visitors), ENOTFOUND.
func (d *Desk) ListTransfers(ctx context.Context, a Actor, id string) ([]TransferRecord, error) {
	const op = "desk.ListTransfers"
	c, err := d.authorized(ctx, a, ConversationHistory, op, id)
	if err != nil {
		return nil, err
	}
	ts, err := d.store.ListTransfers(ctx, c.ID)
	if err != nil {
		return nil, wrap(op, err)
	}
	names := map[string]string{"": ""}
	name := func(uid string) (string, error) {
		if n, ok := names[uid]; ok {
			return n, nil
		}
		u, err := d.store.GetUser(ctx, uid)
		switch {
		case parley.IsCode(err, parley.ENOTFOUND):
			names[uid] = ""
		case err != nil:
			return "", wrap(op, err)
		default:
			names[uid] = u.Name
		}
		return names[uid], nil
	}
	out := make([]TransferRecord, 0, len(ts))
	for _, t := range ts {
		r := TransferRecord{Transfer: t}
		if r.FromName, err = name(t.FromAgentID); err != nil {
			return nil, err
		}
		if r.ToName, err = name(t.ToAgentID); err != nil {
			return nil, err
		}
		if r.ByName, err = name(t.ByUserID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
