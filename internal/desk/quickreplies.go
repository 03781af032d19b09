package desk

import (
	"context"
	"strings"
	"unicode"

	"github.com/parleychat/parley"
)

// Quick replies: every agent has their own and uses the shared ones; team
// leads and admins manage the shared ones. Another agent's personal reply
// is answered like a missing one.

// NewQuickReply is what an agent gives to create a quick reply.
type NewQuickReply struct {
	Shortcut string
	Text     string
	Shared   bool // a team lead's reply for everyone
}

// checkShortcut allows letters, digits and - _ . / : a shortcut is typed
// after "/" in the composer, so no spaces.
func checkShortcut(s string) error {
	if s == "" {
		return parley.Errorf(parley.EINVALID, "shortcut is required")
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_./", r) {
			return parley.Errorf(parley.EINVALID, "shortcut may hold letters, digits and - _ . / only")
		}
	}
	return nil
}

func quickReplyConflict(err error) error {
	if parley.IsCode(err, parley.ECONFLICT) {
		return parley.Errorf(parley.ECONFLICT, "A quick reply with that shortcut exists.")
	}
	return err
}

// ListQuickReplies returns the shared quick replies and the caller's own,
// by shortcut. EUNAUTHORIZED, EFORBIDDEN (visitors).
func (d *Desk) ListQuickReplies(ctx context.Context, a Actor) ([]*parley.QuickReply, error) {
	if _, err := allow(a, QuickReplyOwn); err != nil {
		return nil, err
	}
	qs, err := d.store.ListQuickReplies(ctx, a.ID())
	return qs, wrap("desk.ListQuickReplies", err)
}

// CreateQuickReply creates a personal quick reply, or a shared one (team
// leads and admins). EUNAUTHORIZED, EFORBIDDEN, EINVALID, ECONFLICT
// (shortcut taken).
func (d *Desk) CreateQuickReply(ctx context.Context, a Actor, in NewQuickReply) (*parley.QuickReply, error) {
	const op = "desk.CreateQuickReply"
	if _, err := allow(a, QuickReplyOwn); err != nil {
		return nil, err
	}
	q := &parley.QuickReply{OwnerID: a.ID(), Shortcut: in.Shortcut, Text: in.Text}
	if in.Shared {
		if _, err := allow(a, QuickReplyShared); err != nil {
			return nil, err
		}
		q.OwnerID = ""
	}
	if err := checkShortcut(q.Shortcut); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := d.store.CreateQuickReply(ctx, q); err != nil {
		return nil, wrap(op, quickReplyConflict(err))
	}
	return q, nil
}

// quickReply loads a reply the caller may use: shared, or their own.
func (d *Desk) quickReply(ctx context.Context, a Actor, id string) (*parley.QuickReply, error) {
	if _, err := allow(a, QuickReplyOwn); err != nil {
		return nil, err
	}
	q, err := d.store.GetQuickReply(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("Quick reply")
		}
		return nil, wrap("desk.quickReply", err)
	}
	if q.OwnerID != "" && q.OwnerID != a.ID() {
		return nil, notFound("Quick reply")
	}
	return q, nil
}

// writableQuickReply loads a reply the caller may change: their own, or a
// shared one for team leads and admins.
func (d *Desk) writableQuickReply(ctx context.Context, a Actor, id string) (*parley.QuickReply, error) {
	q, err := d.quickReply(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if q.OwnerID == "" {
		if _, err := allow(a, QuickReplyShared); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// UpdateQuickReply changes a quick reply's shortcut or text. EUNAUTHORIZED,
// EFORBIDDEN (a shared one below team lead), ENOTFOUND, EINVALID, ECONFLICT.
func (d *Desk) UpdateQuickReply(ctx context.Context, a Actor, id string, up parley.QuickReplyUpdate) (*parley.QuickReply, error) {
	const op = "desk.UpdateQuickReply"
	if _, err := d.writableQuickReply(ctx, a, id); err != nil {
		return nil, err
	}
	if up.Shortcut != nil {
		if err := checkShortcut(*up.Shortcut); err != nil {
			return nil, err
		}
	}
	q, err := d.store.UpdateQuickReply(ctx, id, up)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("Quick reply")
		}
		return nil, wrap(op, quickReplyConflict(err))
	}
	return q, nil
}

// DeleteQuickReply removes a quick reply. EUNAUTHORIZED, EFORBIDDEN,
// ENOTFOUND.
func (d *Desk) DeleteQuickReply(ctx context.Context, a Actor, id string) error {
	if _, err := d.writableQuickReply(ctx, a, id); err != nil {
		return err
	}
	if err := d.store.DeleteQuickReply(ctx, id); err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return notFound("Quick reply")
		}
		return wrap("desk.DeleteQuickReply", err)
	}
	return nil
}

// ExpandQuickReply returns a quick reply's text with its variables filled
// in for a conversation the caller sees (see ExpandVariables).
// EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND (reply or conversation).
func (d *Desk) ExpandQuickReply(ctx context.Context, a Actor, id, conversationID string) (string, error) {
	const op = "desk.ExpandQuickReply"
	q, err := d.quickReply(ctx, a, id)
	if err != nil {
		return "", err
	}
	c, err := d.authorized(ctx, a, ConversationView, op, conversationID)
	if err != nil {
		return "", err
	}
	cu, err := d.store.GetCustomer(ctx, c.CustomerID)
	if err != nil && !parley.IsCode(err, parley.ENOTFOUND) {
		return "", wrap(op, err)
	}
	vars := map[string]string{"agent.name": a.User.Name, "conversation.id": c.ID, "customer.name": "", "customer.email": ""}
	if cu != nil {
		vars["customer.name"], vars["customer.email"] = cu.Name, cu.Email
	}
	return ExpandVariables(q.Text, vars), nil
}

// ExpandVariables replaces each {{name}} in text (spaces inside the braces
// allowed) by vars[name], in one pass: a value is never read as a template
// itself, and an unknown name is left as written.
func ExpandVariables(text string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i+2:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(text[:i])
		whole := text[i : i+2+j+2]
		if v, ok := vars[strings.TrimSpace(text[i+2:i+2+j])]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(whole)
		}
		text = text[i+2+j+2:]
	}
	b.WriteString(text)
	return b.String()
}
