package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parleychat/parley"
)

// Search runs on the FTS5 tables of migration 0005. The words come from
// parley.Tokenize; a query asks FTS5 for rows holding every term (whole word
// or prefix), newest first, and parley.SearchPlan.Rank checks phrases, scores
// and quotes the candidates, so both stores answer alike.

const (
	indexMessageDocSQL   = `INSERT INTO message_search (message_id) VALUES (?) RETURNING docid`
	indexMessageWordsSQL = `INSERT INTO messages_fts (rowid, words) VALUES (?, ?)`
)

// indexMessage puts m's words in the search index, inside the transaction
// that inserts m. A message without words gets no index row.
func indexMessage(ctx context.Context, doc, words *sql.Stmt, m *parley.Message) error {
	ws := parley.IndexTokens(m.SearchText())
	if len(ws) == 0 {
		return nil
	}
	var docid int64
	if err := doc.QueryRowContext(ctx, m.ID).Scan(&docid); err != nil {
		return err
	}
	_, err := words.ExecContext(ctx, docid, strings.Join(ws, " "))
	return err
}

// indexCustomer replaces the customer's words in the search index.
func indexCustomer(ctx context.Context, q dbtx, id, name, email string) error {
	var docid int64
	err := q.QueryRowContext(ctx, `INSERT INTO customer_search (customer_id) VALUES (?)
		ON CONFLICT (customer_id) DO UPDATE SET customer_id = excluded.customer_id RETURNING docid`, id).Scan(&docid)
	if err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM customers_fts WHERE rowid = ?`, docid); err != nil {
		return err
	}
	ws := parley.IndexTokens(name, email)
	if len(ws) == 0 {
		return nil
	}
	_, err = q.ExecContext(ctx, `INSERT INTO customers_fts (rowid, words) VALUES (?, ?)`, docid, strings.Join(ws, " "))
	return err
}

// ftsQuery is the plan's terms as an FTS5 expression: each term a quoted
// string (our words hold only letters, digits and marks, and a quote would
// be doubled anyway), prefix terms starred, all joined by AND. Nothing of
// the user's input reaches FTS5 other than as a quoted word.
func ftsQuery(p *parley.SearchPlan) string {
	parts := make([]string, len(p.Terms))
	for i, t := range p.Terms {
		s := `"` + strings.ReplaceAll(t.Text, `"`, `""`) + `"`
		if t.Prefix {
			s += "*"
		}
		parts[i] = s
	}
	return strings.Join(parts, " AND ")
}

// searchFilter is the query's conditions on conversation c (and message m,
// for message hits).
func searchFilter(q parley.SearchQuery, messages bool) (string, []any) {
	var conds []string
	var args []any
	if len(q.Statuses) > 0 {
		conds = append(conds, "c.status IN (?"+strings.Repeat(", ?", len(q.Statuses)-1)+")")
		for _, st := range q.Statuses {
			args = append(args, string(st))
		}
	}
	if q.AssigneeID != "" {
		conds = append(conds, "c.assignee_id = ?")
		args = append(args, q.AssigneeID)
	}
	if q.WaitingOrAssignedTo != "" {
		conds = append(conds, "(c.status = 'waiting' OR c.assignee_id = ?)")
		args = append(args, q.WaitingOrAssignedTo)
	}
	at := "c.created_at"
	if messages {
		at = "m.created_at"
		if q.ExcludeNotes {
			conds = append(conds, "m.kind <> 'note'")
		}
	}
	if !q.From.IsZero() {
		conds = append(conds, at+" >= ?")
		args = append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, at+" < ?")
		args = append(args, micros(q.To))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// The CROSS JOINs fix the join order: FTS5 yields matches newest first
// (docids rise with inserts) and each is looked up by key, so a page stops
// after MaxSearchCandidates+1 rows passed the filters.
const (
	searchMessagesSQL = `SELECT m.id, m.conversation_id, m.seq, m.client_msg_id, m.sender_id, m.sender_type, m.kind,
	m.content, m.created_at, m.metadata, ` + conversationColumnsOf + `, cu.name, cu.email
FROM messages_fts f
CROSS JOIN message_search d ON d.docid = f.rowid
CROSS JOIN messages m ON m.id = d.message_id
CROSS JOIN conversations c ON c.id = m.conversation_id
CROSS JOIN customers cu ON cu.id = c.customer_id
WHERE messages_fts MATCH ?`
	searchCustomersSQL = `SELECT ` + conversationColumnsOf + `, cu.name, cu.email
FROM customers_fts f
CROSS JOIN customer_search d ON d.docid = f.rowid
CROSS JOIN customers cu ON cu.id = d.customer_id
CROSS JOIN conversations c ON c.customer_id = d.customer_id
WHERE customers_fts MATCH ?`
	searchIDsSQL = `SELECT ` + conversationColumnsOf + `, cu.name, cu.email
FROM conversations c
CROSS JOIN customers cu ON cu.id = c.customer_id
WHERE c.id IN (`
)

// Search returns a page of hits for q, best first. EINVALID (see
// parley.PlanSearch).
func (s *Store) Search(ctx context.Context, q parley.SearchQuery) (*parley.SearchPage, error) {
	const op = "sqlite.Search"
	plan, err := parley.PlanSearch(q)
	if err != nil {
		return nil, err
	}
	if plan.Empty() {
		return &parley.SearchPage{}, nil
	}
	if s.isClosed() {
		return nil, closedError(op)
	}
	// One read transaction: every part of the page sees the same snapshot.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate(op, err)
	}
	defer tx.Rollback()
	var cands []parley.SearchCandidate
	truncated := false
	if len(plan.ConversationIDs) > 0 {
		filter, fargs := searchFilter(q, false)
		args := make([]any, 0, len(plan.ConversationIDs)+len(fargs))
		for _, id := range plan.ConversationIDs {
			args = append(args, id)
		}
		qs := searchIDsSQL + "?" + strings.Repeat(", ?", len(plan.ConversationIDs)-1) + ")" + filter
		cs, _, err := searchConversations(ctx, tx, qs, append(args, fargs...), parley.FieldConversationID, len(plan.ConversationIDs))
		if err != nil {
			return nil, translate(op, err)
		}
		cands = append(cands, cs...)
	}
	if len(plan.Terms) > 0 {
		match := ftsQuery(plan)
		filter, fargs := searchFilter(q, true)
		rows, err := tx.QueryContext(ctx, searchMessagesSQL+filter+" ORDER BY f.rowid DESC LIMIT ?",
			append(append([]any{match}, fargs...), parley.MaxSearchCandidates+1)...)
		if err != nil {
			return nil, translate(op, err)
		}
		var ms []*parley.Message
		for rows.Next() {
			var m parley.Message
			var clientID, sender sql.NullString
			var created int64
			var meta, name, email string
			dest := []any{&m.ID, &m.ConversationID, &m.Seq, &clientID, &sender, &m.SenderType, &m.Kind, &m.Content,
				&created, &meta}
			c, err := scanConversation(multiScan{rows, dest}, &name, &email)
			if err != nil {
				rows.Close()
				return nil, translate(op, err)
			}
			if m.Metadata, err = decodeMetadata(meta); err != nil {
				rows.Close()
				return nil, translate(op, err)
			}
			m.ClientMsgID, m.SenderID, m.CreatedAt = clientID.String, sender.String, fromMicros(created)
			if len(ms) == parley.MaxSearchCandidates {
				truncated = true
				break
			}
			ms = append(ms, &m)
			cands = append(cands, parley.SearchCandidate{Field: parley.FieldMessage, Conversation: c,
				CustomerName: name, CustomerEmail: email, Message: &m})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(op, err)
		}
		if err := loadAttachments(ctx, tx, ms); err != nil {
			return nil, translate(op, err)
		}

		filter, fargs = searchFilter(q, false)
		cs, more, err := searchConversations(ctx, tx, searchCustomersSQL+filter+" ORDER BY f.rowid DESC, c.created_at DESC LIMIT ?",
			append(append([]any{match}, fargs...), parley.MaxSearchCandidates+1), parley.FieldCustomer, parley.MaxSearchCandidates)
		if err != nil {
			return nil, translate(op, err)
		}
		truncated = truncated || more
		cands = append(cands, cs...)
	}
	return plan.Rank(cands, truncated), nil
}

// multiScan scans a row into dest, then the destinations a caller adds.
type multiScan struct {
	rows *sql.Rows
	dest []any
}

func (m multiScan) Scan(extra ...any) error { return m.rows.Scan(append(m.dest, extra...)...) }

// searchConversations reads rows of conversation columns, customer name and
// email as candidates, at most max of them (more tells whether there were).
func searchConversations(ctx context.Context, tx *sql.Tx, q string, args []any, field parley.SearchField, max int) (cands []parley.SearchCandidate, more bool, err error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, email string
		c, err := scanConversation(rows, &name, &email)
		if err != nil {
			return nil, false, err
		}
		if len(cands) == max {
			return cands, true, nil
		}
		cands = append(cands, parley.SearchCandidate{Field: field, Conversation: c, CustomerName: name, CustomerEmail: email})
	}
	return cands, false, rows.Err()
}

// backfillSearch indexes what was stored before migration 0005, inside the
// migration's transaction.
func backfillSearch(ctx context.Context, tx *sql.Tx) error {
	doc, err := tx.PrepareContext(ctx, indexMessageDocSQL)
	if err != nil {
		return err
	}
	defer doc.Close()
	words, err := tx.PrepareContext(ctx, indexMessageWordsSQL)
	if err != nil {
		return err
	}
	defer words.Close()
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT rowid, `+messageColumns+` FROM messages WHERE rowid > ? ORDER BY rowid LIMIT 500`, after)
		if err != nil {
			return err
		}
		var ms []*parley.Message
		for rows.Next() {
			var rowid int64
			m, err := scanMessage(multiScanFirst{rows, &rowid})
			if err != nil {
				rows.Close()
				return err
			}
			after = rowid
			ms = append(ms, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ms) == 0 {
			break
		}
		if err := loadAttachments(ctx, tx, ms); err != nil {
			return err
		}
		for _, m := range ms {
			if err := indexMessage(ctx, doc, words, m); err != nil {
				return err
			}
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, name, email FROM customers`)
	if err != nil {
		return err
	}
	type cust struct{ id, name, email string }
	var cs []cust
	for rows.Next() {
		var c cust
		if err := rows.Scan(&c.id, &c.name, &c.email); err != nil {
			rows.Close()
			return err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cs {
		if err := indexCustomer(ctx, tx, c.id, c.name, c.email); err != nil {
			return err
		}
	}
	return nil
}

// multiScanFirst scans one leading column into first, then the rest.
type multiScanFirst struct {
	rows  *sql.Rows
	first any
}

func (m multiScanFirst) Scan(dest ...any) error {
	return m.rows.Scan(append([]any{m.first}, dest...)...)
}
