package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"sync"

	"github.com/parleychat/parley"
)

// Search runs on the FTS5 tables of migration 0005. The words come from
// parley.Tokenize; a query asks FTS5 for rows holding every term (whole word
// or prefix), newest first, and parley.SearchPlan.Rank checks phrases, scores
// and quotes the candidates, so both stores answer alike.

const (
	indexMessageDocSQL = `INSERT INTO message_search (message_id, conversation_id) VALUES (?, ?) RETURNING docid`
	// indexMessageDocSQL5 is the same before migration 6 gave
	// message_search its conversation id (which migration 6 then fills).
	indexMessageDocSQL5  = `INSERT INTO message_search (message_id) VALUES (?) RETURNING docid`
	indexMessageWordsSQL = `INSERT INTO messages_fts (rowid, words) VALUES (?, ?)`
	indexVocabularySQL   = `INSERT OR IGNORE INTO search_words (word) VALUES (?)`
	// A batch numbers its documents after the last one stored (the writer
	// is the only one inserting), then inserts them, and their FTS rows, in
	// one statement each, from one JSON array of [docid, message id,
	// conversation id, words].
	lastMessageDocSQL     = `SELECT coalesce(max(docid), 0) FROM message_search`
	indexMessagesDocsSQL  = `INSERT INTO message_search (docid, message_id, conversation_id) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`
	indexMessagesWordsSQL = `INSERT INTO messages_fts (rowid, words) SELECT value ->> 0, value ->> 3 FROM json_each(?)`
)

// indexMessage puts m's words in the search index, inside the transaction
// that inserts m. A message without words gets no index row; doc inserts
// its message_search row. Words known (nil: none) to be in search_words
// already are not inserted again.
func indexMessage(ctx context.Context, doc func(*parley.Message) *sql.Row, words, vocab *sql.Stmt, known *knownWords, m *parley.Message) error {
	ws := parley.IndexTokens(m.SearchText())
	if len(ws) == 0 {
		return nil
	}
	var docid int64
	if err := doc(m).Scan(&docid); err != nil {
		return err
	}
	if _, err := words.ExecContext(ctx, docid, strings.Join(ws, " ")); err != nil {
		return err
	}
	for _, w := range ws {
		if known.has(w) {
			continue
		}
		if _, err := vocab.ExecContext(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// searchBatch gathers the words of a batch of appends, to be written after
// the batch's last message. FTS5 keeps new rows in memory until a statement
// that may need rolling back begins (every append's UPDATE and INSERT do),
// and then writes them out as a new segment, which later merges cost again:
// indexed one by one, each message makes a segment of its own. Written last,
// in one statement, a batch makes one.
type searchBatch struct {
	known *knownWords
	docs  []searchDoc
	fresh []string        // words of the batch not known to be stored
	seen  map[string]bool // fresh, as a set
}

type searchDoc struct {
	messageID, conversationID string
	words                     string
}

func (s *Store) newSearchBatch() *searchBatch {
	return &searchBatch{known: s.words, seen: map[string]bool{}}
}

// add notes the words of m, just appended.
func (b *searchBatch) add(m *parley.Message) {
	ws := parley.IndexTokens(m.SearchText())
	if len(ws) == 0 {
		return
	}
	b.docs = append(b.docs, searchDoc{m.ID, m.ConversationID, strings.Join(ws, " ")})
	for _, w := range ws {
		if !b.seen[w] && !b.known.has(w) {
			b.seen[w] = true
			b.fresh = append(b.fresh, w)
		}
	}
}

// write inserts the batch's index rows: the documents and the vocabulary
// first, then every FTS row in one statement.
func (b *searchBatch) write(ctx context.Context, st *txStmts) error {
	if len(b.docs) == 0 {
		return nil
	}
	var last int64
	if err := st.lastDoc.QueryRowContext(ctx).Scan(&last); err != nil {
		return err
	}
	rows := make([][4]any, len(b.docs))
	for i, d := range b.docs {
		rows[i] = [4]any{last + int64(i) + 1, d.messageID, d.conversationID, d.words}
	}
	j, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	if _, err := st.searchDocs.ExecContext(ctx, string(j)); err != nil {
		return err
	}
	for _, w := range b.fresh {
		if _, err := st.vocab.ExecContext(ctx, w); err != nil {
			return err
		}
	}
	_, err = st.searchWordsBatch.ExecContext(ctx, string(j))
	return err
}

// knownWords remembers words stored in search_words, so that appends skip
// inserting them again; it learns only from committed batches. Words are
// never deleted from search_words, so a remembered word stays true. It
// holds at most maxKnownWords and starts over when full.
type knownWords struct {
	mu    sync.Mutex
	words map[string]struct{}
}

const maxKnownWords = 1 << 17

func (k *knownWords) has(w string) bool {
	if k == nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.words[w]
	return ok
}

// learn remembers the fresh words of a committed batch.
func (k *knownWords) learn(b *searchBatch) {
	if k == nil || b == nil || len(b.fresh) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.words == nil || len(k.words)+len(b.fresh) > maxKnownWords {
		k.words = make(map[string]struct{}, len(b.fresh))
	}
	for _, w := range b.fresh {
		k.words[w] = struct{}{}
	}
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
	if _, err = q.ExecContext(ctx, `INSERT INTO customers_fts (rowid, words) VALUES (?, ?)`, docid, strings.Join(ws, " ")); err != nil {
		return err
	}
	for _, w := range ws {
		if _, err := q.ExecContext(ctx, indexVocabularySQL, w); err != nil {
			return err
		}
	}
	return nil
}

// ftsQuery is the plan's terms as an FTS5 expression: each term a quoted
// string (our words hold only letters, digits and marks, and a quote would
// be doubled anyway), prefix terms starred, all joined by AND. Nothing of
// the user's input reaches FTS5 other than as a quoted word.
func ftsQuery(p *parley.SearchPlan) string { return p.Match(ftsSyntax) }

var ftsSyntax = parley.MatchSyntax{
	Quote: func(w string) string { return `"` + strings.ReplaceAll(w, `"`, `""`) + `"` },
	Or:    " OR ", And: " AND ", PrefixSuffix: "*",
}

// searchFilter is the query's conditions on conversation c (and message m,
// for message hits), and whether they need c at all.
func searchFilter(q parley.SearchQuery, messages bool) (string, []any, bool) {
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
	needsConv := len(conds) > 0
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
		return "", nil, needsConv
	}
	return " AND " + strings.Join(conds, " AND "), args, needsConv
}

// The candidate queries read only what ranking needs. The CROSS JOINs fix
// the join order: FTS5 yields matches newest first (docids rise with
// inserts) and each is looked up by key, so a query stops after
// MaxSearchCandidates+1 rows passed the filters. A filter on the
// conversation is checked from message_search's conversation id and an
// index that covers it, before the message is read.
const (
	candidateMessagesSQL = `SELECT m.id, m.conversation_id, m.kind, m.content, m.created_at
FROM messages_fts f
CROSS JOIN message_search d ON d.docid = f.rowid`
	candidateMessagesJoinSQL = `
CROSS JOIN messages m ON m.id = d.message_id`
	candidateConversationsJoinSQL = `
CROSS JOIN conversations c INDEXED BY conversations_search_filter ON c.id = d.conversation_id`
	// A customer's conversations come newest first from
	// conversations_customer, so ordering by the FTS row alone lets the
	// query stop at its limit.
	candidateCustomersSQL = `SELECT c.id, c.activity_at, cu.name, cu.email
FROM customers_fts f
CROSS JOIN customer_search d ON d.docid = f.rowid
CROSS JOIN customers cu ON cu.id = d.customer_id
CROSS JOIN conversations c INDEXED BY conversations_customer ON c.customer_id = d.customer_id
WHERE customers_fts MATCH ?`
)

// messageSearch is the statement that finds the candidate messages.
func messageSearch(q parley.SearchQuery, plan *parley.SearchPlan) (string, []any) {
	filter, fargs, needsConv := searchFilter(q, true)
	qs := candidateMessagesSQL
	if needsConv {
		qs += candidateConversationsJoinSQL
	}
	qs += candidateMessagesJoinSQL + "\nWHERE messages_fts MATCH ?" + filter + " ORDER BY f.rowid DESC LIMIT ?"
	return qs, append(append([]any{ftsQuery(plan)}, fargs...), parley.MaxSearchCandidates+1)
}

// customerSearch is the statement that finds the conversations of matching
// customers.
func customerSearch(q parley.SearchQuery, plan *parley.SearchPlan) (string, []any) {
	filter, fargs, _ := searchFilter(q, false)
	return candidateCustomersSQL + filter + " ORDER BY f.rowid DESC LIMIT ?",
		append(append([]any{ftsQuery(plan)}, fargs...), parley.MaxSearchCandidates+1)
}

// explainSearch returns SQLite's plans for q's message query and, after a
// line "-- customers", its customer query, for benchmarks and tests.
func (s *Store) explainSearch(ctx context.Context, q parley.SearchQuery) (string, error) {
	plan, err := parley.PlanSearch(q)
	if err != nil {
		return "", err
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := expandPrefixes(ctx, tx, plan); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, query := range []func(parley.SearchQuery, *parley.SearchPlan) (string, []any){messageSearch, customerSearch} {
		if i > 0 {
			b.WriteString("-- customers\n")
		}
		qs, args := query(q, plan)
		rows, err := tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+qs, args...)
		if err != nil {
			return "", err
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				rows.Close()
				return "", err
			}
			b.WriteString(detail + "\n")
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func inList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }

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
	cands, truncated, err := searchCandidates(ctx, tx, q, plan)
	if err != nil {
		return nil, translate(op, err)
	}
	hits, next := plan.Rank(cands)
	recs, err := searchRecords(ctx, tx, hits)
	if err != nil {
		return nil, translate(op, err)
	}
	return recs.Page(hits, next, truncated), nil
}

// expandPrefixes sets the words of each prefix term from the vocabulary. It
// returns false when a prefix starts no word: then nothing can match.
func expandPrefixes(ctx context.Context, tx *sql.Tx, plan *parley.SearchPlan) (bool, error) {
	for i := range plan.Terms {
		t := &plan.Terms[i]
		if !t.Prefix {
			continue
		}
		lo, hi := parley.PrefixRange(t.Text)
		q, args := `SELECT word FROM search_words WHERE word >= ?`, []any{lo}
		if hi != "" {
			q, args = q+` AND word < ?`, append(args, hi)
		}
		rows, err := tx.QueryContext(ctx, q+` ORDER BY word LIMIT ?`, append(args, parley.MaxPrefixWords+1)...)
		if err != nil {
			return false, err
		}
		var ws []string
		for rows.Next() {
			var w string
			if err := rows.Scan(&w); err != nil {
				rows.Close()
				return false, err
			}
			ws = append(ws, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		switch {
		case len(ws) == 0:
			return false, nil
		case len(ws) <= parley.MaxPrefixWords:
			t.Words = ws
		}
	}
	return true, nil
}

// searchCandidates runs the index queries.
func searchCandidates(ctx context.Context, tx *sql.Tx, q parley.SearchQuery, plan *parley.SearchPlan) ([]parley.SearchCandidate, bool, error) {
	var cands []parley.SearchCandidate
	truncated := false
	if len(plan.ConversationIDs) > 0 {
		filter, fargs, _ := searchFilter(q, false)
		args := make([]any, 0, len(plan.ConversationIDs)+len(fargs))
		for _, id := range plan.ConversationIDs {
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.activity_at FROM conversations c WHERE c.id IN `+
			inList(len(plan.ConversationIDs))+filter, append(args, fargs...)...)
		if err != nil {
			return nil, false, err
		}
		for rows.Next() {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, false, err
			}
			cands = append(cands, parley.SearchCandidate{Field: parley.FieldConversationID, ConversationID: id, At: fromMicros(at), Text: id})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
	}
	if len(plan.Terms) == 0 {
		return cands, false, nil
	}
	if ok, err := expandPrefixes(ctx, tx, plan); err != nil || !ok {
		return cands, false, err
	}
	qs, args := messageSearch(q, plan)
	rows, err := tx.QueryContext(ctx, qs, args...)
	if err != nil {
		return nil, false, err
	}
	files := map[string]int{} // file message id -> index in cands
	n := 0
	for rows.Next() {
		var c parley.SearchCandidate
		var kind parley.Kind
		var at int64
		if err := rows.Scan(&c.MessageID, &c.ConversationID, &kind, &c.Text, &at); err != nil {
			rows.Close()
			return nil, false, err
		}
		if n == parley.MaxSearchCandidates {
			truncated = true
			break
		}
		n++
		c.Field, c.At = parley.FieldMessage, fromMicros(at)
		if kind == parley.KindFile {
			files[c.MessageID] = len(cands)
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(files) > 0 {
		// A file message's text includes its file names.
		ms := make([]*parley.Message, 0, len(files))
		for id, i := range files {
			ms = append(ms, &parley.Message{ID: id, Kind: parley.KindFile, Content: cands[i].Text})
		}
		if err := loadAttachments(ctx, tx, ms); err != nil {
			return nil, false, err
		}
		for _, m := range ms {
			cands[files[m.ID]].Text = m.SearchText()
		}
	}

	qs, args = customerSearch(q, plan)
	rows, err = tx.QueryContext(ctx, qs, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	n = 0
	for rows.Next() {
		var c parley.SearchCandidate
		var at int64
		var name, email string
		if err := rows.Scan(&c.ConversationID, &at, &name, &email); err != nil {
			return nil, false, err
		}
		if n == parley.MaxSearchCandidates {
			truncated = true
			break
		}
		n++
		c.Field, c.At, c.Text = parley.FieldCustomer, fromMicros(at), parley.CustomerSearchText(name, email)
		cands = append(cands, c)
	}
	return cands, truncated, rows.Err()
}

// searchRecords reads the records of the page's hits.
func searchRecords(ctx context.Context, tx *sql.Tx, hits []parley.RankedHit) (parley.SearchRecords, error) {
	recs := parley.SearchRecords{Conversations: map[string]*parley.Conversation{}, Customers: map[string][2]string{},
		Messages: map[string]*parley.Message{}}
	var convIDs, msgIDs []any
	seen := map[string]bool{}
	for _, h := range hits {
		if !seen[h.ConversationID] {
			seen[h.ConversationID] = true
			convIDs = append(convIDs, h.ConversationID)
		}
		if h.MessageID != "" {
			msgIDs = append(msgIDs, h.MessageID)
		}
	}
	if len(convIDs) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT `+conversationColumnsOf+`, cu.name, cu.email
			FROM conversations c CROSS JOIN customers cu ON cu.id = c.customer_id WHERE c.id IN `+inList(len(convIDs)), convIDs...)
		if err != nil {
			return recs, err
		}
		for rows.Next() {
			var name, email string
			c, err := scanConversation(rows, &name, &email)
			if err != nil {
				rows.Close()
				return recs, err
			}
			recs.Conversations[c.ID], recs.Customers[c.ID] = c, [2]string{name, email}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return recs, err
		}
	}
	if len(msgIDs) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id IN `+inList(len(msgIDs)), msgIDs...)
		if err != nil {
			return recs, err
		}
		var ms []*parley.Message
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return recs, err
			}
			ms = append(ms, m)
			recs.Messages[m.ID] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return recs, err
		}
		if err := loadAttachments(ctx, tx, ms); err != nil {
			return recs, err
		}
	}
	return recs, nil
}

// fillSearchConversations gives the rows of message_search written before
// migration 0006 their message's conversation, inside the migration's
// transaction.
func fillSearchConversations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE message_search SET conversation_id =
		(SELECT m.conversation_id FROM messages m WHERE m.id = message_search.message_id)
		WHERE conversation_id IS NULL`)
	return err
}

// backfillSearch indexes what was stored before migration 0005, inside the
// migration's transaction.
func backfillSearch(ctx context.Context, tx *sql.Tx) error {
	doc, err := tx.PrepareContext(ctx, indexMessageDocSQL5)
	if err != nil {
		return err
	}
	defer doc.Close()
	insertDoc := func(m *parley.Message) *sql.Row { return doc.QueryRowContext(ctx, m.ID) }
	words, err := tx.PrepareContext(ctx, indexMessageWordsSQL)
	if err != nil {
		return err
	}
	defer words.Close()
	vocab, err := tx.PrepareContext(ctx, indexVocabularySQL)
	if err != nil {
		return err
	}
	defer vocab.Close()
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
			if err := indexMessage(ctx, insertDoc, words, vocab, nil, m); err != nil {
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
