package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var messageTests = []test{
	{"AppendRoundTrip", testAppendRoundTrip},
	{"AppendBumpsConversation", testAppendBumps},
	{"Preview", testAppendPreview},
	{"Attachments", testAttachments},
	{"Idempotent", testAppendIdempotent},
	{"IdempotencyKeyScope", testIdempotencyScope},
	{"ConcurrentSeqsGapless", testConcurrentAppend},
	{"ConcurrentDuplicateStoredOnce", testConcurrentDuplicate},
	{"AppendInvalidWritesNothing", testAppendInvalid},
	{"AppendFailedTxWritesNothing", testAppendFailedTx},
	{"AppendUnknownConversation", testAppendUnknownConversation},
	{"AppendExpect", testAppendExpect},
	{"List", testListMessages},
	{"ListDefaultLimit", testListMessagesDefaultLimit},
}

func testAppendRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)
	msgs := []*parley.Message{
		{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID, Kind: parley.KindText,
			Content: "Hallo, één vraag 👋", ClientMsgID: "c-1", Metadata: parley.Metadata{"page": "/x", "n": 1.0}},
		{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID, Kind: parley.KindText,
			Content: strings.Repeat("é", parley.MaxContentLen)},
		{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID, Kind: parley.KindNote,
			Content: "  internal note\nwith lines  "},
		{ConversationID: c.ID, SenderType: parley.SenderSystem, Kind: parley.KindSystem, Content: "Conversation assigned"},
		{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID, Kind: parley.KindText,
			Content: "same text", Metadata: parley.Metadata{}},
		{ConversationID: c.ID, ID: parley.NewID(), SenderType: parley.SenderCustomer, SenderID: c.CustomerID, Kind: parley.KindText,
			Content: "same text"},
	}
	for i, m := range msgs {
		given := m.ID
		start := time.Now()
		mustAppend(t, s, m)
		if !parley.ValidID(m.ID) || (given != "" && m.ID != given) {
			t.Errorf("message %d: ID %q (given %q)", i, m.ID, given)
		}
		if m.Seq != int64(i+1) {
			t.Errorf("message %d: seq %d, want %d", i, m.Seq, i+1)
		}
		checkFresh(t, "CreatedAt", m.CreatedAt, start)
		got, err := s.GetMessage(ctx, m.ID)
		must(t, err, "GetMessage")
		roundTrip(t, "GetMessage", got, m)
	}
	list := mustMessages(t, s, c.ID, parley.MessageFilter{})
	if len(list) != len(msgs) {
		t.Fatalf("ListMessages = %d, want %d", len(list), len(msgs))
	}
	for i := range list {
		roundTrip(t, "ListMessages item", list[i], msgs[i])
	}
}

func testAppendBumps(t *testing.T, s parley.Store) {
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)
	steps := []struct {
		m                  *parley.Message
		lastCustomerSeq    int64
		previewFromThisOne bool
	}{
		{textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "first question"), 1, true},
		{textMessage(c.ID, parley.SenderAgent, agent.ID, "an answer"), 1, true},
		{&parley.Message{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID, Kind: parley.KindNote, Content: "private"}, 1, false},
		{textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "follow-up"), 4, true},
		{textMessage(c.ID, parley.SenderSystem, "", "Agent joined"), 4, true},
		{&parley.Message{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID, Kind: parley.KindNote, Content: "another note"}, 4, false},
	}
	preview := ""
	for i, st := range steps {
		before := mustGetConversation(t, s, c.ID)
		mustAppend(t, s, st.m)
		if st.previewFromThisOne {
			preview = st.m.Preview()
		}
		got := mustGetConversation(t, s, c.ID)
		want := *before
		want.LastSeq = int64(i + 1)
		want.LastCustomerSeq = st.lastCustomerSeq
		want.LastMessagePreview = preview
		want.LastMessageAt = &st.m.CreatedAt
		if got.UpdatedAt.Before(st.m.CreatedAt) || got.UpdatedAt.Before(before.UpdatedAt) {
			t.Errorf("step %d: UpdatedAt %s not bumped (message at %s, before %s)", i, got.UpdatedAt, st.m.CreatedAt, before.UpdatedAt)
		}
		want.UpdatedAt = got.UpdatedAt
		roundTrip(t, "conversation after append "+itoa(i+1)+" ("+string(st.m.Kind)+" from "+string(st.m.SenderType)+")", got, &want)
	}
}

func testAppendPreview(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	long := strings.Repeat("ж", parley.MaxPreviewLen) + "tail"
	mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, long))
	if got := mustGetConversation(t, s, c.ID).LastMessagePreview; got != strings.Repeat("ж", parley.MaxPreviewLen) {
		t.Errorf("preview of a long message = %q (%d bytes), want its first %d characters", got, len(got), parley.MaxPreviewLen)
	}
	file := &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID, Kind: parley.KindFile,
		Attachments: []*parley.Attachment{newAttachment("invoice-2025.pdf")}}
	mustAppend(t, s, file)
	if got := mustGetConversation(t, s, c.ID).LastMessagePreview; got != "invoice-2025.pdf" {
		t.Errorf("preview of a file message without text = %q, want the file name", got)
	}
}

func testAttachments(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusWaiting, "")
	img := newAttachment("photo.png")
	img.Type, img.ContentType, img.Size = parley.AttachmentImage, "image/png", 1<<40
	doc := newAttachment("contract — signed.pdf")
	doc.ID = parley.NewID()
	doc.Size = 0
	m := &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID, Kind: parley.KindFile,
		Content: "see attached", Attachments: []*parley.Attachment{img, doc}}
	start := time.Now()
	mustAppend(t, s, m)
	givenDoc := doc.ID
	for _, a := range m.Attachments {
		if !parley.ValidID(a.ID) || a.MessageID != m.ID || a.ConversationID != c.ID {
			t.Errorf("attachment filled as ID %q MessageID %q ConversationID %q", a.ID, a.MessageID, a.ConversationID)
		}
		checkFresh(t, "attachment CreatedAt", a.CreatedAt, start)
	}
	if doc.ID != givenDoc {
		t.Errorf("given attachment id replaced")
	}
	for _, a := range m.Attachments {
		got, err := s.GetAttachment(ctx, a.ID)
		must(t, err, "GetAttachment")
		roundTrip(t, "GetAttachment", got, a)
	}
	check := func(what string, got *parley.Message) {
		t.Helper()
		if len(got.Attachments) != 2 {
			t.Errorf("%s: %d attachments, want 2", what, len(got.Attachments))
			return
		}
		// store.go does not order a message's attachments; match by id.
		byID := map[string]*parley.Attachment{}
		for _, a := range got.Attachments {
			byID[a.ID] = a
		}
		for _, a := range m.Attachments {
			if byID[a.ID] == nil {
				t.Errorf("%s: attachment %s missing", what, a.ID)
				continue
			}
			roundTrip(t, what+" attachment", byID[a.ID], a)
		}
		g := *got
		w := *m
		g.Attachments, w.Attachments = nil, nil
		roundTrip(t, what, &g, &w)
	}
	got, err := s.GetMessage(ctx, m.ID)
	must(t, err, "GetMessage")
	check("GetMessage", got)
	list := mustMessages(t, s, c.ID, parley.MessageFilter{})
	if len(list) != 1 {
		t.Fatalf("ListMessages = %d", len(list))
	}
	check("ListMessages", list[0])
	_, err = s.GetAttachment(ctx, parley.NewID())
	wantCode(t, err, parley.ENOTFOUND, "GetAttachment(unknown)")
}

func testAppendIdempotent(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusWaiting, "")
	first := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "original")
	first.ClientMsgID = "tab1-0001"
	first.Metadata = parley.Metadata{"try": 1.0}
	mustAppend(t, s, first)
	mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "next"))
	before := mustGetConversation(t, s, c.ID)

	retry := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "changed on retry")
	retry.ClientMsgID = first.ClientMsgID
	retry.Metadata = parley.Metadata{"try": 2.0}
	created, err := s.AppendMessage(ctx, retry)
	must(t, err, "AppendMessage(retry)")
	if created {
		t.Errorf("retried append reported created = true")
	}
	roundTrip(t, "retried append is filled with the stored message", retry, first)
	roundTrip(t, "conversation after a retried append", mustGetConversation(t, s, c.ID), before)
	if n := len(mustMessages(t, s, c.ID, parley.MessageFilter{})); n != 2 {
		t.Errorf("%d messages after a retry, want 2", n)
	}

	// Without a client id nothing is deduplicated.
	a := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "same"))
	b := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "same"))
	if a.ID == b.ID || b.Seq != a.Seq+1 {
		t.Errorf("two appends without a client id: ids %s %s, seqs %d %d", a.ID, b.ID, a.Seq, b.Seq)
	}
	for _, m := range []*parley.Message{a, b} {
		got, err := s.GetMessage(ctx, m.ID)
		must(t, err, "GetMessage")
		if got.ClientMsgID != "" {
			t.Errorf("empty client id read back as %q", got.ClientMsgID)
		}
	}
}

func testIdempotencyScope(t *testing.T, s parley.Store) {
	agent := mustUser(t, s, parley.RoleAgent)
	c1 := mustConversation(t, s, parley.StatusActive, agent.ID)
	c2 := mustConversation(t, s, parley.StatusActive, agent.ID)
	const key = "k-42"
	mk := func(conv *parley.Conversation, st parley.SenderType, sender string) *parley.Message {
		m := textMessage(conv.ID, st, sender, "x")
		m.ClientMsgID = key
		return m
	}
	ms := []*parley.Message{
		mustAppend(t, s, mk(c1, parley.SenderCustomer, c1.CustomerID)),
		mustAppend(t, s, mk(c1, parley.SenderAgent, agent.ID)),
		mustAppend(t, s, mk(c2, parley.SenderAgent, agent.ID)),
		mustAppend(t, s, mk(c2, parley.SenderCustomer, c2.CustomerID)),
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.ID] {
			t.Errorf("message %s returned twice across senders/conversations", m.ID)
		}
		seen[m.ID] = true
	}
	if got := mustGetConversation(t, s, c1.ID).LastSeq; got != 2 {
		t.Errorf("c1 LastSeq = %d, want 2", got)
	}
	if got := mustGetConversation(t, s, c2.ID).LastSeq; got != 2 {
		t.Errorf("c2 LastSeq = %d, want 2", got)
	}
	// And each of them is now deduplicated on its own key.
	for i, orig := range ms {
		var conv *parley.Conversation
		if i < 2 {
			conv = c1
		} else {
			conv = c2
		}
		again := mk(conv, orig.SenderType, orig.SenderID)
		created, err := s.AppendMessage(t.Context(), again)
		must(t, err, "AppendMessage(retry)")
		if created || again.ID != orig.ID {
			t.Errorf("retry %d: created %v id %s, want false and %s", i, created, again.ID, orig.ID)
		}
	}
}

func testConcurrentAppend(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)
	const n = 50
	ms := make([]*parley.Message, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			m := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "message "+itoa(i))
			if i%2 == 1 {
				m = textMessage(c.ID, parley.SenderAgent, agent.ID, "reply "+itoa(i))
			}
			m.ClientMsgID = "w" + itoa(i)
			<-start
			_, errs[i] = s.AppendMessage(ctx, m)
			ms[i] = m
		})
	}
	close(start)
	wg.Wait()
	var seqs []int64
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
			continue
		}
		seqs = append(seqs, ms[i].Seq)
	}
	slices.Sort(seqs)
	for i, sq := range seqs {
		if sq != int64(i+1) {
			t.Fatalf("seqs handed out = %v, want 1..%d with no gap or repeat", seqs, n)
		}
	}
	list := mustMessages(t, s, c.ID, parley.MessageFilter{})
	if len(list) != n {
		t.Fatalf("ListMessages = %d, want %d", len(list), n)
	}
	var maxCustomer int64
	for i, m := range list {
		if m.Seq != int64(i+1) {
			t.Errorf("stored seq %d at position %d", m.Seq, i)
		}
		if m.SenderType == parley.SenderCustomer {
			maxCustomer = m.Seq
		}
	}
	got := mustGetConversation(t, s, c.ID)
	if got.LastSeq != n || got.LastCustomerSeq != maxCustomer {
		t.Errorf("LastSeq %d LastCustomerSeq %d, want %d and %d", got.LastSeq, got.LastCustomerSeq, n, maxCustomer)
	}
	last := list[n-1]
	if got.LastMessageAt == nil || !got.LastMessageAt.Equal(last.CreatedAt) {
		// Seqs and times come from the same transaction, so the newest
		// message by seq is also the one the conversation points at.
		t.Errorf("LastMessageAt %v, want the time of seq %d (%s)", got.LastMessageAt, last.Seq, last.CreatedAt)
	}
}

func testConcurrentDuplicate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusWaiting, "")
	const n = 20
	ms := make([]*parley.Message, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			m := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "double-clicked send")
			m.ClientMsgID = "same-key"
			<-start
			created[i], errs[i] = s.AppendMessage(ctx, m)
			ms[i] = m
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
			continue
		}
		if created[i] {
			wins++
		}
		ids[ms[i].ID] = true
		if ms[i].Seq != 1 {
			t.Errorf("caller %d got seq %d, want 1", i, ms[i].Seq)
		}
	}
	if wins != 1 {
		t.Errorf("%d callers got created = true, want exactly 1", wins)
	}
	if len(ids) != 1 {
		t.Errorf("callers got %d different message ids, want 1", len(ids))
	}
	if n := len(mustMessages(t, s, c.ID, parley.MessageFilter{})); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
	if got := mustGetConversation(t, s, c.ID); got.LastSeq != 1 || got.LastCustomerSeq != 1 {
		t.Errorf("LastSeq %d LastCustomerSeq %d, want 1 and 1", got.LastSeq, got.LastCustomerSeq)
	}
}

func testAppendInvalid(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)
	mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "hi"))
	sn := takeSnapshot(t, s, c.ID)
	badAttachment := newAttachment("x.pdf")
	badAttachment.Checksum = "short"
	cases := []struct {
		name string
		edit func(m *parley.Message)
	}{
		{"empty content", func(m *parley.Message) { m.Content = "" }},
		{"blank content", func(m *parley.Message) { m.Content = " \t\n\u00a0" }},
		{"content too long", func(m *parley.Message) { m.Content = strings.Repeat("a", parley.MaxContentLen+1) }},
		{"NUL in content", func(m *parley.Message) { m.Content = "a\x00b" }},
		{"invalid UTF-8", func(m *parley.Message) { m.Content = "\xc3\x28" }},
		{"bad kind", func(m *parley.Message) { m.Kind = "sticker" }},
		{"bad sender type", func(m *parley.Message) { m.SenderType = "bot" }},
		{"missing sender", func(m *parley.Message) { m.SenderID = "" }},
		{"malformed sender", func(m *parley.Message) { m.SenderID = "cust-1" }},
		{"system with sender", func(m *parley.Message) { m.SenderType, m.Kind = parley.SenderSystem, parley.KindSystem }},
		{"note from customer", func(m *parley.Message) { m.Kind = parley.KindNote }},
		{"client id too long", func(m *parley.Message) { m.ClientMsgID = strings.Repeat("k", parley.MaxClientMsgIDLen+1) }},
		{"malformed given id", func(m *parley.Message) { m.ID = "m1" }},
		{"file without attachment", func(m *parley.Message) { m.Kind = parley.KindFile }},
		{"text with attachment", func(m *parley.Message) { m.Attachments = []*parley.Attachment{newAttachment("a.pdf")} }},
		{"invalid attachment", func(m *parley.Message) {
			m.Kind = parley.KindFile
			m.Attachments = []*parley.Attachment{newAttachment("ok.pdf"), badAttachment}
		}},
		{"too many attachments", func(m *parley.Message) {
			m.Kind = parley.KindFile
			for range parley.MaxAttachments + 1 {
				m.Attachments = append(m.Attachments, newAttachment("a.pdf"))
			}
		}},
		{"huge metadata", func(m *parley.Message) {
			m.Metadata = parley.Metadata{"x": strings.Repeat("x", parley.MaxMetadataBytes)}
		}},
	}
	for _, tc := range cases {
		m := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "hello")
		tc.edit(m)
		_, err := s.AppendMessage(ctx, m)
		wantCode(t, err, parley.EINVALID, "AppendMessage("+tc.name+")")
		sn.check(t, s, "after AppendMessage("+tc.name+")")
	}
}

// These pass Validate and fail inside the transaction, after the seq was
// taken: the rollback must undo the seq bump and every row already inserted.
func testAppendFailedTx(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusWaiting, "")
	existing := mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{newAttachment("a.pdf")}})
	sn := takeSnapshot(t, s, c.ID)

	cases := []struct {
		name string
		make func() *parley.Message
	}{
		{"message id taken", func() *parley.Message {
			m := textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "dup id")
			m.ID = existing.ID
			return m
		}},
		{"attachment id taken", func() *parley.Message {
			a := newAttachment("b.pdf")
			a.ID = existing.Attachments[0].ID
			return &parley.Message{ID: parley.NewID(), ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID,
				Kind: parley.KindFile, Content: "two", Attachments: []*parley.Attachment{newAttachment("first.pdf"), a}}
		}},
		{"attachment ids repeat", func() *parley.Message {
			a, b := newAttachment("c.pdf"), newAttachment("d.pdf")
			a.ID = parley.NewID()
			b.ID = a.ID
			return &parley.Message{ID: parley.NewID(), ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID,
				Kind: parley.KindFile, Attachments: []*parley.Attachment{a, b}}
		}},
	}
	for _, tc := range cases {
		m := tc.make()
		_, err := s.AppendMessage(ctx, m)
		wantCode(t, err, parley.ECONFLICT, "AppendMessage("+tc.name+")")
		sn.check(t, s, "after AppendMessage("+tc.name+")")
		if m.ID != existing.ID {
			_, err := s.GetMessage(ctx, m.ID)
			wantCode(t, err, parley.ENOTFOUND, "message of a failed append ("+tc.name+")")
		}
		for _, a := range m.Attachments {
			if a.ID != "" && a.ID != existing.Attachments[0].ID {
				_, err := s.GetAttachment(ctx, a.ID)
				wantCode(t, err, parley.ENOTFOUND, "attachment of a failed append ("+tc.name+")")
			}
		}
	}
	got, err := s.GetAttachment(ctx, existing.Attachments[0].ID)
	must(t, err, "GetAttachment(existing)")
	roundTrip(t, "existing attachment", got, existing.Attachments[0])
	next := mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "after failures"))
	if next.Seq != 2 {
		t.Errorf("next append after failed ones got seq %d, want 2", next.Seq)
	}
}

func testAppendUnknownConversation(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cu := mustCustomer(t, s)
	convID := parley.NewID()
	a := newAttachment("lost.pdf")
	a.ID = parley.NewID()
	m := &parley.Message{ID: parley.NewID(), ConversationID: convID, SenderType: parley.SenderCustomer, SenderID: cu.ID,
		Kind: parley.KindFile, Content: "into the void", ClientMsgID: "v1", Attachments: []*parley.Attachment{a}}
	_, err := s.AppendMessage(ctx, m)
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage(unknown conversation)")
	_, err = s.GetMessage(ctx, m.ID)
	wantCode(t, err, parley.ENOTFOUND, "message appended to an unknown conversation")
	_, err = s.GetAttachment(ctx, a.ID)
	wantCode(t, err, parley.ENOTFOUND, "attachment appended to an unknown conversation")
	if n := len(mustMessages(t, s, convID, parley.MessageFilter{})); n != 0 {
		t.Errorf("ListMessages(unknown conversation) = %d", n)
	}
	// A deleted conversation is as unknown.
	c := mustConversationFor(t, s, cu.ID, parley.StatusWaiting, "")
	must(t, s.DeleteConversation(ctx, c.ID), "DeleteConversation")
	_, err = s.AppendMessage(ctx, textMessage(c.ID, parley.SenderCustomer, cu.ID, "late"))
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage(deleted conversation)")
}

// testAppendExpect checks Message.Expect: an append made on the condition
// that the conversation's status and assignee are still what the sender was
// checked against writes nothing, and says conflict, once they are not.
func testAppendExpect(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustConversation(t, s, parley.StatusWaiting, "")
	agentA := mustUser(t, s, parley.RoleAgent)
	agentB := mustUser(t, s, parley.RoleAgent)
	expect := func(st parley.Status, assignee string) *parley.ConversationState {
		return &parley.ConversationState{Status: st, AssigneeID: assignee}
	}
	// refused appends m under e and fails unless it conflicts and writes
	// nothing.
	refused := func(what string, m *parley.Message, e *parley.ConversationState) {
		t.Helper()
		before := mustGetConversation(t, s, c.ID)
		m.ID, m.Expect = parley.NewID(), e
		_, err := s.AppendMessage(ctx, m)
		wantCode(t, err, parley.ECONFLICT, what)
		_, err = s.GetMessage(ctx, m.ID)
		wantCode(t, err, parley.ENOTFOUND, what+": the message")
		for _, a := range m.Attachments {
			_, err = s.GetAttachment(ctx, a.ID)
			wantCode(t, err, parley.ENOTFOUND, what+": the attachment")
		}
		roundTrip(t, what+": the conversation", mustGetConversation(t, s, c.ID), before)
	}
	fromCustomer := func(content string) *parley.Message {
		return textMessage(c.ID, parley.SenderCustomer, c.CustomerID, content)
	}

	m := fromCustomer("hello")
	m.Expect = expect(parley.StatusWaiting, "")
	mustAppend(t, s, m)
	if m.Seq != 1 {
		t.Errorf("append with a state that holds: seq %d, want 1", m.Seq)
	}
	refused("waiting, expected active", fromCustomer("x"), expect(parley.StatusActive, ""))
	refused("unassigned, expected assigned", fromCustomer("x"), expect(parley.StatusWaiting, agentA.ID))

	_, err := s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{Status: ptr(parley.StatusActive), AssigneeID: ptr(agentA.ID)})
	must(t, err, "UpdateConversation(active, A)")
	reply := textMessage(c.ID, parley.SenderAgent, agentA.ID, "hi, A here")
	reply.Expect = expect(parley.StatusActive, agentA.ID)
	mustAppend(t, s, reply)
	refused("assigned to A, expected B", textMessage(c.ID, parley.SenderAgent, agentB.ID, "x"), expect(parley.StatusActive, agentB.ID))
	refused("assigned to A, expected waiting", fromCustomer("x"), expect(parley.StatusWaiting, ""))
	refused("assigned to A, expected active unassigned", fromCustomer("x"), expect(parley.StatusActive, ""))

	// A file message conflicts whole: no attachment is kept.
	a := newAttachment("late.pdf")
	a.ID = parley.NewID()
	refused("file message, state changed", &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer,
		SenderID: c.CustomerID, Kind: parley.KindFile, Content: "late", Attachments: []*parley.Attachment{a}},
		expect(parley.StatusWaiting, ""))

	// A retry whose state still holds gets the original; one whose state
	// changed meanwhile conflicts before the client id is looked at.
	first := fromCustomer("once")
	first.ClientMsgID = "expect-1"
	first.Expect = expect(parley.StatusActive, agentA.ID)
	mustAppend(t, s, first)
	retry := fromCustomer("once")
	retry.ClientMsgID, retry.Expect = first.ClientMsgID, expect(parley.StatusActive, agentA.ID)
	created, err := s.AppendMessage(ctx, retry)
	must(t, err, "AppendMessage(retry, state holds)")
	if created || retry.ID != first.ID || retry.Seq != first.Seq {
		t.Errorf("retry with a state that holds: created %v, id %s seq %d, want the original %s seq %d",
			created, retry.ID, retry.Seq, first.ID, first.Seq)
	}

	_, err = s.UpdateConversation(ctx, c.ID, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)})
	must(t, err, "UpdateConversation(closed)")
	again := fromCustomer("once")
	again.ClientMsgID = first.ClientMsgID
	refused("retry after the conversation closed", again, expect(parley.StatusActive, agentA.ID))
	refused("closed, expected active", fromCustomer("x"), expect(parley.StatusActive, agentA.ID))
	closed := fromCustomer("into a closed conversation, knowingly")
	closed.Expect = expect(parley.StatusClosed, agentA.ID)
	mustAppend(t, s, closed)

	// Unknown conversations stay ENOTFOUND; a malformed state is EINVALID.
	lost := textMessage(parley.NewID(), parley.SenderCustomer, c.CustomerID, "x")
	lost.Expect = expect(parley.StatusWaiting, "")
	_, err = s.AppendMessage(ctx, lost)
	wantCode(t, err, parley.ENOTFOUND, "AppendMessage(unknown conversation, with a state)")
	for _, e := range []*parley.ConversationState{expect("archived", ""), expect(parley.StatusActive, "agent-a")} {
		bad := fromCustomer("x")
		bad.Expect = e
		_, err = s.AppendMessage(ctx, bad)
		wantCode(t, err, parley.EINVALID, fmt.Sprintf("AppendMessage(Expect %+v)", *e))
	}
	if got := mustGetConversation(t, s, c.ID).LastSeq; got != 4 {
		t.Errorf("LastSeq %d after 4 appends that held, want 4", got)
	}
}

func testListMessages(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	c := mustConversation(t, s, parley.StatusActive, agent.ID)
	other := mustConversation(t, s, parley.StatusWaiting, "")
	mustAppend(t, s, textMessage(other.ID, parley.SenderCustomer, other.CustomerID, "elsewhere"))
	const n = 30
	var all []*parley.Message
	isNote := func(seq int64) bool { return seq%5 == 0 }
	for i := int64(1); i <= n; i++ {
		var m *parley.Message
		switch {
		case isNote(i):
			m = &parley.Message{ConversationID: c.ID, SenderType: parley.SenderAgent, SenderID: agent.ID, Kind: parley.KindNote, Content: "note"}
		case i%2 == 0:
			m = textMessage(c.ID, parley.SenderAgent, agent.ID, "agent "+itoa(int(i)))
		default:
			m = textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "customer "+itoa(int(i)))
		}
		all = append(all, mustAppend(t, s, m))
	}
	seqs := func(lo, hi int64, notes bool) []int64 {
		var out []int64
		for i := lo; i <= hi; i++ {
			if notes || !isNote(i) {
				out = append(out, i)
			}
		}
		return out
	}
	cases := []struct {
		name string
		f    parley.MessageFilter
		want []int64
	}{
		{"all", parley.MessageFilter{}, seqs(1, n, true)},
		{"after 25", parley.MessageFilter{AfterSeq: 25}, seqs(26, n, true)},
		{"after last", parley.MessageFilter{AfterSeq: n}, nil},
		{"after beyond", parley.MessageFilter{AfterSeq: n + 10}, nil},
		{"after 10, limit 4", parley.MessageFilter{AfterSeq: 10, Limit: 4}, seqs(11, 14, true)},
		{"limit 1", parley.MessageFilter{Limit: 1}, seqs(1, 1, true)},
		{"before 11, limit 4", parley.MessageFilter{BeforeSeq: 11, Limit: 4}, seqs(7, 10, true)},
		{"before 3, limit 10", parley.MessageFilter{BeforeSeq: 3, Limit: 10}, seqs(1, 2, true)},
		{"before 1", parley.MessageFilter{BeforeSeq: 1}, nil},
		{"before beyond, limit 3", parley.MessageFilter{BeforeSeq: n + 100, Limit: 3}, seqs(n-2, n, true)},
		{"no notes", parley.MessageFilter{ExcludeNotes: true}, seqs(1, n, false)},
		{"no notes, after 12, limit 3", parley.MessageFilter{AfterSeq: 12, Limit: 3, ExcludeNotes: true}, []int64{13, 14, 16}},
		{"no notes, before 21, limit 3", parley.MessageFilter{BeforeSeq: 21, Limit: 3, ExcludeNotes: true}, []int64{17, 18, 19}},
		{"max limit", parley.MessageFilter{Limit: parley.MaxMessagePage}, seqs(1, n, true)},
		{"after 5, before 9", parley.MessageFilter{AfterSeq: 5, BeforeSeq: 9}, seqs(6, 8, true)},
		{"after 5, before 20, limit 3", parley.MessageFilter{AfterSeq: 5, BeforeSeq: 20, Limit: 3}, seqs(17, 19, true)},
		{"after 8, before 9", parley.MessageFilter{AfterSeq: 8, BeforeSeq: 9}, nil},
	}
	for _, tc := range cases {
		got, err := s.ListMessages(ctx, c.ID, tc.f)
		if err != nil {
			t.Errorf("ListMessages(%s): %v", tc.name, err)
			continue
		}
		var gs []int64
		for _, m := range got {
			gs = append(gs, m.Seq)
			if m.ConversationID != c.ID {
				t.Errorf("ListMessages(%s) returned a message of %s", tc.name, m.ConversationID)
			}
		}
		if !slices.Equal(gs, tc.want) {
			t.Errorf("ListMessages(%s) seqs = %v, want %v", tc.name, gs, tc.want)
			continue
		}
		for _, m := range got {
			roundTrip(t, "ListMessages("+tc.name+") item", m, all[m.Seq-1])
		}
	}
	for _, limit := range []int{-1, parley.MaxMessagePage + 1} {
		_, err := s.ListMessages(ctx, c.ID, parley.MessageFilter{Limit: limit})
		wantCode(t, err, parley.EINVALID, "ListMessages(limit "+itoa(limit)+")")
	}
}

// A conversation with more than MaxMessagePage messages is returned a page
// at a time.
func testListMessagesDefaultLimit(t *testing.T, s parley.Store) {
	c := mustConversation(t, s, parley.StatusWaiting, "")
	for i := range parley.MaxMessagePage + 3 {
		mustAppend(t, s, textMessage(c.ID, parley.SenderCustomer, c.CustomerID, "m"+itoa(i)))
	}
	got := mustMessages(t, s, c.ID, parley.MessageFilter{})
	if len(got) != parley.MaxMessagePage || got[0].Seq != 1 {
		t.Errorf("ListMessages(limit 0) = %d messages from seq %d, want %d from 1", len(got), got[0].Seq, parley.MaxMessagePage)
	}
	got = mustMessages(t, s, c.ID, parley.MessageFilter{AfterSeq: got[len(got)-1].Seq})
	if len(got) != 3 || got[0].Seq != parley.MaxMessagePage+1 {
		t.Errorf("second page = %d messages, want 3 from %d", len(got), parley.MaxMessagePage+1)
	}
}
