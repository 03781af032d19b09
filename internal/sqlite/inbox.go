package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parleychat/parley"
)

// The inbox is the busiest read. A page must be an index range scan, never a
// sort of every selected conversation, and its totals must not count every
// conversation either:
//
//   - Each filter shape maps onto one or more "branches", each an equality
//     on a prefix of one (x, activity_at DESC, id DESC) index plus the
//     keyset bound. A branch reads at most limit+1 rows; several branches
//     (several statuses, or "waiting or assigned to me") are merged with
//     UNION ALL and cut to the page. Branches are disjoint, so no row is
//     listed twice.
//   - Total and UnreadConversations come from inbox_counts (kept by
//     triggers), minus the conversations the viewer has read up to their
//     last customer message, found through the viewer's participant rows.
//     A customer's conversations are few, so that filter counts directly.

var allStatuses = []parley.Status{parley.StatusWaiting, parley.StatusActive, parley.StatusClosed}

// inboxQuery is an InboxFilter checked and normalized.
type inboxQuery struct {
	statuses   []parley.Status // nil: any status
	assignee   string
	unassigned bool
	customer   string
	waitingOr  string
	viewer     string
	limit      int
	cursor     *cursor
}

func newInboxQuery(f parley.InboxFilter) (*inboxQuery, error) {
	limit, err := pageLimit(f.Limit, parley.DefaultPageSize, parley.MaxPageSize)
	if err != nil {
		return nil, err
	}
	q := &inboxQuery{assignee: f.AssigneeID, unassigned: f.Unassigned, customer: f.CustomerID,
		waitingOr: f.WaitingOrAssignedTo, viewer: f.Viewer, limit: limit}
	seen := map[parley.Status]bool{}
	for _, st := range f.Statuses {
		if !st.Valid() {
			return nil, parley.Errorf(parley.EINVALID, "status must be waiting, active or closed")
		}
		seen[st] = true
	}
	if len(seen) > 0 && len(seen) < len(allStatuses) {
		for _, st := range allStatuses {
			if seen[st] {
				q.statuses = append(q.statuses, st)
			}
		}
	}
	if f.Cursor != "" {
		cur, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		q.cursor = &cur
	}
	return q, nil
}

// where returns the filter's conditions on conversations c, without the
// status set (the branches carry it).
func (q *inboxQuery) where() ([]string, []any) {
	var conds []string
	var args []any
	if q.assignee != "" {
		conds = append(conds, "c.assignee_id = ?")
		args = append(args, q.assignee)
	}
	if q.unassigned {
		conds = append(conds, "c.assignee_id IS NULL")
	}
	if q.customer != "" {
		conds = append(conds, "c.customer_id = ?")
		args = append(args, q.customer)
	}
	if q.waitingOr != "" {
		conds = append(conds, "(c.status = 'waiting' OR c.assignee_id = ?)")
		args = append(args, q.waitingOr)
	}
	return conds, args
}

// statusWhere is the status set as a condition on alias.
func (q *inboxQuery) statusWhere(alias string) (string, []any) {
	if len(q.statuses) == 0 {
		return "", nil
	}
	args := make([]any, len(q.statuses))
	for i, st := range q.statuses {
		args[i] = string(st)
	}
	return alias + ".status IN (?" + strings.Repeat(", ?", len(args)-1) + ")", args
}

type branch struct {
	conds []string
	args  []any
}

// branches splits the selection into disjoint index-friendly parts.
func (q *inboxQuery) branches() []branch {
	statuses := q.statuses
	if len(statuses) == 0 && q.assignee == "" && !q.unassigned && q.customer == "" && q.waitingOr == "" {
		// Every conversation: the three status ranges of
		// conversations_status_activity, merged.
		statuses = allStatuses
	}
	statusParts := []branch{{}}
	if len(statuses) > 0 {
		statusParts = nil
		for _, st := range statuses {
			statusParts = append(statusParts, branch{conds: []string{"c.status = ?"}, args: []any{string(st)}})
		}
	}
	if q.waitingOr == "" {
		return statusParts
	}
	var out []branch
	for _, sp := range statusParts {
		status := ""
		if len(sp.args) > 0 {
			status = sp.args[0].(string)
		}
		// Waiting conversations, whoever has them.
		if status == "" || status == string(parley.StatusWaiting) {
			out = append(out, branch{
				conds: append(append([]string{}, sp.conds...), "c.status = 'waiting'"),
				args:  sp.args,
			})
		}
		// The viewer's own conversations that are not waiting.
		if status != string(parley.StatusWaiting) {
			out = append(out, branch{
				conds: append(append([]string{}, sp.conds...), "c.assignee_id = ?", "c.status <> 'waiting'"),
				args:  append(append([]any{}, sp.args...), q.waitingOr),
			})
		}
	}
	return out
}

// pageSQL returns the page query: ids and sort keys of up to limit+1 rows
// in a CTE, then the rows with the viewer's read mark and unread count.
func (q *inboxQuery) pageSQL() (string, []any) {
	common, commonArgs := q.where()
	var parts []string
	var args []any
	for _, b := range q.branches() {
		conds := append(append([]string{}, common...), b.conds...)
		bargs := append(append([]any{}, commonArgs...), b.args...)
		if q.cursor != nil {
			conds = append(conds, "(c.activity_at, c.id) < (?, ?)")
			bargs = append(bargs, q.cursor.at, q.cursor.id)
		}
		parts = append(parts, "SELECT c.id, c.activity_at FROM conversations c"+whereSQL(conds)+
			" ORDER BY c.activity_at DESC, c.id DESC LIMIT ?")
		args = append(args, bargs...)
		args = append(args, q.limit+1)
	}
	var page string
	if len(parts) == 1 {
		page = parts[0]
	} else {
		for i, p := range parts {
			parts[i] = "SELECT * FROM (" + p + ")"
		}
		page = strings.Join(parts, " UNION ALL ") + " ORDER BY activity_at DESC, id DESC LIMIT ?"
		args = append(args, q.limit+1)
	}
	sqlText := `WITH page (id, activity_at) AS (` + page + `)
SELECT ` + conversationColumnsOf + `, c.activity_at,
	CASE WHEN c.last_customer_seq > coalesce(p.last_read_seq, 0) THEN
		c.customer_messages - coalesce((SELECT m.customer_through FROM messages m
			WHERE m.conversation_id = c.id AND m.seq = p.last_read_seq), 0)
	ELSE 0 END,
	cu.name, cu.email
FROM page
CROSS JOIN conversations c ON c.id = page.id
CROSS JOIN customers cu ON cu.id = c.customer_id
LEFT JOIN participants p ON p.conversation_id = c.id AND p.user_id = ? AND p.user_type = 'agent'
ORDER BY page.activity_at DESC, page.id DESC`
	args = append(args, q.viewer)
	return sqlText, args
}

// ListConversations returns a page of the conversations f selects, newest
// activity first, with the viewer's unread counts and the totals. It pages
// by cursor, never OFFSET. EINVALID for a bad cursor, limit or status.
func (s *Store) ListConversations(ctx context.Context, f parley.InboxFilter) (*parley.InboxPage, error) {
	const op = "sqlite.ListConversations"
	q, err := newInboxQuery(f)
	if err != nil {
		return nil, err
	}
	// One read transaction: the page and the totals see the same snapshot.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate(op, err)
	}
	defer tx.Rollback()

	page := &parley.InboxPage{}
	sqlText, args := q.pageSQL()
	rows, err := tx.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	var lastAt int64
	for rows.Next() {
		var at int64
		var unread int
		var name, email string
		c, err := scanConversation(rows, &at, &unread, &name, &email)
		if err != nil {
			rows.Close()
			return nil, translate(op, err)
		}
		if len(page.Entries) == q.limit {
			last := page.Entries[q.limit-1].Conversation
			page.NextCursor = encodeCursor(fromMicros(lastAt), last.ID)
			break
		}
		page.Entries = append(page.Entries, parley.InboxEntry{Conversation: c, Unread: unread,
			CustomerName: name, CustomerEmail: email})
		lastAt = at
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(op, err)
	}
	if page.Total, page.UnreadConversations, err = q.totals(ctx, tx); err != nil {
		return nil, translate(op, err)
	}
	return page, nil
}

// totalsSQL returns the queries whose results make the totals: either one
// direct count (a customer's conversations), or a sum over inbox_counts
// followed, when there is a viewer, by a sum over inbox_read_counts: the
// conversations the viewer has read to their last customer message. Each
// returns two integers (total, unread) or one (read).
func (q *inboxQuery) totalsSQL() (direct bool, queries []string, args [][]any) {
	if q.customer != "" {
		common, cargs := q.where()
		if st, sargs := q.statusWhere("c"); st != "" {
			common = append(common, st)
			cargs = append(cargs, sargs...)
		}
		return true, []string{`SELECT count(*),
			coalesce(sum(c.last_customer_seq > coalesce(p.last_read_seq, 0)), 0)
			FROM conversations c
			LEFT JOIN participants p ON p.conversation_id = c.id AND p.user_id = ? AND p.user_type = 'agent'
			WHERE ` + strings.Join(common, " AND ")}, [][]any{append([]any{q.viewer}, cargs...)}
	}

	kconds, kargs := q.bucketConds("k")
	queries = append(queries, `SELECT coalesce(sum(conversations), 0), coalesce(sum(with_customer_messages), 0)
		FROM inbox_counts k`+whereSQL(kconds))
	args = append(args, kargs)
	if q.viewer != "" {
		rconds, rargs := q.bucketConds("r")
		queries = append(queries, `SELECT coalesce(sum(conversations), 0) FROM inbox_read_counts r`+
			whereSQL(append([]string{"r.user_id = ?"}, rconds...)))
		args = append(args, append([]any{q.viewer}, rargs...))
	}
	return false, queries, args
}

// bucketConds is the filter (other than a customer) as conditions on the
// (status, assignee_id) columns of inbox_counts or inbox_read_counts alias.
func (q *inboxQuery) bucketConds(alias string) ([]string, []any) {
	var conds []string
	var args []any
	if q.assignee != "" {
		conds = append(conds, alias+".assignee_id = ?")
		args = append(args, q.assignee)
	}
	if q.unassigned {
		conds = append(conds, alias+".assignee_id = ''")
	}
	if q.waitingOr != "" {
		conds = append(conds, "("+alias+".status = 'waiting' OR "+alias+".assignee_id = ?)")
		args = append(args, q.waitingOr)
	}
	if st, sargs := q.statusWhere(alias); st != "" {
		conds = append(conds, st)
		args = append(args, sargs...)
	}
	return conds, args
}

// whereSQL is " WHERE " and conds joined by AND, or "" without conditions.
func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// totals counts the selected conversations and those with unread customer
// messages for the viewer.
func (q *inboxQuery) totals(ctx context.Context, tx *sql.Tx) (total, unread int, err error) {
	_, queries, args := q.totalsSQL()
	if err = tx.QueryRowContext(ctx, queries[0], args[0]...).Scan(&total, &unread); err != nil {
		return 0, 0, err
	}
	if len(queries) > 1 {
		var read int
		if err = tx.QueryRowContext(ctx, queries[1], args[1]...).Scan(&read); err != nil {
			return 0, 0, err
		}
		unread -= read
	}
	return total, unread, nil
}

// fillReadCounts sets the bucket of every agent's read mark stored before
// migration 0007, inside the migration's transaction; the migration's
// triggers count them in inbox_read_counts.
func fillReadCounts(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE participants SET (caught_status, caught_assignee) =
		(SELECT c.status, coalesce(c.assignee_id, '') FROM conversations c
		 WHERE c.id = participants.conversation_id AND c.last_customer_seq > 0
		   AND c.last_customer_seq <= participants.last_read_seq)
	WHERE user_type = 'agent' AND caught_status IS NULL`)
	return err
}
