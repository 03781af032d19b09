package postgres

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// Search runs on the tsvector columns of migration 0005. The words come from
// parley.Tokenize; a query asks the GIN indexes for rows holding every term
// (whole lexeme or prefix), newest first, and parley.SearchPlan.Rank checks
// phrases, scores and quotes the candidates, so both stores answer alike.

// searchWords returns the index words of texts, never nil (a nil array
// would be NULL, and the column is NOT NULL).
func searchWords(texts ...string) []string {
	ws := parley.IndexTokens(texts...)
	if ws == nil {
		ws = []string{}
	}
	return ws
}

// tsQuery is the plan's terms as tsquery text: each term a quoted lexeme
// (quotes and backslashes escaped, though our words hold neither), prefix
// terms with :*, all joined by &. Cast with ::tsquery, it is read as
// lexemes, not parsed into words, so nothing of the user's input is taken
// as an operator.
func tsQuery(p *parley.SearchPlan) string { return p.Match(tsSyntax) }

var tsSyntax = parley.MatchSyntax{
	Quote: func(w string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(w, `\`, `\\`), "'", "''") + "'"
	},
	Or: " | ", And: " & ", PrefixSuffix: ":*",
}

// sqlArgs numbers the arguments of a statement as they are added.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + itoa(len(*a))
}

// searchFilter appends the query's conditions on conversation c (and message
// m, for message hits), and tells whether they need c at all.
func searchFilter(q parley.SearchQuery, messages bool, args *sqlArgs) (string, bool) {
	var conds []string
	if len(q.Statuses) > 0 {
		ss := make([]string, len(q.Statuses))
		for i, st := range q.Statuses {
			ss[i] = string(st)
		}
		conds = append(conds, "c.status = ANY("+args.add(ss)+"::text[])")
	}
	if q.AssigneeID != "" {
		conds = append(conds, "c.assignee_id = "+args.add(q.AssigneeID))
	}
	if q.WaitingOrAssignedTo != "" {
		conds = append(conds, "(c.status = 'waiting' OR c.assignee_id = "+args.add(q.WaitingOrAssignedTo)+")")
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
		conds = append(conds, at+" >= "+args.add(utc(q.From)))
	}
	if !q.To.IsZero() {
		conds = append(conds, at+" < "+args.add(utc(q.To)))
	}
	if len(conds) == 0 {
		return "", needsConv
	}
	return " AND " + strings.Join(conds, " AND "), needsConv
}

// messageSearch is the statement that finds the candidate messages: only
// what ranking needs, newest first; with since set, among the messages
// created since then only (see searchWindow).
func messageSearch(q parley.SearchQuery, plan *parley.SearchPlan, since time.Time) (string, sqlArgs) {
	args := sqlArgs{tsQuery(plan)}
	filter, needsConv := searchFilter(q, true, &args)
	qs := `SELECT m.id, m.conversation_id, m.kind, m.content, m.created_at FROM messages m`
	if needsConv {
		qs += ` JOIN conversations c ON c.id = m.conversation_id`
	}
	qs += ` WHERE m.search @@ $1::tsquery` + filter
	if !since.IsZero() {
		qs += ` AND m.created_at >= ` + args.add(since)
	}
	qs += " ORDER BY m.created_at DESC, m.id DESC LIMIT " + args.add(parley.MaxSearchCandidates+1)
	return qs, args
}

// The planner has two ways to the newest matches: a walk down
// messages_created_at that tests every row, quick when the words are
// common, and a bitmap of the GIN index, quick when they are rare. Several
// common words together are neither: "refund delivery" matches 8,000 of a
// million messages, so the walk reads some 120,000 rows (60 ms) and the
// bitmap fetches 8,000 rows from all over the table (30 to 130 ms). Asked
// for matches among the newest messages only, it can AND the GIN bitmap with
// a bitmap of the created_at range and fetch the newest pages only (25 ms).
//
// searchWindow sizes that range from the planner's statistics: the estimated
// matches of the words, and the histogram of created_at, whose bounds split
// the messages into equal parts. The window is to hold windowMargin times
// the candidates a search ranks. A window that holds more than
// MaxSearchCandidates matches holds the newest of all, since every message
// outside it is older; one that holds fewer is not enough, and the search
// runs again unbounded. It returns false when no window is worth it: one
// word (the planner chooses well between its two ways), a filter on
// conversations (the join would then scan them), no statistics yet, or so
// few matches expected that the window would be most of the table.
const windowMargin = 1.5

func searchWindow(ctx context.Context, tx pgx.Tx, q parley.SearchQuery, plan *parley.SearchPlan) (time.Time, bool, error) {
	if _, needsConv := searchFilter(q, true, &sqlArgs{}); len(plan.Terms) < 2 || needsConv {
		return time.Time{}, false, nil
	}
	b := &pgx.Batch{}
	var explain []byte
	var bounds []time.Time
	b.Queue(`EXPLAIN (FORMAT JSON) SELECT FROM messages WHERE search @@ $1::tsquery`, tsQuery(plan)).
		QueryRow(func(r pgx.Row) error { return r.Scan(&explain) })
	b.Queue(`SELECT histogram_bounds::text::timestamptz[] FROM pg_stats
		WHERE schemaname = current_schema() AND tablename = 'messages' AND attname = 'created_at'`).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&bounds); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return time.Time{}, false, err
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	// An estimate that cannot be read only means no window.
	if json.Unmarshal(explain, &plans) != nil || len(plans) != 1 || len(bounds) < 2 || plans[0].Plan.Rows <= 0 {
		return time.Time{}, false, nil
	}
	f := windowMargin * float64(parley.MaxSearchCandidates+1) / plans[0].Plan.Rows
	if f >= 0.5 {
		return time.Time{}, false, nil
	}
	// bounds[i] leaves i of len(bounds)-1 equal parts before it.
	i := int(float64(len(bounds)-1) * (1 - f))
	return bounds[i], true, nil
}

// enterWindow returns the window searchWindow gives q and, when there is
// one, turns the planner's plain index scans off for the rest of tx (until
// leaveWindow): left to itself, the planner walks the window down
// messages_created_at row by row, the plan the window exists to avoid.
func enterWindow(ctx context.Context, tx pgx.Tx, q parley.SearchQuery, plan *parley.SearchPlan) (time.Time, bool, error) {
	since, ok, err := searchWindow(ctx, tx, q, plan)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = off`); err != nil {
		return time.Time{}, false, err
	}
	return since, true, nil
}

func leaveWindow(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = on`)
	return err
}

// messageCandidates reads the candidate messages, from a window of the
// newest messages when searchWindow gives one and it holds enough.
func messageCandidates(ctx context.Context, tx pgx.Tx, q parley.SearchQuery, plan *parley.SearchPlan) ([]parley.SearchCandidate, bool, error) {
	since, ok, err := enterWindow(ctx, tx, q, plan)
	if err != nil {
		return nil, false, err
	}
	if ok {
		cands, truncated, err := queryMessageCandidates(ctx, tx, q, plan, since)
		if err != nil {
			return nil, false, err
		}
		if err := leaveWindow(ctx, tx); err != nil {
			return nil, false, err
		}
		if truncated {
			return cands, true, nil
		}
	}
	return queryMessageCandidates(ctx, tx, q, plan, time.Time{})
}

// queryMessageCandidates runs messageSearch; truncated when more than
// MaxSearchCandidates matched.
func queryMessageCandidates(ctx context.Context, tx pgx.Tx, q parley.SearchQuery, plan *parley.SearchPlan, since time.Time) ([]parley.SearchCandidate, bool, error) {
	qs, args := messageSearch(q, plan, since)
	rows, err := tx.Query(ctx, qs, args...)
	if err != nil {
		return nil, false, err
	}
	var cands []parley.SearchCandidate
	files := map[string]int{}
	var fileIDs []string
	truncated := false
	for rows.Next() {
		var c parley.SearchCandidate
		var kind parley.Kind
		if err := rows.Scan(&c.MessageID, &c.ConversationID, &kind, &c.Text, &c.At); err != nil {
			rows.Close()
			return nil, false, err
		}
		if len(cands) == parley.MaxSearchCandidates {
			truncated = true
			break
		}
		c.Field, c.At = parley.FieldMessage, c.At.UTC()
		if kind == parley.KindFile {
			files[c.MessageID] = len(cands)
			fileIDs = append(fileIDs, c.MessageID)
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(fileIDs) > 0 {
		// A file message's text includes its file names.
		rows, err := tx.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
			WHERE message_id = ANY($1::uuid[]) ORDER BY message_id, position`, fileIDs)
		if err != nil {
			return nil, false, err
		}
		as, err := collectAttachments(rows)
		if err != nil {
			return nil, false, err
		}
		ms := map[string]*parley.Message{}
		for _, id := range fileIDs {
			ms[id] = &parley.Message{Kind: parley.KindFile, Content: cands[files[id]].Text}
		}
		for _, a := range as {
			ms[a.MessageID].Attachments = append(ms[a.MessageID].Attachments, a)
		}
		for id, m := range ms {
			cands[files[id]].Text = m.SearchText()
		}
	}
	return cands, truncated, nil
}

// explainSearch returns PostgreSQL's plan for q's message query (run, with
// its timings), for benchmarks.
func (s *Store) explainSearch(ctx context.Context, q parley.SearchQuery) (string, error) {
	plan, err := parley.PlanSearch(q)
	if err != nil {
		return "", err
	}
	var lines []string
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := expandPrefixes(ctx, tx, plan); err != nil {
			return err
		}
		since, _, err := enterWindow(ctx, tx, q, plan)
		if err != nil {
			return err
		}
		qs, args := messageSearch(q, plan, since)
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+qs, args...)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return strings.Join(lines, "\n"), err
}

// Search returns a page of hits for q, best first. EINVALID (see
// parley.PlanSearch).
func (s *Store) Search(ctx context.Context, q parley.SearchQuery) (*parley.SearchPage, error) {
	const op = "postgres.Search"
	plan, err := parley.PlanSearch(q)
	if err != nil {
		return nil, err
	}
	if plan.Empty() {
		return &parley.SearchPage{}, nil
	}
	var page *parley.SearchPage
	// One read-only snapshot for every part of the page.
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// Whether the GIN index or a walk down messages_created_at is the
		// better plan depends on how common the words are: plan each
		// search for its own words, never with a cached generic plan.
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return err
		}
		cands, truncated, err := searchCandidates(ctx, tx, q, plan)
		if err != nil {
			return err
		}
		hits, next := plan.Rank(cands)
		recs, err := searchRecords(ctx, tx, hits)
		if err != nil {
			return err
		}
		page = recs.Page(hits, next, truncated)
		return nil
	})
	if err != nil {
		return nil, translate(op, err)
	}
	return page, nil
}

// vocabulary remembers which words are in search_words, so an append of
// known words costs no statement. It forgets everything when it holds
// vocabularyMax words.
type vocabulary struct {
	mu    sync.Mutex
	known map[string]struct{}
}

const vocabularyMax = 1 << 20

// learnWords adds the words search_words lacks, in its own short
// transaction before the rows that use them are written: a word is in the
// vocabulary before any row holds it. The words go in sorted, so concurrent
// calls lock new words in one order and never deadlock; a word a concurrent
// call is adding waits for it.
func (s *Store) learnWords(ctx context.Context, words []string) error {
	var fresh []string
	s.words.mu.Lock()
	for _, w := range words {
		if _, ok := s.words.known[w]; !ok {
			fresh = append(fresh, w)
		}
	}
	s.words.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	select {
	case <-s.appends.done:
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: "postgres.learnWords", Message: "the store is closed", Err: errStoreClosed}
	default:
	}
	sort.Strings(fresh)
	// The commit need not wait for its WAL flush: the rows using these
	// words commit after it, and their synchronous commit flushes the WAL
	// up to them, this commit included. If a crash loses it, no row holds
	// its words yet. So a message with a new word costs no second flush.
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(`INSERT INTO search_words (word) SELECT w FROM unnest($1::text[]) WITH ORDINALITY AS u(w, n)
		ORDER BY n ON CONFLICT DO NOTHING`, fresh)
	b.Queue(`COMMIT`)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	s.words.mu.Lock()
	if s.words.known == nil || len(s.words.known) >= vocabularyMax {
		s.words.known = make(map[string]struct{})
	}
	for _, w := range fresh {
		s.words.known[w] = struct{}{}
	}
	s.words.mu.Unlock()
	return nil
}

// expandPrefixes sets the words of each prefix term from the vocabulary. It
// returns false when a prefix starts no word: then nothing can match.
func expandPrefixes(ctx context.Context, tx pgx.Tx, plan *parley.SearchPlan) (bool, error) {
	for i := range plan.Terms {
		t := &plan.Terms[i]
		if !t.Prefix {
			continue
		}
		lo, hi := parley.PrefixRange(t.Text)
		q, args := `SELECT word FROM search_words WHERE word >= $1`, sqlArgs{lo}
		if hi != "" {
			q += ` AND word < ` + args.add(hi)
		}
		rows, err := tx.Query(ctx, q+` ORDER BY word LIMIT `+args.add(parley.MaxPrefixWords+1), args...)
		if err != nil {
			return false, err
		}
		ws, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
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
func searchCandidates(ctx context.Context, tx pgx.Tx, q parley.SearchQuery, plan *parley.SearchPlan) ([]parley.SearchCandidate, bool, error) {
	var cands []parley.SearchCandidate
	if len(plan.ConversationIDs) > 0 {
		args := sqlArgs{plan.ConversationIDs}
		filter, _ := searchFilter(q, false, &args)
		rows, err := tx.Query(ctx, `SELECT c.id, c.activity_at FROM conversations c WHERE c.id = ANY($1::uuid[])`+filter, args...)
		if err != nil {
			return nil, false, err
		}
		for rows.Next() {
			var id string
			var at time.Time
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, false, err
			}
			cands = append(cands, parley.SearchCandidate{Field: parley.FieldConversationID, ConversationID: id, At: at.UTC(), Text: id})
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
	msgs, truncated, err := messageCandidates(ctx, tx, q, plan)
	if err != nil {
		return nil, false, err
	}
	cands = append(cands, msgs...)

	// The matching customers come from the GIN index, newest first, and
	// each one's conversations by its index on customer_id. OFFSET 0 keeps
	// the planner from flattening the subquery into a hash join that would
	// read every conversation.
	args := sqlArgs{tsQuery(plan)}
	filter, _ := searchFilter(q, false, &args)
	qs := `SELECT c.id, c.activity_at, cu.name, cu.email FROM customers cu
		CROSS JOIN LATERAL (SELECT c.id, c.activity_at, c.created_at FROM conversations c
			WHERE c.customer_id = cu.id` + filter + ` OFFSET 0) c
		WHERE cu.search @@ $1::tsquery
		ORDER BY cu.first_seen DESC, cu.id DESC, c.created_at DESC LIMIT ` + args.add(parley.MaxSearchCandidates+1)
	rows, err := tx.Query(ctx, qs, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var c parley.SearchCandidate
		var name, email string
		if err := rows.Scan(&c.ConversationID, &c.At, &name, &email); err != nil {
			return nil, false, err
		}
		if n == parley.MaxSearchCandidates {
			truncated = true
			break
		}
		n++
		c.Field, c.At, c.Text = parley.FieldCustomer, c.At.UTC(), parley.CustomerSearchText(name, email)
		cands = append(cands, c)
	}
	return cands, truncated, rows.Err()
}

// searchRecords reads the records of the page's hits.
func searchRecords(ctx context.Context, tx pgx.Tx, hits []parley.RankedHit) (parley.SearchRecords, error) {
	recs := parley.SearchRecords{Conversations: map[string]*parley.Conversation{}, Customers: map[string][2]string{},
		Messages: map[string]*parley.Message{}}
	var convIDs, msgIDs, files []string
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
		rows, err := tx.Query(ctx, `SELECT `+conversationColumnsOf+`, cu.name, cu.email
			FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ANY($1::uuid[])`, convIDs)
		if err != nil {
			return recs, err
		}
		for rows.Next() {
			var c parley.Conversation
			var name, email string
			dest, finish := conversationDest(&c)
			if err := rows.Scan(append(dest, &name, &email)...); err != nil {
				rows.Close()
				return recs, err
			}
			if err := finish(); err != nil {
				rows.Close()
				return recs, err
			}
			recs.Conversations[c.ID], recs.Customers[c.ID] = &c, [2]string{name, email}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return recs, err
		}
	}
	if len(msgIDs) > 0 {
		rows, err := tx.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ANY($1::uuid[])`, msgIDs)
		if err != nil {
			return recs, err
		}
		ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*parley.Message, error) { return scanMessage(r) })
		if err != nil {
			return recs, err
		}
		for _, m := range ms {
			recs.Messages[m.ID] = m
			if m.Kind == parley.KindFile {
				files = append(files, m.ID)
			}
		}
	}
	if len(files) > 0 {
		rows, err := tx.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
			WHERE message_id = ANY($1::uuid[]) ORDER BY message_id, position`, files)
		if err != nil {
			return recs, err
		}
		as, err := collectAttachments(rows)
		if err != nil {
			return recs, err
		}
		for _, a := range as {
			m := recs.Messages[a.MessageID]
			m.Attachments = append(m.Attachments, a)
		}
	}
	return recs, nil
}

// backfillSearch indexes what was stored before migration 0005, inside the
// migration's transaction, a batch of rows per statement.
func backfillSearch(ctx context.Context, tx pgx.Tx) error {
	after := "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := tx.Query(ctx, `SELECT m.id, m.content,
			coalesce((SELECT array_agg(a.name ORDER BY a.position) FROM attachments a WHERE a.message_id = m.id), '{}')
			FROM messages m WHERE m.id > $1 ORDER BY m.id LIMIT 1000`, after)
		if err != nil {
			return err
		}
		var ids, words []string
		for rows.Next() {
			var id, content string
			var names []string
			if err := rows.Scan(&id, &content, &names); err != nil {
				rows.Close()
				return err
			}
			m := parley.Message{Content: content}
			for _, n := range names {
				m.Attachments = append(m.Attachments, &parley.Attachment{Name: n})
			}
			ids = append(ids, id)
			words = append(words, strings.Join(parley.IndexTokens(m.SearchText()), " "))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		if _, err := tx.Exec(ctx, `UPDATE messages m SET search = array_to_tsvector(string_to_array(u.words, ' '))
			FROM unnest($1::uuid[], $2::text[]) AS u(id, words) WHERE m.id = u.id AND u.words <> ''`, ids, words); err != nil {
			return err
		}
		if err := backfillWords(ctx, tx, words); err != nil {
			return err
		}
		after = ids[len(ids)-1]
	}
	rows, err := tx.Query(ctx, `SELECT id, name, email FROM customers`)
	if err != nil {
		return err
	}
	var ids, words []string
	for rows.Next() {
		var id, name, email string
		if err := rows.Scan(&id, &name, &email); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
		words = append(words, strings.Join(parley.IndexTokens(name, email), " "))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		if _, err := tx.Exec(ctx, `UPDATE customers cu SET search = array_to_tsvector(string_to_array(u.words, ' '))
			FROM unnest($1::uuid[], $2::text[]) AS u(id, words) WHERE cu.id = u.id AND u.words <> ''`, ids[:n], words[:n]); err != nil {
			return err
		}
		if err := backfillWords(ctx, tx, words[:n]); err != nil {
			return err
		}
		ids, words = ids[n:], words[n:]
	}
	return nil
}

// backfillWords adds the words of space-separated word lists to the vocabulary.
func backfillWords(ctx context.Context, tx pgx.Tx, lists []string) error {
	_, err := tx.Exec(ctx, `INSERT INTO search_words (word)
		SELECT DISTINCT w FROM unnest($1::text[]) AS l(words), unnest(string_to_array(l.words, ' ')) AS w
		WHERE w <> '' ON CONFLICT DO NOTHING`, lists)
	return err
}
