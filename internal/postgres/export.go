package postgres

import (
	"context"
	"time"

	"github.com/parleychat/parley"
)

// ExportConversations walks the conversations created in [f.From, f.To),
// oldest first, and their messages, handing each to visit. Every page is its
// own short query, fully read before visit sees it, so a slow reader of the
// export holds no connection. EINVALID; visit's errors as they are.
func (s *Store) ExportConversations(ctx context.Context, f parley.ExportFilter, visit parley.ExportVisitor) error {
	const op = "postgres.ExportConversations"
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return parley.Errorf(parley.EINVALID, "from must be before to")
	}
	size, err := checkLimit(f.PageSize, parley.DefaultExportPage, parley.MaxMessagePage)
	if err != nil {
		return err
	}
	// The statement names only the bounds in use, so each shape gets a plan
	// that walks the (created_at, id) index.
	build := func(afterAt *time.Time, afterID string) (string, sqlArgs) {
		var args sqlArgs
		where := "TRUE"
		if afterAt != nil {
			where += " AND (c.created_at, c.id) > (" + args.add(*afterAt) + ", " + args.add(afterID) + "::uuid)"
		}
		if !f.From.IsZero() {
			where += " AND c.created_at >= " + args.add(utc(f.From))
		}
		if !f.To.IsZero() {
			where += " AND c.created_at < " + args.add(utc(f.To))
		}
		return `SELECT ` + conversationColumnsOf + `, ` + customerColumnsOf + `
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id
		WHERE ` + where + ` ORDER BY c.created_at, c.id LIMIT ` + args.add(size), args
	}
	type row struct {
		c  *parley.Conversation
		cu *parley.Customer
	}
	var afterAt *time.Time
	var afterID string
	for {
		q, args := build(afterAt, afterID)
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return translate(op, err)
		}
		var page []row
		for rows.Next() {
			var c parley.Conversation
			var cu parley.Customer
			dest, finish := conversationDest(&c)
			cuDest, cuFinish := customerDest(&cu)
			if err := rows.Scan(append(dest, cuDest...)...); err != nil {
				rows.Close()
				return translate(op, err)
			}
			err := finish()
			if err == nil {
				err = cuFinish()
			}
			if err != nil {
				rows.Close()
				return translate(op, err)
			}
			page = append(page, row{&c, &cu})
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
		at := last.CreatedAt
		afterAt, afterID = &at, last.ID
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
