package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var fileTests = []test{
	{"CustomerUploadBytes", testCustomerUploadBytes},
	{"Thumbnails", testThumbnails},
	{"GarbageOnDelete", testBlobGarbage},
	{"GarbageOnCustomerDelete", testBlobGarbageCustomer},
	{"GarbageList", testBlobGarbageList},
}

// fileMessage is a file message from sender with one attachment of size bytes.
func fileMessage(convID string, st parley.SenderType, sender string, size int64) *parley.Message {
	a := newAttachment("f-" + unique() + ".pdf")
	a.Size = size
	return &parley.Message{ConversationID: convID, SenderType: st, SenderID: sender, Kind: parley.KindFile,
		Attachments: []*parley.Attachment{a}}
}

func testCustomerUploadBytes(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	cu := mustCustomer(t, s)
	other := mustCustomer(t, s)
	c1 := mustConversationFor(t, s, cu.ID, parley.StatusClosed, agent.ID)
	c2 := mustConversationFor(t, s, cu.ID, parley.StatusActive, agent.ID)
	oc := mustConversationFor(t, s, other.ID, parley.StatusWaiting, "")

	n, err := s.CustomerUploadBytes(ctx, cu.ID)
	must(t, err, "CustomerUploadBytes")
	if n != 0 {
		t.Errorf("before any upload: %d bytes, want 0", n)
	}
	mustAppend(t, s, fileMessage(c1.ID, parley.SenderCustomer, cu.ID, 1000))
	mustAppend(t, s, fileMessage(c2.ID, parley.SenderCustomer, cu.ID, 5<<30)) // past 32 bits
	two := fileMessage(c2.ID, parley.SenderCustomer, cu.ID, 7)
	extra := newAttachment("second.pdf")
	extra.Size = 3
	two.Attachments = append(two.Attachments, extra)
	mustAppend(t, s, two)
	// Not the customer's own: an agent's file in their conversation, and
	// another customer's.
	mustAppend(t, s, fileMessage(c2.ID, parley.SenderAgent, agent.ID, 1<<20))
	mustAppend(t, s, fileMessage(oc.ID, parley.SenderCustomer, other.ID, 99))

	n, err = s.CustomerUploadBytes(ctx, cu.ID)
	must(t, err, "CustomerUploadBytes")
	if want := int64(1000 + 5<<30 + 7 + 3); n != want {
		t.Errorf("CustomerUploadBytes = %d, want %d", n, want)
	}
	n, err = s.CustomerUploadBytes(ctx, other.ID)
	must(t, err, "CustomerUploadBytes other")
	if n != 99 {
		t.Errorf("other customer: %d, want 99", n)
	}
	for _, id := range []string{parley.NewID(), "nope", ""} {
		n, err = s.CustomerUploadBytes(ctx, id)
		if err != nil || n != 0 {
			t.Errorf("CustomerUploadBytes(%q) = %d, %v; want 0, nil", id, n, err)
		}
	}
}

func testThumbnails(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cu := mustCustomer(t, s)
	c := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	m := mustAppend(t, s, fileMessage(c.ID, parley.SenderCustomer, cu.ID, 10))
	att := m.Attachments[0]

	_, err := s.GetThumbnail(ctx, att.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetThumbnail before one is made")
	for _, id := range malformedIDs(att.ID) {
		_, err := s.GetThumbnail(ctx, id)
		wantCode(t, err, parley.ENOTFOUND, "GetThumbnail("+id+")")
	}

	start := time.Now()
	th := &parley.Thumbnail{AttachmentID: att.ID, Key: "thumb-" + unique(), ContentType: "image/jpeg", Size: 4321, Width: 320, Height: 200}
	must(t, s.CreateThumbnail(ctx, th), "CreateThumbnail")
	checkFresh(t, "thumbnail CreatedAt", th.CreatedAt, start)
	got, err := s.GetThumbnail(ctx, att.ID)
	must(t, err, "GetThumbnail")
	roundTrip(t, "GetThumbnail", got, th)

	again := *th
	again.Key = "thumb-" + unique()
	wantCode(t, s.CreateThumbnail(ctx, &again), parley.ECONFLICT, "a second thumbnail")
	got, err = s.GetThumbnail(ctx, att.ID)
	must(t, err, "GetThumbnail after the conflict")
	if got.Key != th.Key {
		t.Errorf("the conflict replaced the thumbnail: key %q, want %q", got.Key, th.Key)
	}

	orphan := *th
	orphan.AttachmentID = parley.NewID()
	wantCode(t, s.CreateThumbnail(ctx, &orphan), parley.ENOTFOUND, "a thumbnail of no attachment")

	for _, bad := range []parley.Thumbnail{
		{AttachmentID: "nope", Key: "k", ContentType: "image/png", Width: 1, Height: 1},
		{AttachmentID: att.ID, Key: "", ContentType: "image/png", Width: 1, Height: 1},
		{AttachmentID: att.ID, Key: "k", ContentType: "image/svg+xml", Width: 1, Height: 1},
		{AttachmentID: att.ID, Key: "k", ContentType: "image/png", Width: 0, Height: 1},
		{AttachmentID: att.ID, Key: "k", ContentType: "image/png", Size: -1, Width: 1, Height: 1},
	} {
		wantCode(t, s.CreateThumbnail(ctx, &bad), parley.EINVALID, "invalid thumbnail")
	}
}

func garbage(t testing.TB, s parley.Store) []string {
	t.Helper()
	keys, err := s.ListBlobGarbage(t.Context(), 1000)
	must(t, err, "ListBlobGarbage")
	slices.Sort(keys)
	return keys
}

func sorted(keys ...string) []string {
	slices.Sort(keys)
	return keys
}

func testBlobGarbage(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cu := mustCustomer(t, s)
	c := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	keep := mustConversationFor(t, s, mustCustomer(t, s).ID, parley.StatusWaiting, "")
	m := mustAppend(t, s, fileMessage(c.ID, parley.SenderCustomer, cu.ID, 10))
	m2 := mustAppend(t, s, fileMessage(c.ID, parley.SenderCustomer, cu.ID, 10))
	kept := mustAppend(t, s, fileMessage(keep.ID, parley.SenderCustomer, keep.CustomerID, 10))
	th := &parley.Thumbnail{AttachmentID: m.Attachments[0].ID, Key: "thumb-" + unique(), ContentType: "image/png", Size: 1, Width: 1, Height: 1}
	must(t, s.CreateThumbnail(ctx, th), "CreateThumbnail")
	kth := &parley.Thumbnail{AttachmentID: kept.Attachments[0].ID, Key: "thumb-" + unique(), ContentType: "image/png", Size: 1, Width: 1, Height: 1}
	must(t, s.CreateThumbnail(ctx, kth), "CreateThumbnail")

	if g := garbage(t, s); len(g) != 0 {
		t.Fatalf("garbage before any delete: %q", g)
	}
	must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
	want := sorted(m.Attachments[0].Key, m2.Attachments[0].Key, th.Key)
	if g := garbage(t, s); !slices.Equal(g, want) {
		t.Errorf("garbage after deleting a conversation = %q, want %q", g, want)
	}
	// A failed write records nothing.
	wantCode(t, s.DeleteConversation(ctx, c.ID), parley.ENOTFOUND, "deleting it again")
	if g := garbage(t, s); !slices.Equal(g, want) {
		t.Errorf("garbage after a failed delete = %q, want %q", g, want)
	}
	must(t, s.ForgetBlobGarbage(ctx, append(want[:1:1], "unknown-key")), "ForgetBlobGarbage")
	if g := garbage(t, s); !slices.Equal(g, want[1:]) {
		t.Errorf("garbage after forgetting one = %q, want %q", g, want[1:])
	}
	must(t, s.ForgetBlobGarbage(ctx, want), "ForgetBlobGarbage all")
	must(t, s.ForgetBlobGarbage(ctx, nil), "ForgetBlobGarbage none")
	if g := garbage(t, s); len(g) != 0 {
		t.Errorf("garbage after forgetting all = %q", g)
	}
	if _, err := s.GetThumbnail(ctx, kth.AttachmentID); err != nil {
		t.Errorf("the other conversation's thumbnail: %v", err)
	}
}

func testBlobGarbageCustomer(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cu := mustCustomer(t, s)
	c1 := mustConversationFor(t, s, cu.ID, parley.StatusClosed, "")
	c2 := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	m1 := mustAppend(t, s, fileMessage(c1.ID, parley.SenderCustomer, cu.ID, 10))
	m2 := mustAppend(t, s, fileMessage(c2.ID, parley.SenderCustomer, cu.ID, 10))
	must(t, s.DeleteCustomer(ctx, cu.ID), "DeleteCustomer")
	want := sorted(m1.Attachments[0].Key, m2.Attachments[0].Key)
	if g := garbage(t, s); !slices.Equal(g, want) {
		t.Errorf("garbage after deleting a customer = %q, want %q", g, want)
	}
}

func testBlobGarbageList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cu := mustCustomer(t, s)
	c := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	for range 5 {
		mustAppend(t, s, fileMessage(c.ID, parley.SenderCustomer, cu.ID, 1))
	}
	must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
	page, err := s.ListBlobGarbage(ctx, 2)
	must(t, err, "ListBlobGarbage(2)")
	if len(page) != 2 {
		t.Errorf("ListBlobGarbage(2) = %d keys", len(page))
	}
	must(t, s.ForgetBlobGarbage(ctx, page), "ForgetBlobGarbage")
	rest := garbage(t, s)
	if len(rest) != 3 || slices.Contains(rest, page[0]) || slices.Contains(rest, page[1]) {
		t.Errorf("after forgetting a page: %q (forgot %q)", rest, page)
	}
	for _, n := range []int{0, -1, 1001} {
		_, err := s.ListBlobGarbage(ctx, n)
		wantCode(t, err, parley.EINVALID, "ListBlobGarbage("+itoa(n)+")")
	}
}
