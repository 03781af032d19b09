package desk

import (
	"context"
	"strings"

	"github.com/parleychat/parley"
)

// SOP documents: every agent reads and searches them; team leads and
// admins write them, each change kept as a version. Markdown is stored as
// given: rendering it safely is the UI's job.

// NewSOP is a document to create.
type NewSOP struct {
	Title string
	Body  string
	Tags  []string
}

// SOPChange changes the non-nil fields of a document written at
// ExpectVersion (required: a stale version is ECONFLICT, not a lost edit).
type SOPChange struct {
	Title         *string
	Body          *string
	Tags          []string
	ExpectVersion int
}

// cleanTags trims tags and drops empty and repeated ones.
func cleanTags(tags []string) []string {
	if tags == nil {
		return nil
	}
	out := []string{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		dup := t == ""
		for _, o := range out {
			dup = dup || o == t
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}

func sopNotFound(err error, op string) error {
	if parley.IsCode(err, parley.ENOTFOUND) {
		return notFound("Document")
	}
	return wrap(op, err)
}

// SearchSOPs lists documents by title: all of them, or those whose title,
// body or tags contain query, and with tag when given. EUNAUTHORIZED,
// EFORBIDDEN (visitors), EINVALID.
func (d *Desk) SearchSOPs(ctx context.Context, a Actor, f parley.SOPFilter) ([]*parley.SOPDocument, error) {
	if _, err := allow(a, SOPRead); err != nil {
		return nil, err
	}
	if len(f.Query) > 200 || len(f.Tag) > parley.MaxTagLen*4 {
		return nil, parley.Errorf(parley.EINVALID, "the search is too long")
	}
	ds, err := d.store.SearchSOPs(ctx, f)
	if parley.IsCode(err, parley.EINVALID) {
		return nil, err
	}
	return ds, wrap("desk.SearchSOPs", err)
}

// GetSOP returns a document. EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND.
func (d *Desk) GetSOP(ctx context.Context, a Actor, id string) (*parley.SOPDocument, error) {
	if _, err := allow(a, SOPRead); err != nil {
		return nil, err
	}
	doc, err := d.store.GetSOP(ctx, id)
	if err != nil {
		return nil, sopNotFound(err, "desk.GetSOP")
	}
	return doc, nil
}

// CreateSOP creates a document at version 1. EUNAUTHORIZED, EFORBIDDEN
// (below team lead), EINVALID.
func (d *Desk) CreateSOP(ctx context.Context, a Actor, in NewSOP) (*parley.SOPDocument, error) {
	if _, err := allow(a, SOPEdit); err != nil {
		return nil, err
	}
	doc := &parley.SOPDocument{Title: strings.TrimSpace(in.Title), Body: in.Body, Tags: cleanTags(in.Tags),
		CreatedBy: a.ID(), UpdatedBy: a.ID()}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	if err := d.store.CreateSOP(ctx, doc); err != nil {
		return nil, wrap("desk.CreateSOP", err)
	}
	return doc, nil
}

// UpdateSOP changes a document, making a new version. EUNAUTHORIZED,
// EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT (ExpectVersion is stale).
func (d *Desk) UpdateSOP(ctx context.Context, a Actor, id string, ch SOPChange) (*parley.SOPDocument, error) {
	const op = "desk.UpdateSOP"
	if _, err := allow(a, SOPEdit); err != nil {
		return nil, err
	}
	if ch.ExpectVersion < 1 {
		return nil, parley.Errorf(parley.EINVALID, "expectVersion is required: the version the change was made on")
	}
	if ch.Title != nil {
		ch.Title = ptr(strings.TrimSpace(*ch.Title))
	}
	doc, err := d.store.UpdateSOP(ctx, id, parley.SOPUpdate{Title: ch.Title, Body: ch.Body, Tags: cleanTags(ch.Tags),
		UpdatedBy: a.ID(), ExpectVersion: ch.ExpectVersion})
	if err != nil {
		switch parley.ErrorCode(err) {
		case parley.ECONFLICT:
			if cur, gerr := d.store.GetSOP(ctx, id); gerr == nil {
				return nil, parley.Errorf(parley.ECONFLICT, "The document was changed meanwhile (it is at version %d now); reload it and try again.", cur.Version)
			}
			return nil, err
		case parley.EINVALID:
			return nil, err
		}
		return nil, sopNotFound(err, op)
	}
	return doc, nil
}

// DeleteSOP removes a document with its versions and pins. EUNAUTHORIZED,
// EFORBIDDEN, ENOTFOUND.
func (d *Desk) DeleteSOP(ctx context.Context, a Actor, id string) error {
	if _, err := allow(a, SOPEdit); err != nil {
		return err
	}
	if err := d.store.DeleteSOP(ctx, id); err != nil {
		return sopNotFound(err, "desk.DeleteSOP")
	}
	return nil
}

// SOPVersions returns a document's versions, newest first. EUNAUTHORIZED,
// EFORBIDDEN, ENOTFOUND.
func (d *Desk) SOPVersions(ctx context.Context, a Actor, id string) ([]*parley.SOPVersion, error) {
	if _, err := d.GetSOP(ctx, a, id); err != nil {
		return nil, err
	}
	vs, err := d.store.ListSOPVersions(ctx, id)
	return vs, wrap("desk.SOPVersions", err)
}

// PinSOP pins a document to a conversation the caller sees (again: no
// change). EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND (conversation or document).
func (d *Desk) PinSOP(ctx context.Context, a Actor, conversationID, documentID string) error {
	const op = "desk.PinSOP"
	c, err := d.authorized(ctx, a, ConversationPin, op, conversationID)
	if err != nil {
		return err
	}
	if _, err := d.store.GetSOP(ctx, documentID); err != nil {
		return sopNotFound(err, op)
	}
	if err := d.store.PinSOP(ctx, c.ID, documentID, a.ID()); err != nil {
		return sopNotFound(err, op)
	}
	return nil
}

// UnpinSOP removes a pin. EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND (also when
// the document is not pinned there).
func (d *Desk) UnpinSOP(ctx context.Context, a Actor, conversationID, documentID string) error {
	const op = "desk.UnpinSOP"
	c, err := d.authorized(ctx, a, ConversationPin, op, conversationID)
	if err != nil {
		return err
	}
	if err := d.store.UnpinSOP(ctx, c.ID, documentID); err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return parley.Errorf(parley.ENOTFOUND, "The document is not pinned to this conversation.")
		}
		return wrap(op, err)
	}
	return nil
}

// PinnedSOPs lists the documents pinned to a conversation the caller
// sees, oldest pin first. EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND.
func (d *Desk) PinnedSOPs(ctx context.Context, a Actor, conversationID string) ([]*parley.PinnedSOP, error) {
	const op = "desk.PinnedSOPs"
	c, err := d.authorized(ctx, a, ConversationPin, op, conversationID)
	if err != nil {
		return nil, err
	}
	ps, err := d.store.ListPinnedSOPs(ctx, c.ID)
	return ps, wrap(op, err)
}
