package sqlite

import (
	"context"

	"github.com/parleychat/parley"
)

// exportPage checks an export's page size: 0 means the default.
func exportPage(f parley.ExportFilter) (int, error) {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return 0, parley.Errorf(parley.EINVALID, "from must be before to")
	}
	return pageLimit(f.PageSize, parley.DefaultExportPage, parley.MaxMessagePage)
}

// ExportConversations walks the conversations created in [f.From, f.To),
// oldest first, and their messages, handing each to visit. Every page is its
// own short read, fully read before visit sees it, so a slow reader of the
// export holds no connection and no snapshot. EINVALID; visit's errors as
// they are.
func (s *Store) ExportConversations(ctx context.Context, f parley.ExportFilter, visit parley.ExportVisitor) error {
	const op = "sqlite.ExportConversations"
	size, err := exportPage(f)
	if err != nil {
		return err
	}
	var conds string
	var args []any
	if !f.From.IsZero() {
		conds += " AND c.created_at >= ?"
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		conds += " AND c.created_at < ?"
		args = append(args, micros(f.To))
	}
	q := `SELECT ` + conversationColumnsOf + `, cu.id, cu.token_hash, cu.name, cu.email, cu.user_agent, cu.ip,
		cu.location, cu.metadata, cu.first_seen, cu.last_seen
		FROM conversations c CROSS JOIN customers cu ON cu.id = c.customer_id
		WHERE (c.created_at, c.id) > (?, ?)` + conds + ` ORDER BY c.created_at, c.id LIMIT ?`
	type row struct {
		c  *parley.Conversation
		cu *parley.Customer
	}
	afterAt, afterID := int64(-1<<63), ""
	for {
		if s.isClosed() {
			return closedError(op)
		}
		rows, err := s.rq.QueryContext(ctx, q, append(append([]any{afterAt, afterID}, args...), size)...)
		if err != nil {
			return translate(op, err)
		}
		var page []row
		for rows.Next() {
			var r row
			var err error
			r.c, err = scanConversation(scanFunc(func(convDest ...any) error {
				var err error
				r.cu, err = scanCustomer(scanFunc(func(custDest ...any) error {
					return rows.Scan(append(convDest, custDest...)...)
				}))
				return err
			}))
			if err != nil {
				rows.Close()
				return translate(op, err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(op, err)
		}
		for _, r := range page {
			if err := visit.Conversation(r.c, r.cu); err != nil {
				return err
			}
			if err := s.exportMessages(ctx, r.c.ID, f.ExcludeNotes, size, visit); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		last := page[len(page)-1].c
		afterAt, afterID = micros(last.CreatedAt), last.ID
	}
}

// exportMessages hands a conversation's messages to visit, a page at a time.
func (s *Store) exportMessages(ctx context.Context, convID string, excludeNotes bool, size int, visit parley.ExportVisitor) error {
	var after int64
	for {
		ms, err := s.ListMessages(ctx, convID, parley.MessageFilter{AfterSeq: after, Limit: size, ExcludeNotes: excludeNotes})
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := visit.Message(m); err != nil {
				return err
			}
		}
		if len(ms) < size {
			return nil
		}
		after = ms[len(ms)-1].Seq
	}
}

// scanFunc lets a scan of several records' columns be composed.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
