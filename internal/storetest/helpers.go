package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func ptr[T any](v T) *T { return &v }

// randomHash returns a fresh 64-hex-digit value shaped like a SHA-256.
func randomHash() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

var seq atomic.Int64

// unique returns a short string no other call in this process returns.
func unique() string { return fmt.Sprintf("%d", seq.Add(1)) }

// wantCode fails t unless err carries code.
func wantCode(t testing.TB, err error, code, what string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Errorf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// must fails t now when err is not nil.
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// newUser returns a valid user that has not been stored.
func newUser(role parley.Role) *parley.User {
	n := unique()
	return &parley.User{
		Email:        "agent" + n + "@example.com",
		Name:         "Agent " + n,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA",
		Role:         role,
		Availability: parley.Online,
		MaxChats:     5,
	}
}

func mustUser(t testing.TB, s parley.Store, role parley.Role) *parley.User {
	t.Helper()
	u := newUser(role)
	must(t, s.CreateUser(t.Context(), u), "CreateUser")
	return u
}

func newCustomer() *parley.Customer {
	n := unique()
	return &parley.Customer{
		TokenHash: randomHash(),
		Name:      "Visitor " + n,
		Email:     "visitor" + n + "@example.org",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		IP:        "203.0.113.7",
		Location:  parley.Metadata{"country": "NL", "city": "Utrecht"},
		Metadata:  parley.Metadata{"page": "https://example.org/pricing", "lang": "nl"},
	}
}

func mustCustomer(t testing.TB, s parley.Store) *parley.Customer {
	t.Helper()
	c := newCustomer()
	must(t, s.CreateCustomer(t.Context(), c), "CreateCustomer")
	return c
}

// mustConversation creates a customer and a conversation for them.
func mustConversation(t testing.TB, s parley.Store, status parley.Status, assignee string) *parley.Conversation {
	t.Helper()
	cu := mustCustomer(t, s)
	return mustConversationFor(t, s, cu.ID, status, assignee)
}

func mustConversationFor(t testing.TB, s parley.Store, customerID string, status parley.Status, assignee string) *parley.Conversation {
	t.Helper()
	c := &parley.Conversation{
		Status:     status,
		CustomerID: customerID,
		AssigneeID: assignee,
		CustomerIP: "198.51.100.4",
		Metadata:   parley.Metadata{"source": "widget"},
	}
	must(t, s.CreateConversation(t.Context(), c), "CreateConversation")
	return c
}

func textMessage(convID string, st parley.SenderType, sender, content string) *parley.Message {
	k := parley.KindText
	if st == parley.SenderSystem {
		k = parley.KindSystem
	}
	return &parley.Message{ConversationID: convID, SenderType: st, SenderID: sender, Kind: k, Content: content}
}

// mustAppend appends a new message and fails unless the store created it.
func mustAppend(t testing.TB, s parley.Store, m *parley.Message) *parley.Message {
	t.Helper()
	created, err := s.AppendMessage(t.Context(), m)
	must(t, err, "AppendMessage")
	if !created {
		t.Fatalf("AppendMessage: created = false for a new message")
	}
	return m
}

func newAttachment(name string) *parley.Attachment {
	return &parley.Attachment{
		Key:         "blobs/" + unique(),
		URL:         "/files/" + unique(),
		Type:        parley.AttachmentDocument,
		ContentType: "application/pdf",
		Size:        12345,
		Name:        name,
		Checksum:    randomHash(),
	}
}

func mustGetConversation(t testing.TB, s parley.Store, id string) *parley.Conversation {
	t.Helper()
	c, err := s.GetConversation(t.Context(), id)
	must(t, err, "GetConversation")
	return c
}

func mustMessages(t testing.TB, s parley.Store, convID string, f parley.MessageFilter) []*parley.Message {
	t.Helper()
	ms, err := s.ListMessages(t.Context(), convID, f)
	must(t, err, "ListMessages")
	return ms
}

// roundTrip fails t when got differs from want, naming every differing field,
// and when a time in got is not UTC at microsecond precision.
func roundTrip(t testing.TB, what string, got, want any) {
	t.Helper()
	var diffs []string
	walk(reflect.ValueOf(got), reflect.ValueOf(want), "", &diffs)
	checkTimes(reflect.ValueOf(got), "", &diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: read back differs:\n\t%s", what, strings.Join(diffs, "\n\t"))
	}
}

var timeType = reflect.TypeFor[time.Time]()

// walk compares got with want. Times compare by instant; empty and nil maps
// and slices are the same (store.go does not tell them apart); maps compare
// after a JSON round trip, which is how both stores keep Metadata.
func walk(g, w reflect.Value, path string, out *[]string) {
	if !g.IsValid() || !w.IsValid() {
		if g.IsValid() != w.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, g, w))
		}
		return
	}
	if g.Type() == timeType {
		gt, wt := g.Interface().(time.Time), w.Interface().(time.Time)
		if !gt.Equal(wt) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, gt.Format(time.RFC3339Nano), wt.Format(time.RFC3339Nano)))
		}
		return
	}
	switch g.Kind() {
	case reflect.Pointer, reflect.Interface:
		if g.IsNil() || w.IsNil() {
			if g.IsNil() != w.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, show(g), show(w)))
			}
			return
		}
		walk(g.Elem(), w.Elem(), path, out)
	case reflect.Struct:
		for i := range g.NumField() {
			f := g.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			walk(g.Field(i), w.Field(i), path+"."+f.Name, out)
		}
	case reflect.Slice:
		if g.Len() == 0 && w.Len() == 0 {
			return
		}
		if g.Len() != w.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d items, want %d", path, g.Len(), w.Len()))
			return
		}
		for i := range g.Len() {
			walk(g.Index(i), w.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Map:
		if g.Len() == 0 && w.Len() == 0 {
			return
		}
		gj, wj := jsonNorm(g.Interface()), jsonNorm(w.Interface())
		if !reflect.DeepEqual(gj, wj) {
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, gj, wj))
		}
	default:
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %#v, want %#v", path, g.Interface(), w.Interface()))
		}
	}
}

func show(v reflect.Value) any {
	if v.IsNil() {
		return "nil"
	}
	return v.Elem().Interface()
}

func jsonNorm(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unencodable: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprintf("undecodable: %v", err)
	}
	return out
}

// checkTimes reports every non-zero time in v that is not UTC or carries
// precision below a microsecond.
func checkTimes(v reflect.Value, path string, out *[]string) {
	if !v.IsValid() {
		return
	}
	if v.Type() == timeType {
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return
		}
		if tm.Location() != time.UTC {
			*out = append(*out, fmt.Sprintf("%s: location %q, want UTC", path, tm.Location()))
		}
		if tm.Nanosecond()%1000 != 0 {
			*out = append(*out, fmt.Sprintf("%s: %s has sub-microsecond precision", path, tm.Format(time.RFC3339Nano)))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			checkTimes(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				checkTimes(v.Field(i), path+"."+v.Type().Field(i).Name, out)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			checkTimes(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// checkFresh fails t unless tm was set by the store just now: not zero, not
// before start, UTC at microsecond precision.
func checkFresh(t testing.TB, what string, tm, start time.Time) {
	t.Helper()
	if tm.IsZero() {
		t.Errorf("%s is not set", what)
		return
	}
	if tm.Before(start.Truncate(time.Microsecond)) {
		t.Errorf("%s = %s, before the call started at %s", what, tm.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
	}
	var diffs []string
	checkTimes(reflect.ValueOf(tm), what, &diffs)
	for _, d := range diffs {
		t.Error(d)
	}
}

// ids returns the ids of conversations, in order.
func convIDs(cs []*parley.Conversation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// malformedIDs are ids a lookup must answer with ENOTFOUND, never with a
// driver error. The upper-case form of a real id is not the canonical form
// Parley issues, so it is malformed too.
func malformedIDs(real string) []string {
	ids := []string{
		"",
		"nope",
		"00000000-0000-0000-0000-00000000000g",
		"12345678-1234-1234-1234-1234567890ab'",
		"{12345678-1234-1234-1234-1234567890ab}",
		"1234567812341234123412345678901a",
		"' OR 1=1 --",
		"x\x00y",
	}
	if up := strings.ToUpper(real); real != "" && up != real {
		ids = append(ids, up)
	}
	return ids
}

func itoa(n int) string { return strconv.Itoa(n) }
