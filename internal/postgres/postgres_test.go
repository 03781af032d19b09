package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleychat/parley"
)

func wantCode(t testing.TB, err error, code, what string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("%s: code %q, want %q (err: %v)", what, got, code, err)
	}
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func mkUser(t testing.TB, s *Store) *parley.User {
	t.Helper()
	id := parley.NewID()
	u := &parley.User{Email: id + "@example.com", Name: "Agent " + id[28:], PasswordHash: "x",
		Role: parley.RoleAgent, Availability: parley.Online}
	must(t, s.CreateUser(t.Context(), u), "CreateUser")
	return u
}

func mkConversation(t testing.TB, s *Store, assignee string) *parley.Conversation {
	t.Helper()
	c := &parley.Customer{TokenHash: hash(parley.NewID())}
	must(t, s.CreateCustomer(t.Context(), c), "CreateCustomer")
	status := parley.StatusWaiting
	if assignee != "" {
		status = parley.StatusActive
	}
	conv := &parley.Conversation{Status: status, CustomerID: c.ID, AssigneeID: assignee}
	must(t, s.CreateConversation(t.Context(), conv), "CreateConversation")
	return conv
}

func text(convID string, st parley.SenderType, sender, content string) *parley.Message {
	return &parley.Message{ConversationID: convID, SenderType: st, SenderID: sender,
		Kind: parley.KindText, Content: content}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestOpenUnreachable(t *testing.T) {
	addr := closedPort(t)
	const secret = "s3cr3t-pa55"
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, "postgres://parley:"+secret+"@"+addr+"/parleydb?sslmode=disable", Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	wantCode(t, err, parley.EUNAVAILABLE, "Open(closed port)")
	msg := parley.ErrorMessage(err)
	if !strings.Contains(msg, addr[strings.LastIndexByte(addr, ':')+1:]) || !strings.Contains(msg, "parleydb") {
		t.Errorf("message %q does not name the server and database", msg)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(msg, secret) {
		t.Errorf("error shows the password: %v", err)
	}
	t.Logf("message: %s", msg)
}

func TestOpenBadURL(t *testing.T) {
	const secret = "s3cr3t-pa55"
	for _, u := range []string{
		"postgres://parley:" + secret + "@127.0.0.1:notaport/db",
		"postgres://parley:" + secret + "@127.0.0.1/db?sslmode=nonsense",
		"::not a url::",
	} {
		_, err := Open(t.Context(), u, Options{})
		wantCode(t, err, parley.EUNAVAILABLE, "Open("+u+")")
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestOpenWrongDatabase(t *testing.T) {
	base := testURL(t)
	cfg, err := pgx.ParseConfig(base)
	must(t, err, "ParseConfig")
	u := strings.Replace(base, "/"+cfg.Database, "/parley_no_such_db", 1)
	_, err = Open(t.Context(), u, Options{})
	wantCode(t, err, parley.EUNAVAILABLE, "Open(unknown database)")
	if msg := parley.ErrorMessage(err); !strings.Contains(msg, "parley_no_such_db") {
		t.Errorf("message %q does not name the database", msg)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	u := freshSchema(t)
	ms, err := migrations()
	must(t, err, "migrations")
	latest := ms[len(ms)-1].version
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(t.Context(), u, Options{MaxConns: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(t.Context())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err, "Migrate #"+strconv.Itoa(i))
	}
	s, err := Open(t.Context(), u, Options{})
	must(t, err, "Open")
	defer s.Close()
	v, err := s.SchemaVersion(t.Context())
	must(t, err, "SchemaVersion")
	if v != latest {
		t.Errorf("SchemaVersion = %d, want %d", v, latest)
	}
	must(t, s.Migrate(t.Context()), "Migrate again")
	var rows int
	must(t, s.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&rows), "count")
	if rows != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", rows, len(ms))
	}
}

func TestSchemaVersionBeforeMigrate(t *testing.T) {
	u := freshSchema(t)
	s, err := Open(t.Context(), u, Options{})
	must(t, err, "Open")
	defer s.Close()
	v, err := s.SchemaVersion(t.Context())
	must(t, err, "SchemaVersion")
	if v != 0 {
		t.Errorf("SchemaVersion of an empty schema = %d, want 0", v)
	}
}

func TestTranslate(t *testing.T) {
	cases := []struct {
		err  error
		code string
	}{
		{&pgconn.PgError{Code: "23505", ConstraintName: "users_email_key"}, parley.ECONFLICT},
		{&pgconn.PgError{Code: "23503"}, parley.ENOTFOUND},
		{&pgconn.PgError{Code: "23514"}, parley.EINVALID},
		{&pgconn.PgError{Code: "22001"}, parley.EINVALID},
		{&pgconn.PgError{Code: "22P05"}, parley.EINVALID},
		{&pgconn.PgError{Code: "40P01"}, parley.ECONFLICT},
		{&pgconn.PgError{Code: "57P01"}, parley.EUNAVAILABLE},
		{&pgconn.PgError{Code: "08006"}, parley.EUNAVAILABLE},
		{&pgconn.PgError{Code: "42P01"}, parley.EINTERNAL},
		{pgx.ErrNoRows, parley.ENOTFOUND},
		{context.DeadlineExceeded, parley.EUNAVAILABLE},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, parley.EUNAVAILABLE},
		{errors.New("something else"), parley.EINTERNAL},
		{parley.Errorf(parley.EFORBIDDEN, "no"), parley.EFORBIDDEN},
	}
	for _, c := range cases {
		if got := parley.ErrorCode(translate("op", c.err)); got != c.code {
			t.Errorf("translate(%v) = %q, want %q", c.err, got, c.code)
		}
	}
	err := translate("op", &pgconn.PgError{Code: "23505", ConstraintName: "users_email_key"})
	if msg := parley.ErrorMessage(err); msg != "that email is already taken" {
		t.Errorf("message = %q", msg)
	}
}

// Malformed ids never reach PostgreSQL as a uuid cast error.
func TestMalformedIDs(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	const bad = "not-a-uuid"
	for name, err := range map[string]error{
		"GetUser":         second(s.GetUser(ctx, bad)),
		"GetCustomer":     second(s.GetCustomer(ctx, bad)),
		"GetConversation": second(s.GetConversation(ctx, bad)),
		"GetOpen":         second(s.GetOpenConversation(ctx, bad)),
		"GetMessage":      second(s.GetMessage(ctx, bad)),
		"GetAttachment":   second(s.GetAttachment(ctx, bad)),
		"GetAPIToken":     second(s.GetAPIToken(ctx, bad)),
		"GetQuickReply":   second(s.GetQuickReply(ctx, bad)),
		"GetSOP":          second(s.GetSOP(ctx, bad)),
		"DeleteUser":      s.DeleteUser(ctx, bad),
		"DeleteSession":   s.DeleteSession(ctx, bad),
		"TouchSession":    s.TouchSession(ctx, bad, time.Now(), time.Now()),
		"UpdateConv":      second(s.UpdateConversation(ctx, bad, parley.ConversationUpdate{})),
		"JoinConv":        second(s.JoinConversation(ctx, bad, parley.NewID(), parley.ParticipantAgent)),
		"DeleteConv":      s.DeleteConversation(ctx, strings.ToUpper(parley.NewID())),
	} {
		wantCode(t, err, parley.ENOTFOUND, name)
	}
	ms, err := s.ListMessages(ctx, bad, parley.MessageFilter{})
	must(t, err, "ListMessages")
	if len(ms) != 0 {
		t.Errorf("ListMessages(bad id) = %d messages", len(ms))
	}
	page, err := s.ListConversations(ctx, parley.InboxFilter{AssigneeID: bad})
	must(t, err, "ListConversations")
	if page.Total != 0 || len(page.Entries) != 0 {
		t.Errorf("ListConversations(bad assignee) = %+v", page)
	}
	_, err = s.AppendMessage(ctx, text(bad, parley.SenderSystem, "", "hi"))
	wantCode(t, err, parley.EINVALID, "AppendMessage(bad conversation id)")
}

func second[T any](_ T, err error) error { return err }
