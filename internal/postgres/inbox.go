package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// pageColumns is conversationColumns qualified by the alias page.
var pageColumns = strings.ReplaceAll(conversationColumnsOf, "c.", "page.")

// inboxQuery is a ListConversations filter rendered as SQL: the FROM clause
// (with the viewer's read marks joined when there is a viewer), the WHERE
// conditions and their arguments.
type inboxQuery struct {
	from  string
	where []string
	args  []any
	// readSeq is the SQL for the viewer's last read seq of c.
	readSeq string
	// viewerArg is the placeholder of the viewer's id, "" without a viewer.
	viewerArg string
	// none is set when a malformed id makes the filter select nothing.
	none bool
	// buckets are the conditions of where on status and assignee, written
	// for the (status, assignee_id) columns of the inbox delta tables (alias
	// d). byCustomer marks a filter on a customer, which no bucket knows.
	buckets    []string
	byCustomer bool
}

// cond adds a condition on the conversation's status or assignee, which a
// bucket of the inbox counters answers too. sql names no column but
// c.status and c.assignee_id, and values only as placeholders or literal
// statuses, so renaming the alias is all the buckets need.
func (q *inboxQuery) cond(sql string) {
	q.where = append(q.where, sql)
	q.buckets = append(q.buckets, strings.ReplaceAll(sql, "c.", "d."))
}

func bucketsSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " AND " + strings.Join(conds, " AND ")
}

func (q *inboxQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + itoa(len(q.args))
}

func (q *inboxQuery) whereSQL() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// buildInboxQuery validates f and renders its filter. EINVALID for an
// unknown status.
func buildInboxQuery(f parley.InboxFilter) (*inboxQuery, error) {
	q := &inboxQuery{from: "conversations c", readSeq: "0"}
	if parley.ValidID(f.Viewer) {
		// At most one row per conversation: the join keys are participants'
		// primary key.
		q.viewerArg = q.arg(f.Viewer)
		q.from += " LEFT JOIN participants p ON p.conversation_id = c.id AND p.user_id = " +
			q.viewerArg + " AND p.user_type = 'agent'"
		q.readSeq = "coalesce(p.last_read_seq, 0)"
	}
	if len(f.Statuses) > 0 {
		set := map[parley.Status]bool{}
		var statuses []string
		for _, st := range f.Statuses {
			if !st.Valid() {
				return nil, parley.Errorf(parley.EINVALID, "status must be waiting, active or closed")
			}
			if !set[st] {
				set[st] = true
				statuses = append(statuses, string(st))
			}
		}
		switch len(statuses) {
		case 1:
			// An equality matches (status, activity_at, id) and pages in index order.
			q.cond("c.status = " + q.arg(statuses[0]))
		case 2:
			q.cond("c.status = ANY(" + q.arg(statuses) + "::text[])")
		}
	}
	if f.AssigneeID != "" {
		if !parley.ValidID(f.AssigneeID) {
			q.none = true
			return q, nil
		}
		q.cond("c.assignee_id = " + q.arg(f.AssigneeID) + "::uuid")
	}
	if f.Unassigned {
		q.cond("c.assignee_id IS NULL")
	}
	if f.CustomerID != "" {
		if !parley.ValidID(f.CustomerID) {
			q.none = true
			return q, nil
		}
		q.where = append(q.where, "c.customer_id = "+q.arg(f.CustomerID)+"::uuid")
		q.byCustomer = true
	}
	if f.WaitingOrAssignedTo != "" {
		if parley.ValidID(f.WaitingOrAssignedTo) {
			q.cond("(c.status = 'waiting' OR c.assignee_id = " + q.arg(f.WaitingOrAssignedTo) + "::uuid)")
		} else {
			q.cond("c.status = 'waiting'")
		}
	}
	return q, nil
}

// inboxStatements are the two queries of one ListConversations call.
type inboxStatements struct {
	limit      int
	page       string
	pageArgs   []any
	totals     string
	totalsArgs []any
	none       bool // the filter selects nothing; run no query
}

// inboxSQL validates f and renders the page and totals queries for it.
// EINVALID for a bad cursor, limit or status.
func inboxSQL(f parley.InboxFilter) (*inboxStatements, error) {
	limit, err := checkLimit(f.Limit, parley.DefaultPageSize, parley.MaxPageSize)
	if err != nil {
		return nil, err
	}
	var after *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	q, err := buildInboxQuery(f)
	if err != nil {
		return nil, err
	}
	st := &inboxStatements{limit: limit, none: q.none}
	if q.byCustomer {
		// A customer's conversations are few: count them.
		st.totals = `SELECT count(*), count(*) FILTER (WHERE c.last_customer_seq > ` + q.readSeq + `) FROM ` +
			q.from + q.whereSQL()
	} else {
		// Sums over the buckets the filter selects (see migration 0006):
		// the conversations, those with a customer message, less those of
		// them the viewer has read to their last customer message.
		b := bucketsSQL(q.buckets)
		st.totals = `SELECT coalesce(sum(d.conversations), 0)::bigint, coalesce(sum(d.with_customer), 0)::bigint`
		if q.viewerArg != "" {
			st.totals += ` - (SELECT coalesce(sum(d.conversations), 0)::bigint FROM inbox_read_deltas d
				WHERE d.user_id = ` + q.viewerArg + b + `)`
		}
		st.totals += ` FROM inbox_count_deltas d WHERE true` + b
	}
	st.totalsArgs = append([]any(nil), q.args...)

	if after != nil {
		q.where = append(q.where, "(c.activity_at, c.id) < ("+q.arg(after.at)+"::timestamptz, "+q.arg(after.id)+"::uuid)")
	}
	// The inner query picks the page along an index; unread counts are
	// computed for its rows only, with the partial index on customer
	// messages, and only where the conversation has unread customer messages.
	// The customer's name and email are joined to the page's rows only, one
	// primary-key probe each.
	st.page = `SELECT ` + pageColumns + `, page.activity_at,
		CASE WHEN page.last_customer_seq > page.read_seq THEN (
			SELECT count(*) FROM messages m
			WHERE m.conversation_id = page.id AND m.sender_type = 'customer' AND m.seq > page.read_seq
		) ELSE 0 END,
		cu.name, cu.email
	FROM (
		SELECT ` + conversationColumnsOf + `, c.activity_at, ` + q.readSeq + ` AS read_seq
		FROM ` + q.from + q.whereSQL() + `
		ORDER BY c.activity_at DESC, c.id DESC
		LIMIT ` + q.arg(limit+1) + `
	) AS page
	JOIN customers cu ON cu.id = page.customer_id
	ORDER BY page.activity_at DESC, page.id DESC`
	st.pageArgs = q.args
	return st, nil
}

// ListConversations returns a page of the conversations f selects, newest
// activity first, with the viewer's unread counts and the totals, in one
// round trip: the page and the totals go as one batch. It pages by keyset on
// (activity_at, id), never OFFSET, so every page costs the same. EINVALID
// for a bad cursor, limit or status.
func (s *Store) ListConversations(ctx context.Context, f parley.InboxFilter) (*parley.InboxPage, error) {
	const op = "postgres.ListConversations"
	st, err := inboxSQL(f)
	if err != nil {
		return nil, err
	}
	page := &parley.InboxPage{Entries: []parley.InboxEntry{}}
	if st.none {
		return page, nil
	}
	limit := st.limit
	b := &pgx.Batch{}
	b.Queue(st.page, st.pageArgs...)
	b.Queue(st.totals, st.totalsArgs...)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()

	rows, err := br.Query()
	if err != nil {
		return nil, translate(op, err)
	}
	var activity []time.Time // each entry's activity_at, for the cursor
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.InboxEntry, error) {
		var c parley.Conversation
		var at time.Time
		var unread int
		var name, email string
		dest, finish := conversationDest(&c)
		if err := r.Scan(append(dest, &at, &unread, &name, &email)...); err != nil {
			return parley.InboxEntry{}, err
		}
		activity = append(activity, at)
		return parley.InboxEntry{Conversation: &c, Unread: unread, CustomerName: name, CustomerEmail: email}, finish()
	})
	if err != nil {
		return nil, translate(op, err)
	}
	if err := br.QueryRow().Scan(&page.Total, &page.UnreadConversations); err != nil {
		return nil, translate(op, err)
	}
	if err := br.Close(); err != nil {
		return nil, translate(op, err)
	}
	if len(entries) > limit {
		entries = entries[:limit]
		page.NextCursor = encodeCursor(activity[limit-1], entries[limit-1].Conversation.ID)
	}
	page.Entries = entries
	return page, nil
}
