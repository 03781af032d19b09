package postgres

import (
	"context"
	"strings"

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
func tsQuery(p *parley.SearchPlan) string {
	parts := make([]string, len(p.Terms))
	for i, t := range p.Terms {
		s := "'" + strings.ReplaceAll(strings.ReplaceAll(t.Text, `\`, `\\`), "'", "''") + "'"
		if t.Prefix {
			s += ":*"
		}
		parts[i] = s
	}
	return strings.Join(parts, " & ")
}

// sqlArgs numbers the arguments of a statement as they are added.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + itoa(len(*a))
}

// searchFilter appends the query's conditions on conversation c (and message
// m, for message hits).
func searchFilter(q parley.SearchQuery, messages bool, args *sqlArgs) string {
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
		return ""
	}
	return " AND " + strings.Join(conds, " AND ")
}

const (
	searchMessagesSQL = `SELECT m.id, m.conversation_id, m.seq, m.client_msg_id, m.sender_id, m.sender_type, m.kind,
	m.content, m.created_at, m.metadata, ` + conversationColumnsOf + `, cu.name, cu.email
FROM messages m
JOIN conversations c ON c.id = m.conversation_id
JOIN customers cu ON cu.id = c.customer_id
WHERE m.search @@ $1::tsquery`
	searchCustomersSQL = `SELECT ` + conversationColumnsOf + `, cu.name, cu.email
FROM customers cu
JOIN conversations c ON c.customer_id = cu.id
WHERE cu.search @@ $1::tsquery`
	searchIDsSQL = `SELECT ` + conversationColumnsOf + `, cu.name, cu.email
FROM conversations c
JOIN customers cu ON cu.id = c.customer_id
WHERE c.id = ANY($1::uuid[])`
)

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
		var cands []parley.SearchCandidate
		truncated := false
		if len(plan.ConversationIDs) > 0 {
			args := sqlArgs{plan.ConversationIDs}
			q := searchIDsSQL + searchFilter(q, false, &args)
			cs, _, err := searchConversations(ctx, tx, q, args, parley.FieldConversationID, len(plan.ConversationIDs))
			if err != nil {
				return err
			}
			cands = append(cands, cs...)
		}
		if len(plan.Terms) > 0 {
			match := tsQuery(plan)
			args := sqlArgs{match}
			qs := searchMessagesSQL + searchFilter(q, true, &args)
			qs += " ORDER BY m.created_at DESC, m.id DESC LIMIT " + args.add(parley.MaxSearchCandidates+1)
			rows, err := tx.Query(ctx, qs, args...)
			if err != nil {
				return err
			}
			var files []string
			byID := map[string]*parley.Message{}
			for rows.Next() {
				var m parley.Message
				var clientID, sender *string
				var meta []byte
				var c parley.Conversation
				cdest, finish := conversationDest(&c)
				var name, email string
				dest := append([]any{&m.ID, &m.ConversationID, &m.Seq, &clientID, &sender, &m.SenderType, &m.Kind,
					&m.Content, &m.CreatedAt, &meta}, cdest...)
				if err := rows.Scan(append(dest, &name, &email)...); err != nil {
					rows.Close()
					return err
				}
				if err := finish(); err != nil {
					rows.Close()
					return err
				}
				m.ClientMsgID, m.SenderID, m.CreatedAt = deref(clientID), deref(sender), m.CreatedAt.UTC()
				if m.Metadata, err = decodeMetadata(meta); err != nil {
					rows.Close()
					return err
				}
				if len(byID) == parley.MaxSearchCandidates {
					truncated = true
					break
				}
				byID[m.ID] = &m
				if m.Kind == parley.KindFile {
					files = append(files, m.ID)
				}
				cands = append(cands, parley.SearchCandidate{Field: parley.FieldMessage, Conversation: &c,
					CustomerName: name, CustomerEmail: email, Message: &m})
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(files) > 0 {
				rows, err := tx.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
					WHERE message_id = ANY($1::uuid[]) ORDER BY message_id, position`, files)
				if err != nil {
					return err
				}
				as, err := collectAttachments(rows)
				if err != nil {
					return err
				}
				for _, a := range as {
					m := byID[a.MessageID]
					m.Attachments = append(m.Attachments, a)
				}
			}

			args = sqlArgs{match}
			qs = searchCustomersSQL + searchFilter(q, false, &args)
			qs += " ORDER BY cu.first_seen DESC, cu.id DESC, c.created_at DESC LIMIT " + args.add(parley.MaxSearchCandidates+1)
			cs, more, err := searchConversations(ctx, tx, qs, args, parley.FieldCustomer, parley.MaxSearchCandidates)
			if err != nil {
				return err
			}
			truncated = truncated || more
			cands = append(cands, cs...)
		}
		page = plan.Rank(cands, truncated)
		return nil
	})
	if err != nil {
		return nil, translate(op, err)
	}
	return page, nil
}

// searchConversations reads rows of conversation columns, customer name and
// email as candidates, at most max of them (more tells whether there were).
func searchConversations(ctx context.Context, tx pgx.Tx, q string, args []any, field parley.SearchField, max int) (cands []parley.SearchCandidate, more bool, err error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var c parley.Conversation
		var name, email string
		dest, finish := conversationDest(&c)
		if err := rows.Scan(append(dest, &name, &email)...); err != nil {
			return nil, false, err
		}
		if err := finish(); err != nil {
			return nil, false, err
		}
		if len(cands) == max {
			return cands, true, nil
		}
		cands = append(cands, parley.SearchCandidate{Field: field, Conversation: &c, CustomerName: name, CustomerEmail: email})
	}
	return cands, false, rows.Err()
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
		ids, words = ids[n:], words[n:]
	}
	return nil
}
