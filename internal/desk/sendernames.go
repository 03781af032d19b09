package desk

import (
	"context"

	"github.com/parleychat/parley"
)

// senderName is the name a's messages carry: an agent's current name; a
// visitor's messages carry none (agents know the customer from the
// conversation, and a visitor knows who they are).
func (a Actor) senderName() string {
	if a.IsAgent() {
		return a.User.Name
	}
	return ""
}

// nameSenders fills SenderName on the agents' messages of ms, with one
// lookup for the page whatever its length (never one per message), so a
// widget shows who answered without guessing from presence frames. An
// account deleted since keeps "".
func (d *Desk) nameSenders(ctx context.Context, ms []*parley.Message) error {
	var ids []string
	for _, m := range ms {
		if m.SenderType == parley.SenderAgent && m.SenderID != "" {
			ids = append(ids, m.SenderID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names, err := d.store.UserNames(ctx, ids)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.SenderType == parley.SenderAgent {
			m.SenderName = names[m.SenderID]
		}
	}
	return nil
}
