package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var quickReplyTests = []test{
	{"CreateGetRoundTrip", testQuickReplyRoundTrip},
	{"ShortcutUniqueness", testQuickReplyUniqueness},
	{"ListSharedAndOwn", testQuickReplyList},
	{"Update", testQuickReplyUpdate},
	{"CreateRejected", testQuickReplyRejected},
	{"Delete", testQuickReplyDelete},
}

var sopTests = []test{
	{"CreateGetRoundTrip", testSOPRoundTrip},
	{"UpdateVersions", testSOPUpdate},
	{"Rejected", testSOPRejected},
	{"ListByTitle", testSOPList},
	{"Delete", testSOPDelete},
}

func mustQuickReply(t testing.TB, s parley.Store, owner, shortcut string) *parley.QuickReply {
	t.Helper()
	q := &parley.QuickReply{OwnerID: owner, Shortcut: shortcut, Text: "Hi {{customer.name}}, " + shortcut}
	must(t, s.CreateQuickReply(t.Context(), q), "CreateQuickReply("+shortcut+")")
	return q
}

func testQuickReplyRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	for _, owner := range []string{"", u.ID} {
		start := time.Now()
		q := &parley.QuickReply{OwnerID: owner, Shortcut: "/thanks", Text: strings.Repeat("ö", parley.MaxQuickReplyTextLen)}
		must(t, s.CreateQuickReply(ctx, q), "CreateQuickReply")
		if !parley.ValidID(q.ID) {
			t.Fatalf("CreateQuickReply filled ID %q", q.ID)
		}
		checkFresh(t, "CreatedAt", q.CreatedAt, start)
		checkFresh(t, "UpdatedAt", q.UpdatedAt, start)
		got, err := s.GetQuickReply(ctx, q.ID)
		must(t, err, "GetQuickReply")
		roundTrip(t, "GetQuickReply", got, q)
	}
}

func testQuickReplyUniqueness(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	mustQuickReply(t, s, "", "/hi")
	mustQuickReply(t, s, a.ID, "/hi")
	mustQuickReply(t, s, b.ID, "/hi")
	for _, tc := range []struct {
		name, owner string
	}{
		{"shared again", ""},
		{"a again", a.ID},
	} {
		q := &parley.QuickReply{OwnerID: tc.owner, Shortcut: "/hi", Text: "dup"}
		wantCode(t, s.CreateQuickReply(ctx, q), parley.ECONFLICT, "CreateQuickReply("+tc.name+")")
	}
	// Shortcuts differ by case.
	mustQuickReply(t, s, "", "/HI")
	for _, owner := range []string{"", a.ID, b.ID} {
		qs, err := s.ListQuickReplies(ctx, owner)
		must(t, err, "ListQuickReplies")
		var own int
		for _, q := range qs {
			if q.OwnerID == owner && q.Shortcut == "/hi" {
				own++
			}
		}
		if own != 1 {
			t.Errorf("owner %q has %d replies /hi, want 1", owner, own)
		}
	}
}

func testQuickReplyList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAgent)
	var made []*parley.QuickReply
	for _, x := range []struct{ owner, shortcut string }{
		{"", "/zebra"}, {a.ID, "/bye"}, {"", "/bye"}, {b.ID, "/apple"}, {a.ID, "/zebra"}, {"", "/middle"}, {b.ID, "/b-only"},
	} {
		made = append(made, mustQuickReply(t, s, x.owner, x.shortcut))
	}
	for _, tc := range []struct {
		name, owner string
	}{
		{"shared only", ""},
		{"a", a.ID},
		{"b", b.ID},
		{"someone without replies", parley.NewID()},
	} {
		var want []*parley.QuickReply
		for _, q := range made {
			if q.OwnerID == "" || q.OwnerID == tc.owner {
				want = append(want, q)
			}
		}
		slices.SortFunc(want, func(x, y *parley.QuickReply) int {
			if c := strings.Compare(x.Shortcut, y.Shortcut); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
		got, err := s.ListQuickReplies(ctx, tc.owner)
		must(t, err, "ListQuickReplies("+tc.name+")")
		if len(got) != len(want) {
			t.Errorf("ListQuickReplies(%s) = %d replies, want %d", tc.name, len(got), len(want))
			continue
		}
		for i := range got {
			roundTrip(t, "ListQuickReplies("+tc.name+") item "+itoa(i), got[i], want[i])
		}
	}
}

func testQuickReplyUpdate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	q := mustQuickReply(t, s, a.ID, "/one")
	mustQuickReply(t, s, a.ID, "/two")
	mustQuickReply(t, s, "", "/shared")

	start := time.Now()
	got, err := s.UpdateQuickReply(ctx, q.ID, parley.QuickReplyUpdate{Text: ptr("new text")})
	must(t, err, "UpdateQuickReply(text)")
	want := *q
	want.Text = "new text"
	checkFresh(t, "UpdatedAt", got.UpdatedAt, start)
	want.UpdatedAt = got.UpdatedAt
	roundTrip(t, "UpdateQuickReply(text)", got, &want)

	// A personal reply may take a shortcut the shared set uses.
	got, err = s.UpdateQuickReply(ctx, q.ID, parley.QuickReplyUpdate{Shortcut: ptr("/shared")})
	must(t, err, "UpdateQuickReply(shortcut)")
	want.Shortcut, want.UpdatedAt = "/shared", got.UpdatedAt
	roundTrip(t, "UpdateQuickReply(shortcut)", got, &want)
	stored, err := s.GetQuickReply(ctx, q.ID)
	must(t, err, "GetQuickReply")
	roundTrip(t, "GetQuickReply after updates", stored, &want)

	for _, tc := range []struct {
		name string
		up   parley.QuickReplyUpdate
		code string
	}{
		{"shortcut taken", parley.QuickReplyUpdate{Shortcut: ptr("/two")}, parley.ECONFLICT},
		{"empty shortcut", parley.QuickReplyUpdate{Shortcut: ptr("")}, parley.EINVALID},
		{"long shortcut", parley.QuickReplyUpdate{Shortcut: ptr(strings.Repeat("s", parley.MaxShortcutLen+1))}, parley.EINVALID},
		{"empty text", parley.QuickReplyUpdate{Text: ptr("")}, parley.EINVALID},
		{"NUL in text", parley.QuickReplyUpdate{Text: ptr("a\x00")}, parley.EINVALID},
		{"long text", parley.QuickReplyUpdate{Text: ptr(strings.Repeat("t", parley.MaxQuickReplyTextLen+1))}, parley.EINVALID},
	} {
		_, err := s.UpdateQuickReply(ctx, q.ID, tc.up)
		wantCode(t, err, tc.code, "UpdateQuickReply("+tc.name+")")
		stored, err := s.GetQuickReply(ctx, q.ID)
		must(t, err, "GetQuickReply")
		roundTrip(t, "reply after rejected UpdateQuickReply("+tc.name+")", stored, &want)
	}
}

func testQuickReplyRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	for _, tc := range []struct {
		name string
		q    parley.QuickReply
		code string
	}{
		{"unknown owner", parley.QuickReply{OwnerID: parley.NewID(), Shortcut: "/x", Text: "x"}, parley.ENOTFOUND},
		{"malformed owner", parley.QuickReply{OwnerID: "me", Shortcut: "/x", Text: "x"}, parley.EINVALID},
		{"empty shortcut", parley.QuickReply{Shortcut: "", Text: "x"}, parley.EINVALID},
		{"long shortcut", parley.QuickReply{Shortcut: strings.Repeat("s", parley.MaxShortcutLen+1), Text: "x"}, parley.EINVALID},
		{"NUL in shortcut", parley.QuickReply{Shortcut: "/\x00", Text: "x"}, parley.EINVALID},
		{"empty text", parley.QuickReply{OwnerID: u.ID, Shortcut: "/x"}, parley.EINVALID},
		{"long text", parley.QuickReply{Shortcut: "/x", Text: strings.Repeat("t", parley.MaxQuickReplyTextLen+1)}, parley.EINVALID},
	} {
		q := tc.q
		wantCode(t, s.CreateQuickReply(ctx, &q), tc.code, "CreateQuickReply("+tc.name+")")
	}
	for _, owner := range []string{"", u.ID} {
		qs, err := s.ListQuickReplies(ctx, owner)
		must(t, err, "ListQuickReplies")
		if len(qs) != 0 {
			t.Errorf("%d replies after rejected creations", len(qs))
		}
	}
}

func testQuickReplyDelete(t *testing.T, s parley.Store) {
	ctx := t.Context()
	q := mustQuickReply(t, s, "", "/gone")
	keep := mustQuickReply(t, s, "", "/kept")
	must(t, s.DeleteQuickReply(ctx, q.ID), "DeleteQuickReply")
	_, err := s.GetQuickReply(ctx, q.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetQuickReply(deleted)")
	wantCode(t, s.DeleteQuickReply(ctx, q.ID), parley.ENOTFOUND, "DeleteQuickReply(again)")
	if _, err := s.GetQuickReply(ctx, keep.ID); err != nil {
		t.Errorf("other reply gone: %v", err)
	}
	// The shortcut is free again.
	mustQuickReply(t, s, "", "/gone")
}

func newSOP(author string) *parley.SOPDocument {
	return &parley.SOPDocument{
		Title:     "Refunds " + unique(),
		Body:      "# Refunds\n\n1. Check the order.\n2. Ask a lead when over €100.\n",
		Tags:      []string{"billing", "refunds", "ünïcode tag"},
		CreatedBy: author,
		UpdatedBy: author,
	}
}

func testSOPRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleTeamLead)
	for _, tags := range [][]string{{"billing", "refunds", "ünïcode tag"}, nil, {}, {"z", "a", "z"}} {
		start := time.Now()
		d := newSOP(u.ID)
		d.Tags = tags
		d.Version = 42 // ignored: documents start at version 1
		must(t, s.CreateSOP(ctx, d), "CreateSOP")
		if !parley.ValidID(d.ID) || d.Version != 1 {
			t.Errorf("CreateSOP filled ID %q version %d, want a valid id and 1", d.ID, d.Version)
		}
		checkFresh(t, "CreatedAt", d.CreatedAt, start)
		checkFresh(t, "UpdatedAt", d.UpdatedAt, start)
		got, err := s.GetSOP(ctx, d.ID)
		must(t, err, "GetSOP")
		roundTrip(t, "GetSOP (tags "+strings.Join(tags, ",")+")", got, d)
	}
	big := newSOP(u.ID)
	big.Body = strings.Repeat("x", parley.MaxSOPBodyLen)
	must(t, s.CreateSOP(ctx, big), "CreateSOP(max body)")
	got, err := s.GetSOP(ctx, big.ID)
	must(t, err, "GetSOP")
	if got.Body != big.Body {
		t.Errorf("a body of %d characters read back as %d", len(big.Body), len(got.Body))
	}
}

func testSOPUpdate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	author := mustUser(t, s, parley.RoleTeamLead)
	editor := mustUser(t, s, parley.RoleAdmin)
	d := newSOP(author.ID)
	must(t, s.CreateSOP(ctx, d), "CreateSOP")
	want := *d
	steps := []struct {
		name  string
		up    parley.SOPUpdate
		apply func(d *parley.SOPDocument)
	}{
		{"title", parley.SOPUpdate{Title: ptr("Refunds, revised"), UpdatedBy: editor.ID},
			func(d *parley.SOPDocument) { d.Title = "Refunds, revised" }},
		{"body expecting 2", parley.SOPUpdate{Body: ptr("new body"), UpdatedBy: author.ID, ExpectVersion: 2},
			func(d *parley.SOPDocument) { d.Body = "new body" }},
		{"tags replaced", parley.SOPUpdate{Tags: []string{"only"}, UpdatedBy: editor.ID},
			func(d *parley.SOPDocument) { d.Tags = []string{"only"} }},
		{"tags kept when nil", parley.SOPUpdate{Title: ptr("T"), UpdatedBy: editor.ID},
			func(d *parley.SOPDocument) { d.Title = "T" }},
		{"tags cleared", parley.SOPUpdate{Tags: []string{}, UpdatedBy: editor.ID, ExpectVersion: 5},
			func(d *parley.SOPDocument) { d.Tags = nil }},
	}
	for i, st := range steps {
		start := time.Now()
		got, err := s.UpdateSOP(ctx, d.ID, st.up)
		if err != nil {
			t.Fatalf("UpdateSOP(%s): %v", st.name, err)
		}
		st.apply(&want)
		want.Version = i + 2
		want.UpdatedBy = st.up.UpdatedBy
		checkFresh(t, "UpdatedAt", got.UpdatedAt, start)
		want.UpdatedAt = got.UpdatedAt
		roundTrip(t, "UpdateSOP("+st.name+")", got, &want)
		stored, err := s.GetSOP(ctx, d.ID)
		must(t, err, "GetSOP")
		roundTrip(t, "GetSOP after UpdateSOP("+st.name+")", stored, &want)
	}
	for _, tc := range []struct {
		name string
		up   parley.SOPUpdate
		code string
	}{
		{"stale version", parley.SOPUpdate{Title: ptr("lost"), UpdatedBy: editor.ID, ExpectVersion: 1}, parley.ECONFLICT},
		{"future version", parley.SOPUpdate{Title: ptr("lost"), UpdatedBy: editor.ID, ExpectVersion: 99}, parley.ECONFLICT},
		{"no editor", parley.SOPUpdate{Title: ptr("x")}, parley.EINVALID},
		{"malformed editor", parley.SOPUpdate{Title: ptr("x"), UpdatedBy: "ed"}, parley.EINVALID},
		{"unknown editor", parley.SOPUpdate{Title: ptr("x"), UpdatedBy: parley.NewID()}, parley.ENOTFOUND},
		{"empty title", parley.SOPUpdate{Title: ptr(""), UpdatedBy: editor.ID}, parley.EINVALID},
		{"too many tags", parley.SOPUpdate{Tags: make([]string, parley.MaxTags+1), UpdatedBy: editor.ID}, parley.EINVALID},
		{"empty tag", parley.SOPUpdate{Tags: []string{"ok", ""}, UpdatedBy: editor.ID}, parley.EINVALID},
		{"NUL in body", parley.SOPUpdate{Body: ptr("\x00"), UpdatedBy: editor.ID}, parley.EINVALID},
	} {
		_, err := s.UpdateSOP(ctx, d.ID, tc.up)
		wantCode(t, err, tc.code, "UpdateSOP("+tc.name+")")
		stored, err := s.GetSOP(ctx, d.ID)
		must(t, err, "GetSOP")
		roundTrip(t, "document after rejected UpdateSOP("+tc.name+")", stored, &want)
	}
}

func testSOPRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleTeamLead)
	cases := []struct {
		name string
		edit func(d *parley.SOPDocument)
		code string
	}{
		{"unknown author", func(d *parley.SOPDocument) { d.CreatedBy, d.UpdatedBy = parley.NewID(), parley.NewID() }, parley.ENOTFOUND},
		{"no author", func(d *parley.SOPDocument) { d.CreatedBy = "" }, parley.EINVALID},
		{"malformed author", func(d *parley.SOPDocument) { d.UpdatedBy = "u" }, parley.EINVALID},
		{"empty title", func(d *parley.SOPDocument) { d.Title = "" }, parley.EINVALID},
		{"long title", func(d *parley.SOPDocument) { d.Title = strings.Repeat("t", parley.MaxTitleLen+1) }, parley.EINVALID},
		{"long body", func(d *parley.SOPDocument) { d.Body = strings.Repeat("b", parley.MaxSOPBodyLen+1) }, parley.EINVALID},
		{"too many tags", func(d *parley.SOPDocument) {
			d.Tags = nil
			for i := range parley.MaxTags + 1 {
				d.Tags = append(d.Tags, "t"+itoa(i))
			}
		}, parley.EINVALID},
		{"long tag", func(d *parley.SOPDocument) { d.Tags = []string{strings.Repeat("g", parley.MaxTagLen+1)} }, parley.EINVALID},
		{"NUL in title", func(d *parley.SOPDocument) { d.Title = "a\x00" }, parley.EINVALID},
	}
	for _, tc := range cases {
		d := newSOP(u.ID)
		tc.edit(d)
		wantCode(t, s.CreateSOP(ctx, d), tc.code, "CreateSOP("+tc.name+")")
	}
	ds, err := s.ListSOPs(ctx)
	must(t, err, "ListSOPs")
	if len(ds) != 0 {
		t.Errorf("%d documents after rejected creations", len(ds))
	}
}

func testSOPList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleTeamLead)
	var made []*parley.SOPDocument
	for _, title := range []string{"Shipping", "Billing", "Returns", "Billing", "Accounts"} {
		d := newSOP(u.ID)
		d.Title = title
		must(t, s.CreateSOP(ctx, d), "CreateSOP")
		made = append(made, d)
	}
	slices.SortFunc(made, func(x, y *parley.SOPDocument) int {
		if c := strings.Compare(x.Title, y.Title); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	got, err := s.ListSOPs(ctx)
	must(t, err, "ListSOPs")
	if len(got) != len(made) {
		t.Fatalf("ListSOPs = %d, want %d", len(got), len(made))
	}
	for i := range got {
		roundTrip(t, "ListSOPs item "+itoa(i), got[i], made[i])
	}
}

func testSOPDelete(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleTeamLead)
	d := newSOP(u.ID)
	must(t, s.CreateSOP(ctx, d), "CreateSOP")
	keep := newSOP(u.ID)
	must(t, s.CreateSOP(ctx, keep), "CreateSOP")
	must(t, s.DeleteSOP(ctx, d.ID), "DeleteSOP")
	_, err := s.GetSOP(ctx, d.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetSOP(deleted)")
	wantCode(t, s.DeleteSOP(ctx, d.ID), parley.ENOTFOUND, "DeleteSOP(again)")
	if _, err := s.GetSOP(ctx, keep.ID); err != nil {
		t.Errorf("other document gone: %v", err)
	}
}
