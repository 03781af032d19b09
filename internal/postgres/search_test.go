package postgres

import (
	"strings"
	"testing"

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
