package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

// TestBackfillSearch: what was stored before migration 0005 is found after
// it. The index is emptied, as it was before the migration, and rebuilt by
// the migration's hook.
func TestBackfillSearch(t *testing.T) {
	ctx := t.Context()
	s := MustOpen(t)
	cu := &parley.Customer{TokenHash: strings.Repeat("a", 64), Name: "Greta Lindqvist", Email: "greta@example.org"}
	if err := s.CreateCustomer(ctx, cu); err != nil {
		t.Fatal(err)
	}
	c := &parley.Conversation{Status: parley.StatusWaiting, CustomerID: cu.ID}
	if err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*parley.Message{
		{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: cu.ID, Kind: parley.KindText, Content: "old albatross message"},
		{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: cu.ID, Kind: parley.KindFile,
			Attachments: []*parley.Attachment{{Key: "k", URL: "/u", Type: parley.AttachmentDocument, ContentType: "text/plain",
				Name: "manifest-old.txt", Checksum: strings.Repeat("0", 64)}}},
	} {
		if _, err := s.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) int {
		p, err := s.Search(ctx, parley.SearchQuery{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Hits)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE messages SET search = ''; UPDATE customers SET search = ''`); err != nil {
		t.Fatal(err)
	}
	if count("albatross") != 0 || count("lindqvist") != 0 {
		t.Fatal("the index was not emptied")
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return backfillSearch(ctx, tx) }); err != nil {
		t.Fatalf("backfillSearch: %v", err)
	}
	if count("albatross") != 1 || count("manifest") != 1 || count("lindqvist") != 1 {
		t.Errorf("after the backfill: albatross %d, manifest %d, lindqvist %d; want 1 each",
			count("albatross"), count("manifest"), count("lindqvist"))
	}
}

// TestSearchWindow: a search for several common words looks among the
// newest messages first (searchWindow), and finds exactly what the
// unbounded search finds, whether the window holds enough matches or none.
func TestSearchWindow(t *testing.T) {
	ctx := t.Context()
	s := MustOpen(t)
	cu := &parley.Customer{TokenHash: strings.Repeat("b", 64)}
	if err := s.CreateCustomer(ctx, cu); err != nil {
		t.Fatal(err)
	}
	c := &parley.Conversation{Status: parley.StatusActive, CustomerID: cu.ID}
	if err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	// 40,000 messages a millisecond apart. alpha (one in 2) and beta (one
	// in 3) are spread over all of them; delta (one in 2) and epsilon
	// (every one) over the oldest half only, so the newest messages hold
	// none of them though the statistics expect 5,000.
	const n = 40000
	if _, err := s.pool.Exec(ctx, `INSERT INTO messages (id, conversation_id, seq, sender_type, kind, content, created_at, search)
		SELECT gen_random_uuid(), $1, i, 'customer', 'text', w, $2::timestamptz + i * interval '1 millisecond',
			array_to_tsvector(string_to_array(w, ' '))
		FROM generate_series(1, $3::int) AS i,
			concat_ws(' ', 'zeta', CASE WHEN i % 2 = 0 THEN 'alpha' END, CASE WHEN i % 3 = 0 THEN 'beta' END,
				CASE WHEN i <= $3 / 2 AND i % 2 = 0 THEN 'delta' END, CASE WHEN i <= $3 / 2 THEN 'epsilon' END) AS w`,
		c.ID, parley.Now().Add(-time.Hour), n); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO search_words (word) VALUES ('alpha'), ('beta'), ('delta'), ('epsilon'), ('zeta')
		ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE messages`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text     string
		inWindow bool // whether the window holds enough matches
	}{
		{"alpha beta", true},
		{"delta epsilon", false},
	} {
		t.Run(tc.text, func(t *testing.T) {
			q := parley.SearchQuery{Text: tc.text}
			withSearchPlan(t, s, q, func(tx pgx.Tx, plan *parley.SearchPlan) error {
				since, ok, err := searchWindow(ctx, tx, q, plan)
				if err != nil {
					return err
				}
				if !ok {
					t.Fatalf("no window for %q", tc.text)
				}
				windowed, _, err := queryMessageCandidates(ctx, tx, q, plan, since)
				if err != nil {
					return err
				}
				if got := len(windowed) == parley.MaxSearchCandidates; got != tc.inWindow {
					t.Errorf("the window since %v holds %d candidates", since, len(windowed))
				}
				got, gotTrunc, err := messageCandidates(ctx, tx, q, plan)
				if err != nil {
					return err
				}
				want, wantTrunc, err := queryMessageCandidates(ctx, tx, q, plan, time.Time{})
				if err != nil {
					return err
				}
				if !wantTrunc || len(want) != parley.MaxSearchCandidates {
					t.Fatalf("the unbounded search found %d candidates (truncated %v); the data should hold more", len(want), wantTrunc)
				}
				if gotTrunc != wantTrunc || len(got) != len(want) {
					t.Fatalf("found %d candidates (truncated %v), the unbounded search %d (%v)", len(got), gotTrunc, len(want), wantTrunc)
				}
				for i := range want {
					if got[i].MessageID != want[i].MessageID {
						t.Fatalf("candidate %d is %s, the unbounded search's %s", i, got[i].MessageID, want[i].MessageID)
					}
				}
				return nil
			})
		})
	}
	// One word, or a filter on the conversation: no window.
	for _, q := range []parley.SearchQuery{
		{Text: "alpha"},
		{Text: "alpha beta", Statuses: []parley.Status{parley.StatusActive}},
	} {
		withSearchPlan(t, s, q, func(tx pgx.Tx, plan *parley.SearchPlan) error {
			_, ok, err := searchWindow(ctx, tx, q, plan)
			if ok {
				t.Errorf("a window for %+v", q)
			}
			return err
		})
	}
}

// withSearchPlan runs fn in a read-only transaction with q planned and its
// prefixes expanded, as Search does before its queries.
func withSearchPlan(t *testing.T, s *Store, q parley.SearchQuery, fn func(tx pgx.Tx, plan *parley.SearchPlan) error) {
	t.Helper()
	err := pgx.BeginTxFunc(t.Context(), s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		plan, err := parley.PlanSearch(q)
		if err != nil {
			return err
		}
		if _, err := expandPrefixes(t.Context(), tx, plan); err != nil {
			return err
		}
		return fn(tx, plan)
	})
	if err != nil {
		t.Fatal(err)
	}
}
