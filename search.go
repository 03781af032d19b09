package parley

import (
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Search splits text into words here, in Go, and both stores index exactly
// those words: SQLite's FTS5 with its ascii tokenizer (which leaves our
// tokens as they are) and PostgreSQL's tsvector built with
// array_to_tsvector (which uses them as lexemes without parsing). Neither
// engine's own word splitting, case folding, stemming or locale takes part,
// so both stores find the same messages for the same words.
//
// A word is a run of letters, digits and combining marks, lower-cased. Han
// characters, hiragana and katakana are written without spaces, so each is a
// word of its own; a query of several of them must find them side by side.

// Token is one word of a text and where it stands in it.
type Token struct {
	Text       string // lower-cased
	Start, End int    // byte offsets of the word in the original text
}

// MaxTokenBytes bounds an indexed word: longer words are cut (at a rune
// boundary), so a query for their start still finds them.
const MaxTokenBytes = 100

// Tokenize splits s into words as the search index keeps them.
func Tokenize(s string) []Token {
	var out []Token
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, Token{Text: foldToken(s[start:end]), Start: start, End: end})
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case isIdeograph(r):
			flush(i)
			n := utf8.RuneLen(r)
			out = append(out, Token{Text: foldToken(s[i : i+n]), Start: i, End: i + n})
		case unicode.IsLetter(r) || unicode.IsNumber(r) || (unicode.IsMark(r) && start >= 0):
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out
}

func isIdeograph(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

func foldToken(w string) string {
	w = strings.ToLower(w)
	if len(w) <= MaxTokenBytes {
		return w
	}
	cut := MaxTokenBytes
	for cut > 0 && !utf8.RuneStart(w[cut]) {
		cut--
	}
	return w[:cut]
}

// IndexTokens returns the distinct words of texts, space-separated: what a
// store puts in its index for a message or a customer.
func IndexTokens(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, tok := range Tokenize(t) {
			if !seen[tok.Text] {
				seen[tok.Text] = true
				out = append(out, tok.Text)
			}
		}
	}
	return out
}

// SearchText is the text of m that search indexes and quotes: its content
// and, for a file message, the names of its files.
func (m *Message) SearchText() string {
	if len(m.Attachments) == 0 {
		return m.Content
	}
	parts := make([]string, 0, len(m.Attachments)+1)
	if m.Content != "" {
		parts = append(parts, m.Content)
	}
	for _, a := range m.Attachments {
		parts = append(parts, a.Name)
	}
	return strings.Join(parts, "\n")
}

// SearchText is the text of a customer that search indexes and quotes.
func CustomerSearchText(name, email string) string {
	switch {
	case name == "":
		return email
	case email == "":
		return name
	}
	return name + " <" + email + ">"
}

// Limits of a search query.
const (
	MaxSearchQueryLen = 256 // characters of q
	MaxSearchTerms    = 16  // distinct words of q
	DefaultSearchPage = 20
	MaxSearchPage     = 50
	// MaxSearchCandidates is how many of the newest matching messages (and
	// of the newest conversations of matching customers) a search ranks.
	// Ranking every match of a common word over millions of messages costs
	// far more than a page is worth; past this many, SearchPage.Truncated
	// says so and filters or a date range narrow the search.
	MaxSearchCandidates = 1000
	// PrefixMinRunes is the shortest word that also matches longer words
	// starting with it; shorter words match whole words only.
	PrefixMinRunes = 3
)

// SearchQuery is a search over messages, customers and conversation ids.
type SearchQuery struct {
	Text string // the caller's words, as typed
	// Filters, on the conversation (status, assignee) and on the time of
	// the matching message (for customer and id hits, of the conversation's
	// creation): From <= t < To, each when not zero.
	Statuses   []Status
	AssigneeID string
	From, To   time.Time
	// WaitingOrAssignedTo, when set, keeps conversations that are waiting or
	// assigned to this user: what an agent may see.
	WaitingOrAssignedTo string
	// ExcludeNotes leaves notes out (a visitor's view).
	ExcludeNotes bool
	Limit        int    // 1..MaxSearchPage; 0 means DefaultSearchPage
	Cursor       string // from a previous page's NextCursor
}

// SearchField names what a hit matched.
type SearchField string

const (
	FieldMessage        SearchField = "message"         // the text of a message (or its file names)
	FieldCustomer       SearchField = "customer"        // the customer's name or email
	FieldConversationID SearchField = "conversation_id" // the conversation's id, given whole
)

// SnippetPart is a piece of a snippet: plain text, highlighted when it is a
// matched word. Concatenated, the parts are the snippet.
type SnippetPart struct {
	Text      string
	Highlight bool
}

// SearchHit is one result: a message, or a conversation found by its
// customer or its id (Message nil).
type SearchHit struct {
	Field         SearchField
	Conversation  *Conversation
	CustomerName  string
	CustomerEmail string
	Message       *Message // FieldMessage only, with its attachments
	Snippet       []SnippetPart
	Score         float64
}

// SearchPage is one page of results, best first.
type SearchPage struct {
	Hits       []SearchHit
	NextCursor string // "" on the last page
	// Truncated is set when more than MaxSearchCandidates messages (or
	// customers' conversations) matched: only the newest were ranked.
	Truncated bool
}

// SearchPlan is a parsed query: what a store asks its index for.
type SearchPlan struct {
	// Terms are the distinct words every hit must contain, each matching
	// whole words or, when Prefix, words starting with it.
	Terms []SearchTerm
	// Phrases are runs of words that must stand side by side: a quoted
	// phrase, a word the tokenizer splits ("e-mail", an address), or
	// ideographs written together.
	Phrases [][]SearchTerm
	// ConversationIDs are ids given whole in the query.
	ConversationIDs []string
	Limit           int
	cursor          *searchCursor
}

// SearchTerm is one word of a query.
type SearchTerm struct {
	Text   string
	Prefix bool
	// Words, when a store set it, are the indexed words that start with a
	// prefix term (Text included when it is one), read from the store's
	// vocabulary: the index is then asked for any of them, whole, which
	// both engines answer from their posting lists as they go, where a
	// prefix query must first gather every matching entry.
	Words []string
}

// MatchSyntax is how a full-text engine writes a match expression: how it
// quotes a word, and its operators for "any of", "starts with" and "all of".
type MatchSyntax struct {
	Quote        func(word string) string
	Or, And      string // between quoted words: " OR ", " | "; " AND ", " & "
	PrefixSuffix string // after a quoted prefix: "*", ":*"
}

// Match writes the plan's terms in syntax: each term a quoted word, the
// words a prefix was expanded to as a parenthesized "any of", an unexpanded
// prefix with the prefix suffix, all joined by "all of". Nothing of the
// user's input reaches the engine other than as a quoted word.
func (p *SearchPlan) Match(syntax MatchSyntax) string {
	parts := make([]string, len(p.Terms))
	for i, t := range p.Terms {
		switch {
		case len(t.Words) == 1:
			parts[i] = syntax.Quote(t.Words[0])
		case len(t.Words) > 1:
			ws := make([]string, len(t.Words))
			for j, w := range t.Words {
				ws[j] = syntax.Quote(w)
			}
			parts[i] = "(" + strings.Join(ws, syntax.Or) + ")"
		case t.Prefix:
			parts[i] = syntax.Quote(t.Text) + syntax.PrefixSuffix
		default:
			parts[i] = syntax.Quote(t.Text)
		}
	}
	return strings.Join(parts, syntax.And)
}

// MaxPrefixWords is the most words a prefix term expands to; a prefix with
// more is asked of the index as a prefix.
const MaxPrefixWords = 256

// PrefixRange returns the bounds of the words that start with prefix, in
// byte (and so code point) order: lo <= w < hi, both valid UTF-8; hi is ""
// when no bound exists.
func PrefixRange(prefix string) (lo, hi string) {
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		switch r := rs[i] + 1; {
		case r > unicode.MaxRune:
			continue
		case r >= 0xD800 && r <= 0xDFFF:
			rs[i] = 0xE000
		default:
			rs[i] = r
		}
		return prefix, string(rs[:i+1])
	}
	return prefix, ""
}

func newTerm(t string) SearchTerm {
	return SearchTerm{Text: t, Prefix: utf8.RuneCountInString(t) >= PrefixMinRunes}
}

// matches reports whether the indexed word w satisfies t.
func (t SearchTerm) matches(w string) bool {
	if t.Prefix {
		return strings.HasPrefix(w, t.Text)
	}
	return w == t.Text
}

// Empty reports whether the plan can find nothing: no words and no ids.
func (p *SearchPlan) Empty() bool { return len(p.Terms) == 0 && len(p.ConversationIDs) == 0 }

// PlanSearch checks q and parses its text. Every character of the text is
// taken literally: quotes group words into a phrase, and nothing else has a
// meaning (no operators), so no input can change what the stores run.
// EINVALID for a blank or over-long text, too many words, a bad limit,
// status, time range or cursor.
func PlanSearch(q SearchQuery) (*SearchPlan, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, Errorf(EINVALID, "q is required")
	}
	if err := checkText("PlanSearch", "q", q.Text, MaxSearchQueryLen, true); err != nil {
		return nil, err
	}
	for _, st := range q.Statuses {
		if !st.Valid() {
			return nil, Errorf(EINVALID, "status must be waiting, active or closed")
		}
	}
	if err := checkID("PlanSearch", "assignee id", q.AssigneeID, false); err != nil {
		return nil, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, Errorf(EINVALID, "from must be before to")
	}
	p := &SearchPlan{Limit: q.Limit}
	switch {
	case q.Limit == 0:
		p.Limit = DefaultSearchPage
	case q.Limit < 0 || q.Limit > MaxSearchPage:
		return nil, Errorf(EINVALID, "limit must be between 1 and %d", MaxSearchPage)
	}
	if q.Cursor != "" {
		c, err := decodeSearchCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		p.cursor = &c
	}
	seenTerm := map[string]bool{}
	seenID := map[string]bool{}
	addWords := func(words []Token) {
		var phrase []SearchTerm
		for _, w := range words {
			t := newTerm(w.Text)
			phrase = append(phrase, t)
			if !seenTerm[t.Text] {
				seenTerm[t.Text] = true
				p.Terms = append(p.Terms, t)
			}
		}
		if len(phrase) > 1 {
			p.Phrases = append(p.Phrases, phrase)
		}
	}
	// Quotes alternate between outside and inside a phrase; an unclosed
	// quote runs to the end.
	for i, part := range strings.Split(q.Text, `"`) {
		if i%2 == 1 {
			addWords(Tokenize(part))
			continue
		}
		for _, chunk := range strings.Fields(part) {
			if id := strings.ToLower(chunk); ValidID(id) {
				if !seenID[id] {
					seenID[id] = true
					p.ConversationIDs = append(p.ConversationIDs, id)
				}
				continue
			}
			addWords(Tokenize(chunk))
		}
	}
	if len(p.Terms) > MaxSearchTerms {
		return nil, Errorf(EINVALID, "q has more than %d words", MaxSearchTerms)
	}
	return p, nil
}

// SearchCandidate is a possible hit a store found through its index: a
// message holding every term, a conversation of a customer whose name and
// email hold them, or a conversation named by id. It carries only what
// ranking needs; the store reads the records of the page's hits afterwards.
type SearchCandidate struct {
	Field          SearchField
	MessageID      string // FieldMessage
	ConversationID string
	// At orders equal scores, newest first: the message's time, or the
	// conversation's last activity (its last message, else its creation).
	At time.Time
	// Text is what matched: the message's SearchText, the customer's
	// CustomerSearchText, or the conversation id.
	Text string
}

// RankedHit is a candidate on the page, scored and quoted.
type RankedHit struct {
	SearchCandidate
	Score   float64
	Snippet []SnippetPart
}

// Rank scores the candidates a store found, drops those that miss a phrase,
// orders them best first (then newest, then by id) and returns the page
// after the plan's cursor, with the cursor of the next page ("" on the
// last). Both stores call it, so both rank and quote alike.
func (p *SearchPlan) Rank(cands []SearchCandidate) (hits []RankedHit, next string) {
	type scored struct {
		c     *SearchCandidate
		score float64
		key   searchCursor
	}
	var all []scored
	byConv := map[string]int{} // conversation-level hits, one per conversation
	for i := range cands {
		c := &cands[i]
		var score float64
		id := c.ConversationID
		switch c.Field {
		case FieldConversationID:
			score = 100
		case FieldMessage, FieldCustomer:
			var ok bool
			if score, ok = p.score(Tokenize(c.Text)); !ok {
				continue
			}
			if c.Field == FieldCustomer {
				// A name or address is short and chosen: a match there is
				// worth more than the same words in a message.
				score *= 2
			} else {
				id = c.MessageID
			}
		default:
			continue
		}
		s := scored{c: c, score: score, key: searchCursor{score: score, at: c.At.UnixMicro(), id: id}}
		if c.Field != FieldMessage {
			if j, ok := byConv[id]; ok {
				if all[j].score < score {
					all[j] = s
				}
				continue
			}
			byConv[id] = len(all)
		}
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].key.before(all[j].key) })
	var last searchCursor
	for _, s := range all {
		if p.cursor != nil && !p.cursor.before(s.key) {
			continue
		}
		if len(hits) == p.Limit {
			return hits, last.encode()
		}
		h := RankedHit{SearchCandidate: *s.c, Score: s.score}
		if s.c.Field == FieldConversationID {
			h.Snippet = []SnippetPart{{Text: s.c.Text, Highlight: true}}
		} else {
			h.Snippet = p.snippet(s.c.Text, Tokenize(s.c.Text))
		}
		hits = append(hits, h)
		last = s.key
	}
	return hits, ""
}

// SearchRecords are the records of a page's hits, read by the store.
type SearchRecords struct {
	Conversations map[string]*Conversation // by id
	Customers     map[string][2]string     // name and email, by conversation id
	Messages      map[string]*Message      // by id
}

// Page puts the records into the ranked hits. A hit whose record is missing
// is left out (stores read both in one snapshot, so none is).
func (r SearchRecords) Page(hits []RankedHit, next string, truncated bool) *SearchPage {
	page := &SearchPage{Hits: make([]SearchHit, 0, len(hits)), NextCursor: next, Truncated: truncated}
	for _, h := range hits {
		c := r.Conversations[h.ConversationID]
		if c == nil {
			continue
		}
		hit := SearchHit{Field: h.Field, Conversation: c, Score: h.Score, Snippet: h.Snippet}
		cu := r.Customers[h.ConversationID]
		hit.CustomerName, hit.CustomerEmail = cu[0], cu[1]
		if h.Field == FieldMessage {
			if hit.Message = r.Messages[h.MessageID]; hit.Message == nil {
				continue
			}
		}
		page.Hits = append(page.Hits, hit)
	}
	return page
}

// score rates how well toks match the plan, and reports false when a term or
// a phrase is missing. Each term counts its whole-word matches, and half its
// prefix matches, with BM25's saturation and a length norm against a fixed
// typical length (so the score of a text depends on that text alone); a
// phrase found adds one.
func (p *SearchPlan) score(toks []Token) (float64, bool) {
	const k1, b, typical = 1.2, 0.75, 20.0
	norm := k1 * (1 - b + b*float64(len(toks))/typical)
	var total float64
	for _, t := range p.Terms {
		var tf float64
		for _, w := range toks {
			switch {
			case w.Text == t.Text:
				tf++
			case t.Prefix && strings.HasPrefix(w.Text, t.Text):
				tf += 0.5
			}
		}
		if tf == 0 {
			return 0, false
		}
		total += tf * (k1 + 1) / (tf + norm)
	}
	for _, ph := range p.Phrases {
		if findPhrase(toks, ph) < 0 {
			return 0, false
		}
		total++
	}
	// Round so the score reads well and compares exactly after a JSON trip.
	return float64(int64(total*1e6+0.5)) / 1e6, true
}

// findPhrase returns the index of the first token where ph starts, or -1.
func findPhrase(toks []Token, ph []SearchTerm) int {
	for i := 0; i+len(ph) <= len(toks); i++ {
		ok := true
		for j, t := range ph {
			if !t.matches(toks[i+j].Text) {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// Snippet sizes, in characters.
const (
	snippetLen    = 160
	snippetBefore = 40
)

// snippet quotes text around its first matched word, marking every matched
// word in the quote. Runs of white space read as one space.
func (p *SearchPlan) snippet(text string, toks []Token) []SnippetPart {
	var marked []Token
	for _, w := range toks {
		for _, t := range p.Terms {
			if t.matches(w.Text) {
				marked = append(marked, w)
				break
			}
		}
	}
	start, end := 0, len(text)
	if utf8.RuneCountInString(text) > snippetLen {
		first := 0
		if len(marked) > 0 {
			first = marked[0].Start
		}
		start = backRunes(text, first, snippetBefore)
		// Start at a word when the cut falls inside one.
		for _, w := range toks {
			if w.Start < start && w.End > start {
				start = w.End
				break
			}
		}
		end = forwardRunes(text, start, snippetLen)
		for _, w := range toks {
			if w.Start < end && w.End > end {
				if w.Start > start {
					end = w.Start
				}
				break
			}
		}
	}
	var parts []SnippetPart
	add := func(s string, hl bool) {
		if !hl {
			s = collapseSpace(s)
		}
		if s == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Highlight == hl {
			parts[n-1].Text += s
			return
		}
		parts = append(parts, SnippetPart{Text: s, Highlight: hl})
	}
	if start > 0 {
		add("…", false)
	}
	pos := start
	for _, w := range marked {
		if w.Start < start || w.End > end {
			continue
		}
		add(text[pos:w.Start], false)
		add(text[w.Start:w.End], true)
		pos = w.End
	}
	add(text[pos:end], false)
	if end < len(text) {
		add("…", false)
	}
	if len(parts) > 0 && !parts[0].Highlight {
		parts[0].Text = strings.TrimLeft(parts[0].Text, " ")
	}
	if n := len(parts); n > 0 && !parts[n-1].Highlight {
		parts[n-1].Text = strings.TrimRight(parts[n-1].Text, " ")
	}
	out := parts[:0]
	for _, pt := range parts {
		if pt.Text != "" {
			out = append(out, pt)
		}
	}
	return out
}

func backRunes(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}

func forwardRunes(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
