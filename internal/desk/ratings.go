package desk

import (
	"context"
	"strings"

	"github.com/parleychat/parley"
)

// RateConversation records the visitor's satisfaction with their closed
// conversation: a score from 1 to 5 and an optional comment, once.
// EUNAUTHORIZED, EFORBIDDEN (agents), ENOTFOUND, EINVALID, ECONFLICT (not
// closed yet, or rated already).
func (d *Desk) RateConversation(ctx context.Context, a Actor, id string, score int, comment string) (*parley.Rating, error) {
	const op = "desk.RateConversation"
	c, err := d.authorized(ctx, a, ConversationRate, op, id)
	if err != nil {
		return nil, err
	}
	r := &parley.Rating{ConversationID: c.ID, Score: score, Comment: strings.TrimSpace(comment)}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if c.Status != parley.StatusClosed {
		return nil, parley.Errorf(parley.ECONFLICT, "A conversation can be rated once it has closed.")
	}
	if err := d.store.CreateRating(ctx, r); err != nil {
		switch parley.ErrorCode(err) {
		case parley.ECONFLICT:
			return nil, parley.Errorf(parley.ECONFLICT, "This conversation has been rated already.")
		case parley.ENOTFOUND:
			return nil, notFound("Conversation")
		}
		return nil, wrap(op, err)
	}
	d.conversationChanged(ctx, c, c, ChangeRated)
	return r, nil
}

// Rating returns the rating of a conversation the caller sees, nil when it
// has none. EUNAUTHORIZED, ENOTFOUND.
func (d *Desk) Rating(ctx context.Context, a Actor, id string) (*parley.Rating, error) {
	const op = "desk.Rating"
	c, err := d.authorized(ctx, a, ConversationView, op, id)
	if err != nil {
		return nil, err
	}
	r, err := d.store.GetRating(ctx, c.ID)
	if parley.IsCode(err, parley.ENOTFOUND) {
		return nil, nil
	}
	return r, wrap(op, err)
}
