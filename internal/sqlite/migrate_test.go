package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// openMigratedTo opens a store in a new directory with the migrations up
// to version applied, and closes it when t ends.
func openMigratedTo(t *testing.T, version int) *Store {
	t.Helper()
	s, err := Open(t.Context(), t.TempDir()+"/parley.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.migrateTo(t.Context(), version); err != nil {
		t.Fatal(err)
	}
	return s
}

// opcodes returns the opcodes of q's program on the writer.
func opcodes(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.writer.QueryContext(t.Context(), "EXPLAIN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ops []string
	for rows.Next() {
		var addr, p1, p2, p3, p5 any
		var op string
		var p4, comment any
		if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

// TestChecksWithoutLists: from migration 9 on, inserting a message builds
// no temporary B-tree to check its sender type and kind (migration 8's
// schema builds two), the constraints still refuse what they refused, and a
// database upgraded with messages stored keeps them whole.
func TestChecksWithoutLists(t *testing.T) {
	ctx := t.Context()
	s := openMigratedTo(t, 8)
	ephemeral := func() int {
		n := 0
		for _, op := range opcodes(t, s, insertMessageSQL, "m", "c", 1, nil, nil, "customer", "text", "hi", 1, "{}", 1) {
			if op == "OpenEphemeral" {
				n++
			}
		}
		return n
	}
	if n := ephemeral(); n != 2 {
		t.Fatalf("under migration 8, inserting a message opens %d temporary B-trees, want 2 (the test no longer sees what migration 9 is for)", n)
	}

	cu := &parley.Customer{TokenHash: strings.Repeat("c", 64)}
	if err := s.CreateCustomer(ctx, cu); err != nil {
		t.Fatal(err)
	}
	c := &parley.Conversation{Status: parley.StatusWaiting, CustomerID: cu.ID}
	if err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m := &parley.Message{ConversationID: c.ID, SenderID: cu.ID, SenderType: parley.SenderCustomer, Kind: parley.KindText,
			Content: "before " + string(rune('a'+i))}
		if _, err := s.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ephemeral(); n != 0 {
		t.Fatalf("after migration 9, inserting a message opens %d temporary B-trees, want 0", n)
	}
	var check string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var writable int
	if err := s.writer.QueryRowContext(ctx, "PRAGMA writable_schema").Scan(&writable); err != nil || writable != 0 {
		t.Fatalf("writable_schema = %d, %v after the migration; want 0", writable, err)
	}
	page, err := s.ListMessages(ctx, c.ID, parley.MessageFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].Content != "before a" || page[2].Content != "before c" {
		t.Fatalf("messages after the migration: %+v", page)
	}
	m := &parley.Message{ConversationID: c.ID, SenderID: cu.ID, SenderType: parley.SenderCustomer, Kind: parley.KindText, Content: "after"}
	if _, err := s.AppendMessage(ctx, m); err != nil || m.Seq != 4 {
		t.Fatalf("append after the migration: seq %d, %v", m.Seq, err)
	}

	for _, tc := range []struct {
		name, senderType, kind string
		ok                     bool
	}{
		{"customer text", "customer", "text", true},
		{"agent file", "agent", "file", true},
		{"system system", "system", "system", true},
		{"agent note", "agent", "note", true},
		{"an unknown sender", "bot", "text", false},
		{"an unknown kind", "customer", "image", false},
		{"a sender in another case", "Customer", "text", false},
		{"an empty kind", "customer", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.writer.ExecContext(context.Background(), `INSERT INTO messages (id, conversation_id, seq, sender_type, kind, created_at)
				VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_id = ?), ?, ?, 1)`,
				parley.NewID(), c.ID, c.ID, tc.senderType, tc.kind)
			if ok := err == nil; ok != tc.ok {
				t.Fatalf("insert accepted %v (%v), want %v", ok, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "CHECK constraint failed") {
				t.Fatalf("refused with %v, want a CHECK constraint", err)
			}
		})
	}
}

// TestChecksWithoutListsRefusesAnUnknownDefinition: a definition that does
// not read as migration 1 wrote it fails migration 9 and changes nothing.
func TestChecksWithoutListsRefusesAnUnknownDefinition(t *testing.T) {
	ctx := t.Context()
	s := openMigratedTo(t, 9)
	// Run again on the rewritten definition: the old text is gone.
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	definition := func() string {
		t.Helper()
		var def string
		if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE name = 'messages'").Scan(&def); err != nil {
			t.Fatal(err)
		}
		return def
	}
	before := definition()
	if err := checksWithoutLists(ctx, tx); err == nil || !strings.Contains(err.Error(), "does not have") {
		t.Fatalf("checksWithoutLists on a rewritten table = %v, want an error", err)
	}
	if definition() != before {
		t.Fatal("the failed rewrite changed the definition")
	}
}
