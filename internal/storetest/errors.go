package storetest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var errorTests = []test{
	{"UnknownAndMalformedIDs", testUnknownAndMalformedIDs},
	{"Ping", testPing},
}

// testUnknownAndMalformedIDs calls every lookup by id with an id nobody has
// and with malformed ones. All must answer ENOTFOUND and change nothing.
func testUnknownAndMalformedIDs(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAdmin)
	se := mustSession(t, s, u.ID)
	tok := newAPIToken(u.ID)
	must(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken")
	c := mustConversation(t, s, parley.StatusActive, u.ID)
	m := mustAppend(t, s, &parley.Message{ConversationID: c.ID, SenderType: parley.SenderCustomer, SenderID: c.CustomerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{newAttachment("a.pdf")}})
	q := mustQuickReply(t, s, u.ID, "/q")
	d := newSOP(u.ID)
	must(t, s.CreateSOP(ctx, d), "CreateSOP")
	now := parley.Now()
	c = mustGetConversation(t, s, c.ID)

	ops := []struct {
		name string
		real string
		call func(id string) error
	}{
		{"GetUser", u.ID, func(id string) error { _, err := s.GetUser(ctx, id); return err }},
		{"UpdateUser", u.ID, func(id string) error { _, err := s.UpdateUser(ctx, id, parley.UserUpdate{Name: ptr("x")}); return err }},
		{"TouchSession", se.ID, func(id string) error { return s.TouchSession(ctx, id, now, now.Add(time.Minute)) }},
		{"GetAPIToken", tok.ID, func(id string) error { _, err := s.GetAPIToken(ctx, id); return err }},
		{"TouchAPIToken", tok.ID, func(id string) error { return s.TouchAPIToken(ctx, id, now) }},
		{"RevokeAPIToken", tok.ID, func(id string) error { return s.RevokeAPIToken(ctx, id, now) }},
		{"GetCustomer", c.CustomerID, func(id string) error { _, err := s.GetCustomer(ctx, id); return err }},
		{"UpdateCustomer", c.CustomerID, func(id string) error {
			_, err := s.UpdateCustomer(ctx, id, parley.CustomerUpdate{Name: ptr("x")})
			return err
		}},
		{"GetConversation", c.ID, func(id string) error { _, err := s.GetConversation(ctx, id); return err }},
		{"GetOpenConversation", c.CustomerID, func(id string) error { _, err := s.GetOpenConversation(ctx, id); return err }},
		{"UpdateConversation", c.ID, func(id string) error {
			_, err := s.UpdateConversation(ctx, id, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)})
			return err
		}},
		{"JoinConversation", c.ID, func(id string) error {
			_, err := s.JoinConversation(ctx, id, u.ID, parley.ParticipantAgent)
			return err
		}},
		{"MarkRead", c.ID, func(id string) error {
			_, err := s.MarkRead(ctx, id, u.ID, parley.ParticipantAgent, 1)
			return err
		}},
		{"GetMessage", m.ID, func(id string) error { _, err := s.GetMessage(ctx, id); return err }},
		{"GetAttachment", m.Attachments[0].ID, func(id string) error { _, err := s.GetAttachment(ctx, id); return err }},
		{"GetQuickReply", q.ID, func(id string) error { _, err := s.GetQuickReply(ctx, id); return err }},
		{"UpdateQuickReply", q.ID, func(id string) error {
			_, err := s.UpdateQuickReply(ctx, id, parley.QuickReplyUpdate{Text: ptr("x")})
			return err
		}},
		{"GetSOP", d.ID, func(id string) error { _, err := s.GetSOP(ctx, id); return err }},
		{"UpdateSOP", d.ID, func(id string) error {
			_, err := s.UpdateSOP(ctx, id, parley.SOPUpdate{Title: ptr("x"), UpdatedBy: u.ID})
			return err
		}},
		// Deletes come last so a store that wrongly accepts a malformed id
		// cannot remove what the lookups above need.
		{"DeleteSession", se.ID, func(id string) error { return s.DeleteSession(ctx, id) }},
		{"DeleteQuickReply", q.ID, func(id string) error { return s.DeleteQuickReply(ctx, id) }},
		{"DeleteSOP", d.ID, func(id string) error { return s.DeleteSOP(ctx, id) }},
		{"DeleteConversation", c.ID, func(id string) error { return s.DeleteConversation(ctx, id) }},
		{"DeleteCustomer", c.CustomerID, func(id string) error { return s.DeleteCustomer(ctx, id) }},
		{"DeleteUser", u.ID, func(id string) error { return s.DeleteUser(ctx, id) }},
	}
	for _, op := range ops {
		wantCode(t, op.call(parley.NewID()), parley.ENOTFOUND, op.name+"(unknown id)")
		for _, id := range malformedIDs(op.real) {
			wantCode(t, op.call(id), parley.ENOTFOUND, op.name+"("+quote(id)+")")
		}
	}

	// By-value lookups of things that do not exist.
	_, err := s.GetUserByEmail(ctx, "ghost@example.com")
	wantCode(t, err, parley.ENOTFOUND, "GetUserByEmail(unknown)")
	_, err = s.GetUserByEmail(ctx, "")
	wantCode(t, err, parley.ENOTFOUND, "GetUserByEmail(empty)")
	for _, h := range []string{randomHash(), "", "zz", strings.ToUpper(se.TokenHash)} {
		_, err = s.GetSessionByTokenHash(ctx, h)
		wantCode(t, err, parley.ENOTFOUND, "GetSessionByTokenHash("+quote(h)+")")
		_, err = s.GetAPITokenByHash(ctx, h)
		wantCode(t, err, parley.ENOTFOUND, "GetAPITokenByHash("+quote(h)+")")
		_, err = s.GetCustomerByTokenHash(ctx, h)
		wantCode(t, err, parley.ENOTFOUND, "GetCustomerByTokenHash("+quote(h)+")")
	}
	// A hash with a NUL is no stored hash. store.go names ENOTFOUND for these
	// lookups but says nothing of malformed hashes (only of malformed ids),
	// so EINVALID is accepted too; a driver error leaking out is not.
	for name, lookup := range map[string]func(string) error{
		"GetSessionByTokenHash":  func(h string) error { _, err := s.GetSessionByTokenHash(ctx, h); return err },
		"GetAPITokenByHash":      func(h string) error { _, err := s.GetAPITokenByHash(ctx, h); return err },
		"GetCustomerByTokenHash": func(h string) error { _, err := s.GetCustomerByTokenHash(ctx, h); return err },
	} {
		if code := parley.ErrorCode(lookup("x\x00")); code != parley.ENOTFOUND && code != parley.EINVALID {
			t.Errorf("%s(NUL): code %q, want not_found (or invalid)", name, code)
		}
	}

	// Nothing above changed the records.
	got, err := s.GetUser(ctx, u.ID)
	must(t, err, "GetUser")
	roundTrip(t, "user after failed lookups", got, u)
	gotC, err := s.GetConversation(ctx, c.ID)
	must(t, err, "GetConversation")
	roundTrip(t, "conversation after failed lookups", gotC, c)
	gotT, err := s.GetAPIToken(ctx, tok.ID)
	must(t, err, "GetAPIToken")
	roundTrip(t, "token after failed lookups", gotT, tok)
	gotS, err := s.GetSessionByTokenHash(ctx, se.TokenHash)
	must(t, err, "GetSessionByTokenHash")
	roundTrip(t, "session after failed lookups", gotS, se)
	gotQ, err := s.GetQuickReply(ctx, q.ID)
	must(t, err, "GetQuickReply")
	roundTrip(t, "quick reply after failed lookups", gotQ, q)
	gotD, err := s.GetSOP(ctx, d.ID)
	must(t, err, "GetSOP")
	roundTrip(t, "document after failed lookups", gotD, d)
	ps, err := s.ListParticipants(ctx, c.ID)
	must(t, err, "ListParticipants")
	if len(ps) != 0 {
		t.Errorf("failed joins left %d participants", len(ps))
	}
}

func quote(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

func testPing(t *testing.T, s parley.Store) {
	must(t, s.Ping(t.Context()), "Ping")
}
