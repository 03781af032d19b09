package sqlite

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// TestBackfillSearch: what was stored before migration 0005 is found after
// it and 0006. The index is emptied, as it was before the migration, and
// rebuilt by the migrations' hooks.
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
	if err := s.write(ctx, "test", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM message_search`, `DELETE FROM customer_search`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if count("albatross") != 0 || count("lindqvist") != 0 {
		t.Fatal("the index was not emptied")
	}
	if err := s.write(ctx, "test", func(tx *sql.Tx) error { return backfillSearch(ctx, tx) }); err != nil {
		t.Fatalf("backfillSearch: %v", err)
	}
	if count("albatross") != 1 || count("manifest") != 1 || count("lindqvist") != 1 {
		t.Errorf("after the backfill: albatross %d, manifest %d, lindqvist %d; want 1 each",
			count("albatross"), count("manifest"), count("lindqvist"))
	}
	// Migration 0006 then names each indexed message's conversation, which
	// a search filtered by status reads.
	waiting := func() int {
		p, err := s.Search(ctx, parley.SearchQuery{Text: "albatross", Statuses: []parley.Status{parley.StatusWaiting}})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Hits)
	}
	if n := waiting(); n != 0 {
		t.Fatalf("a filtered search found %d hits before migration 0006's hook", n)
	}
	if err := s.write(ctx, "test", func(tx *sql.Tx) error { return fillSearchConversations(ctx, tx) }); err != nil {
		t.Fatalf("fillSearchConversations: %v", err)
	}
	if n := waiting(); n != 1 {
		t.Errorf("a filtered search found %d hits after migration 0006's hook, want 1", n)
	}
}

// TestSearchUsesIndex: both lookups start from an FTS index, newest first,
// reach every table by key and stop at their limit (no sort of every
// match); a filter on the conversation is answered by the covering index,
// before the message is read.
func TestSearchUsesIndex(t *testing.T) {
	s := MustOpen(t)
	for _, q := range []parley.SearchQuery{
		{Text: "refund"},
		{Text: "refund delivery", WaitingOrAssignedTo: parley.NewID(), Statuses: []parley.Status{parley.StatusActive}},
	} {
		plan, err := s.explainSearch(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		msgs, custs, ok := strings.Cut(plan, "-- customers\n")
		if !ok ||
			!strings.Contains(msgs, "VIRTUAL TABLE INDEX 192:") || strings.Contains(msgs, "SCAN m") || strings.Contains(msgs, "SCAN c") ||
			!strings.Contains(custs, "VIRTUAL TABLE INDEX 192:") || strings.Contains(custs, "SCAN c") || strings.Contains(custs, "TEMP B-TREE") {
			t.Errorf("plans of %q:\n%s", q.Text, plan)
		}
		if len(q.Statuses) > 0 && (!strings.Contains(msgs, "COVERING INDEX conversations_search_filter") ||
			strings.Index(msgs, "conversations_search_filter") > strings.Index(msgs, "SEARCH m ")) {
			t.Errorf("the conversation filter is not checked from its index before the message is read:\n%s", msgs)
		}
	}
}
