package parley

import "time"

// QuickReply is a canned answer an agent inserts by its shortcut. OwnerID ""
// makes it shared with every agent; otherwise it is the owner's alone.
type QuickReply struct {
	ID        string
	OwnerID   string
	Shortcut  string // unique per owner (and among shared replies)
	Text      string // may hold variables such as {{customer.name}}
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits of quick reply fields.
const (
	MaxShortcutLen       = 50
	MaxQuickReplyTextLen = 5000
)

// Validate checks the fields a store writes. It returns EINVALID.
func (q *QuickReply) Validate() error {
	const op = "QuickReply.Validate"
	if err := checkID(op, "owner id", q.OwnerID, false); err != nil {
		return err
	}
	if err := checkText(op, "shortcut", q.Shortcut, MaxShortcutLen, true); err != nil {
		return err
	}
	return checkText(op, "text", q.Text, MaxQuickReplyTextLen, true)
}

// QuickReplyUpdate changes the non-nil fields of a quick reply.
type QuickReplyUpdate struct {
	Shortcut *string
	Text     *string
}

// SOPDocument is a standard operating procedure agents read while chatting.
type SOPDocument struct {
	ID        string
	Title     string
	Body      string // Markdown
	Tags      []string
	Version   int // 1 on creation, +1 on each update
	CreatedBy string
	UpdatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits of SOP fields.
const (
	MaxTitleLen   = 200
	MaxSOPBodyLen = 200000
	MaxTags       = 20
	MaxTagLen     = 50
)

// Validate checks the fields a store writes. It returns EINVALID.
func (d *SOPDocument) Validate() error {
	const op = "SOPDocument.Validate"
	if err := checkText(op, "title", d.Title, MaxTitleLen, true); err != nil {
		return err
	}
	if err := checkText(op, "body", d.Body, MaxSOPBodyLen, false); err != nil {
		return err
	}
	if len(d.Tags) > MaxTags {
		return Errorf(EINVALID, "at most %d tags", MaxTags)
	}
	for _, t := range d.Tags {
		if err := checkText(op, "tag", t, MaxTagLen, true); err != nil {
			return err
		}
	}
	if err := checkID(op, "created by", d.CreatedBy, true); err != nil {
		return err
	}
	return checkID(op, "updated by", d.UpdatedBy, true)
}

// SOPUpdate changes the non-nil fields of an SOP document. ExpectVersion, when
// non-zero, makes the update fail with ECONFLICT if the stored version differs.
type SOPUpdate struct {
	Title         *string
	Body          *string
	Tags          []string // replaces when non-nil
	UpdatedBy     string   // required
	ExpectVersion int
}
