package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var sessionTests = []test{
	{"CreateGetRoundTrip", testSessionRoundTrip},
	{"CreateRejected", testSessionCreateRejected},
	{"Touch", testSessionTouch},
	{"Delete", testSessionDelete},
	{"DeleteUserSessions", testDeleteUserSessions},
	{"DeleteExpired", testDeleteExpiredSessions},
}

var apiTokenTests = []test{
	{"CreateGetRoundTrip", testAPITokenRoundTrip},
	{"CreateRejected", testAPITokenCreateRejected},
	{"ListNewestFirst", testAPITokenList},
	{"TouchAndRevoke", testAPITokenTouchRevoke},
}

func newSession(userID string) *parley.Session {
	now := parley.Now()
	return &parley.Session{
		UserID:        userID,
		TokenHash:     randomHash(),
		CSRFToken:     randomHash(),
		IP:            "192.0.2.10",
		UserAgent:     "Mozilla/5.0",
		IdleExpiresAt: now.Add(30 * time.Minute),
		ExpiresAt:     now.Add(12 * time.Hour),
	}
}

func mustSession(t testing.TB, s parley.Store, userID string) *parley.Session {
	t.Helper()
	se := newSession(userID)
	must(t, s.CreateSession(t.Context(), se), "CreateSession")
	return se
}

func testSessionRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	start := time.Now()
	se := newSession(u.ID)
	must(t, s.CreateSession(ctx, se), "CreateSession")
	if !parley.ValidID(se.ID) {
		t.Fatalf("CreateSession filled ID %q", se.ID)
	}
	checkFresh(t, "CreatedAt", se.CreatedAt, start)
	checkFresh(t, "LastSeenAt", se.LastSeenAt, start)
	got, err := s.GetSessionByTokenHash(ctx, se.TokenHash)
	must(t, err, "GetSessionByTokenHash")
	roundTrip(t, "GetSessionByTokenHash", got, se)

	// An expired session is still returned: the caller decides.
	old := newSession(u.ID)
	old.IdleExpiresAt = parley.Now().Add(-2 * time.Hour)
	old.ExpiresAt = parley.Now().Add(-time.Hour)
	must(t, s.CreateSession(ctx, old), "CreateSession(expired)")
	got, err = s.GetSessionByTokenHash(ctx, old.TokenHash)
	must(t, err, "GetSessionByTokenHash(expired)")
	roundTrip(t, "GetSessionByTokenHash(expired)", got, old)

	_, err = s.GetSessionByTokenHash(ctx, randomHash())
	wantCode(t, err, parley.ENOTFOUND, "GetSessionByTokenHash(unknown)")
}

func testSessionCreateRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	first := mustSession(t, s, u.ID)
	cases := []struct {
		name string
		edit func(se *parley.Session)
		code string
	}{
		{"unknown user", func(se *parley.Session) { se.UserID = parley.NewID() }, parley.ENOTFOUND},
		{"reused hash", func(se *parley.Session) { se.TokenHash = first.TokenHash }, parley.ECONFLICT},
		{"malformed user id", func(se *parley.Session) { se.UserID = "u1" }, parley.EINVALID},
		{"short hash", func(se *parley.Session) { se.TokenHash = "abc" }, parley.EINVALID},
		{"no expiry", func(se *parley.Session) { se.ExpiresAt = time.Time{} }, parley.EINVALID},
		{"no idle expiry", func(se *parley.Session) { se.IdleExpiresAt = time.Time{} }, parley.EINVALID},
		{"NUL in user agent", func(se *parley.Session) { se.UserAgent = "a\x00" }, parley.EINVALID},
	}
	for _, tc := range cases {
		se := newSession(u.ID)
		tc.edit(se)
		wantCode(t, s.CreateSession(ctx, se), tc.code, "CreateSession("+tc.name+")")
		if tc.name != "reused hash" {
			_, err := s.GetSessionByTokenHash(ctx, se.TokenHash)
			wantCode(t, err, parley.ENOTFOUND, "session after rejected CreateSession("+tc.name+")")
		}
	}
	// Only the first session exists.
	n, err := s.DeleteUserSessions(ctx, u.ID, "")
	must(t, err, "DeleteUserSessions")
	if n != 1 {
		t.Errorf("user has %d sessions after rejected creations, want 1", n)
	}
}

func testSessionTouch(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	se := mustSession(t, s, u.ID)
	other := mustSession(t, s, u.ID)

	seen := parley.Now().Add(time.Minute)
	idle := seen.Add(30 * time.Minute)
	must(t, s.TouchSession(ctx, se.ID, seen, idle), "TouchSession")
	want := *se
	want.LastSeenAt, want.IdleExpiresAt = seen, idle
	got, err := s.GetSessionByTokenHash(ctx, se.TokenHash)
	must(t, err, "GetSessionByTokenHash")
	roundTrip(t, "session after TouchSession", got, &want)

	// Idle expiry never passes the absolute expiry.
	must(t, s.TouchSession(ctx, se.ID, seen, se.ExpiresAt.Add(time.Hour)), "TouchSession(past expiry)")
	got, err = s.GetSessionByTokenHash(ctx, se.TokenHash)
	must(t, err, "GetSessionByTokenHash")
	if !got.IdleExpiresAt.Equal(se.ExpiresAt) {
		t.Errorf("IdleExpiresAt = %s after touching past the absolute expiry, want it capped at %s", got.IdleExpiresAt, se.ExpiresAt)
	}
	if !got.ExpiresAt.Equal(se.ExpiresAt) {
		t.Errorf("TouchSession moved ExpiresAt to %s", got.ExpiresAt)
	}

	got, err = s.GetSessionByTokenHash(ctx, other.TokenHash)
	must(t, err, "GetSessionByTokenHash(other)")
	roundTrip(t, "untouched session", got, other)

	wantCode(t, s.TouchSession(ctx, parley.NewID(), seen, idle), parley.ENOTFOUND, "TouchSession(unknown)")
}

func testSessionDelete(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	se := mustSession(t, s, u.ID)
	keep := mustSession(t, s, u.ID)
	must(t, s.DeleteSession(ctx, se.ID), "DeleteSession")
	_, err := s.GetSessionByTokenHash(ctx, se.TokenHash)
	wantCode(t, err, parley.ENOTFOUND, "GetSessionByTokenHash(deleted)")
	wantCode(t, s.DeleteSession(ctx, se.ID), parley.ENOTFOUND, "DeleteSession(again)")
	if _, err := s.GetSessionByTokenHash(ctx, keep.TokenHash); err != nil {
		t.Errorf("other session gone after DeleteSession: %v", err)
	}
}

func testDeleteUserSessions(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	other := mustUser(t, s, parley.RoleAgent)
	var mine []*parley.Session
	for range 4 {
		mine = append(mine, mustSession(t, s, u.ID))
	}
	theirs := mustSession(t, s, other.ID)

	n, err := s.DeleteUserSessions(ctx, u.ID, mine[0].ID)
	must(t, err, "DeleteUserSessions(except one)")
	if n != 3 {
		t.Errorf("DeleteUserSessions(except one) = %d, want 3", n)
	}
	if _, err := s.GetSessionByTokenHash(ctx, mine[0].TokenHash); err != nil {
		t.Errorf("the excepted session is gone: %v", err)
	}
	for _, se := range mine[1:] {
		_, err := s.GetSessionByTokenHash(ctx, se.TokenHash)
		wantCode(t, err, parley.ENOTFOUND, "removed session")
	}
	if _, err := s.GetSessionByTokenHash(ctx, theirs.TokenHash); err != nil {
		t.Errorf("another user's session is gone: %v", err)
	}

	n, err = s.DeleteUserSessions(ctx, u.ID, "")
	must(t, err, "DeleteUserSessions(all)")
	if n != 1 {
		t.Errorf("DeleteUserSessions(all) = %d, want 1", n)
	}
	n, err = s.DeleteUserSessions(ctx, u.ID, "")
	must(t, err, "DeleteUserSessions(none left)")
	if n != 0 {
		t.Errorf("DeleteUserSessions with none left = %d, want 0", n)
	}
	if _, err := s.GetSessionByTokenHash(ctx, theirs.TokenHash); err != nil {
		t.Errorf("another user's session is gone: %v", err)
	}
}

func testDeleteExpiredSessions(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	now := parley.Now()
	mk := func(idle, abs time.Duration) *parley.Session {
		se := newSession(u.ID)
		se.IdleExpiresAt, se.ExpiresAt = now.Add(idle), now.Add(abs)
		must(t, s.CreateSession(ctx, se), "CreateSession")
		return se
	}
	idleGone := mk(-time.Minute, time.Hour)
	absGone := mk(time.Minute, -time.Second)
	bothGone := mk(-time.Hour, -time.Minute)
	live := mk(time.Minute, time.Hour)
	// Expiring exactly now is not "before now".
	edge := mk(0, time.Hour)

	n, err := s.DeleteExpiredSessions(ctx, now)
	must(t, err, "DeleteExpiredSessions")
	if n != 3 {
		t.Errorf("DeleteExpiredSessions = %d, want 3", n)
	}
	for _, se := range []*parley.Session{idleGone, absGone, bothGone} {
		_, err := s.GetSessionByTokenHash(ctx, se.TokenHash)
		wantCode(t, err, parley.ENOTFOUND, "expired session")
	}
	for _, se := range []*parley.Session{live, edge} {
		if _, err := s.GetSessionByTokenHash(ctx, se.TokenHash); err != nil {
			t.Errorf("unexpired session removed: %v", err)
		}
	}
	n, err = s.DeleteExpiredSessions(ctx, now.Add(2*time.Hour))
	must(t, err, "DeleteExpiredSessions(later)")
	if n != 2 {
		t.Errorf("DeleteExpiredSessions(later) = %d, want 2", n)
	}
}

func newAPIToken(userID string) *parley.APIToken {
	return &parley.APIToken{UserID: userID, Name: "CI token " + unique(), TokenHash: randomHash()}
}

func testAPITokenRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAdmin)
	start := time.Now()
	tok := newAPIToken(u.ID)
	must(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken")
	if !parley.ValidID(tok.ID) {
		t.Fatalf("CreateAPIToken filled ID %q", tok.ID)
	}
	checkFresh(t, "CreatedAt", tok.CreatedAt, start)
	if tok.LastUsedAt != nil || tok.RevokedAt != nil {
		t.Errorf("new token has LastUsedAt %v, RevokedAt %v; want both nil", tok.LastUsedAt, tok.RevokedAt)
	}
	got, err := s.GetAPIToken(ctx, tok.ID)
	must(t, err, "GetAPIToken")
	roundTrip(t, "GetAPIToken", got, tok)
	got, err = s.GetAPITokenByHash(ctx, tok.TokenHash)
	must(t, err, "GetAPITokenByHash")
	roundTrip(t, "GetAPITokenByHash", got, tok)
	_, err = s.GetAPITokenByHash(ctx, randomHash())
	wantCode(t, err, parley.ENOTFOUND, "GetAPITokenByHash(unknown)")
}

func testAPITokenCreateRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAdmin)
	first := newAPIToken(u.ID)
	must(t, s.CreateAPIToken(ctx, first), "CreateAPIToken")
	cases := []struct {
		name string
		edit func(tk *parley.APIToken)
		code string
	}{
		{"unknown user", func(tk *parley.APIToken) { tk.UserID = parley.NewID() }, parley.ENOTFOUND},
		{"reused hash", func(tk *parley.APIToken) { tk.TokenHash = first.TokenHash }, parley.ECONFLICT},
		{"empty name", func(tk *parley.APIToken) { tk.Name = "" }, parley.EINVALID},
		{"long name", func(tk *parley.APIToken) { tk.Name = strings.Repeat("t", parley.MaxNameLen+1) }, parley.EINVALID},
		{"short hash", func(tk *parley.APIToken) { tk.TokenHash = "00" }, parley.EINVALID},
		{"malformed user id", func(tk *parley.APIToken) { tk.UserID = "me" }, parley.EINVALID},
	}
	for _, tc := range cases {
		tk := newAPIToken(u.ID)
		tc.edit(tk)
		wantCode(t, s.CreateAPIToken(ctx, tk), tc.code, "CreateAPIToken("+tc.name+")")
	}
	all, err := s.ListAPITokens(ctx, "")
	must(t, err, "ListAPITokens")
	if len(all) != 1 {
		t.Errorf("%d tokens stored after rejected creations, want 1", len(all))
	}
}

func testAPITokenList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAdmin)
	b := mustUser(t, s, parley.RoleAdmin)
	var made []*parley.APIToken
	for i := range 5 {
		owner := a
		if i%2 == 1 {
			owner = b
		}
		tk := newAPIToken(owner.ID)
		must(t, s.CreateAPIToken(ctx, tk), "CreateAPIToken")
		made = append(made, tk)
		// Creation times must differ for "newest first" to be one order.
		time.Sleep(2 * time.Millisecond)
	}
	newest := slices.Clone(made)
	slices.Reverse(newest)
	ids := func(ts []*parley.APIToken) []string {
		var out []string
		for _, tk := range ts {
			out = append(out, tk.ID)
		}
		return out
	}
	of := func(u *parley.User) []*parley.APIToken {
		var out []*parley.APIToken
		for _, tk := range newest {
			if tk.UserID == u.ID {
				out = append(out, tk)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		user string
		want []*parley.APIToken
	}{
		{"everyone", "", newest},
		{"a", a.ID, of(a)},
		{"b", b.ID, of(b)},
		{"nobody", parley.NewID(), nil},
	} {
		got, err := s.ListAPITokens(ctx, tc.user)
		if err != nil {
			t.Errorf("ListAPITokens(%s): %v", tc.name, err)
			continue
		}
		if !slices.Equal(ids(got), ids(tc.want)) {
			t.Errorf("ListAPITokens(%s) = %v, want newest first %v", tc.name, ids(got), ids(tc.want))
			continue
		}
		for i := range got {
			roundTrip(t, "ListAPITokens item", got[i], tc.want[i])
		}
	}
}

func testAPITokenTouchRevoke(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAdmin)
	tok := newAPIToken(u.ID)
	must(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken")
	other := newAPIToken(u.ID)
	must(t, s.CreateAPIToken(ctx, other), "CreateAPIToken(other)")

	used := parley.Now().Add(time.Second)
	must(t, s.TouchAPIToken(ctx, tok.ID, used), "TouchAPIToken")
	got, err := s.GetAPIToken(ctx, tok.ID)
	must(t, err, "GetAPIToken")
	want := *tok
	want.LastUsedAt = &used
	roundTrip(t, "token after TouchAPIToken", got, &want)

	used2 := used.Add(time.Minute)
	must(t, s.TouchAPIToken(ctx, tok.ID, used2), "TouchAPIToken(again)")
	want.LastUsedAt = &used2

	revoked := parley.Now().Add(2 * time.Second)
	must(t, s.RevokeAPIToken(ctx, tok.ID, revoked), "RevokeAPIToken")
	must(t, s.RevokeAPIToken(ctx, tok.ID, revoked.Add(time.Hour)), "RevokeAPIToken(again)")
	want.RevokedAt = &revoked
	got, err = s.GetAPITokenByHash(ctx, tok.TokenHash)
	must(t, err, "GetAPITokenByHash(revoked)")
	roundTrip(t, "token after revoking twice (first time kept)", got, &want)

	got, err = s.GetAPIToken(ctx, other.ID)
	must(t, err, "GetAPIToken(other)")
	roundTrip(t, "untouched token", got, other)

	wantCode(t, s.TouchAPIToken(ctx, parley.NewID(), used), parley.ENOTFOUND, "TouchAPIToken(unknown)")
	wantCode(t, s.RevokeAPIToken(ctx, parley.NewID(), used), parley.ENOTFOUND, "RevokeAPIToken(unknown)")
}
