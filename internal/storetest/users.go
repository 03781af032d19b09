package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var userTests = []test{
	{"CreateGetRoundTrip", testUserRoundTrip},
	{"GivenID", testUserGivenID},
	{"EmailNormalized", testUserEmailNormalized},
	{"EmailTrimmed", testUserEmailTrimmed},
	{"DuplicateEmail", testUserDuplicateEmail},
	{"ListFilterOrder", testUserList},
	{"Count", testUserCount},
	{"UpdateEachField", testUserUpdate},
	{"UpdateConflictAndInvalid", testUserUpdateRejected},
	{"CreateInvalid", testUserCreateInvalid},
	{"Delete", testUserDelete},
}

func testUserRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	start := time.Now()
	u := newUser(parley.RoleTeamLead)
	u.Availability = parley.Away
	u.MaxChats = 7
	u.Disabled = true
	must(t, s.CreateUser(ctx, u), "CreateUser")
	if !parley.ValidID(u.ID) {
		t.Fatalf("CreateUser filled ID %q, not a valid id", u.ID)
	}
	checkFresh(t, "CreatedAt", u.CreatedAt, start)
	checkFresh(t, "UpdatedAt", u.UpdatedAt, start)

	got, err := s.GetUser(ctx, u.ID)
	must(t, err, "GetUser")
	roundTrip(t, "GetUser", got, u)

	got, err = s.GetUserByEmail(ctx, u.Email)
	must(t, err, "GetUserByEmail")
	roundTrip(t, "GetUserByEmail", got, u)
}

func testUserGivenID(t *testing.T, s parley.Store) {
	u := newUser(parley.RoleAgent)
	id := parley.NewID()
	u.ID = id
	must(t, s.CreateUser(t.Context(), u), "CreateUser")
	if u.ID != id {
		t.Fatalf("CreateUser replaced the given id %s with %s", id, u.ID)
	}
	got, err := s.GetUser(t.Context(), id)
	must(t, err, "GetUser")
	roundTrip(t, "GetUser", got, u)
}

func testUserEmailNormalized(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := newUser(parley.RoleAgent)
	n := unique()
	u.Email = "Mixed.Case" + n + "@Example.COM"
	want := "mixed.case" + n + "@example.com"
	must(t, s.CreateUser(ctx, u), "CreateUser")
	if u.Email != want {
		t.Errorf("CreateUser left Email %q, want %q", u.Email, want)
	}
	got, err := s.GetUser(ctx, u.ID)
	must(t, err, "GetUser")
	if got.Email != want {
		t.Errorf("stored email %q, want %q", got.Email, want)
	}
	for _, q := range []string{want, "MIXED.CASE" + n + "@EXAMPLE.COM", "Mixed.Case" + n + "@example.com"} {
		got, err := s.GetUserByEmail(ctx, q)
		if err != nil {
			t.Errorf("GetUserByEmail(%q): %v", q, err)
			continue
		}
		if got.ID != u.ID {
			t.Errorf("GetUserByEmail(%q) = %s, want %s", q, got.ID, u.ID)
		}
	}
	_, err = s.GetUserByEmail(ctx, "nobody"+n+"@example.com")
	wantCode(t, err, parley.ENOTFOUND, "GetUserByEmail(unknown)")
}

// store.go says CreateUser normalizes first, so surrounding space (which
// NormalizeEmail trims) must not make the address invalid.
func testUserEmailTrimmed(t *testing.T, s parley.Store) {
	u := newUser(parley.RoleAgent)
	want := u.Email
	u.Email = "  " + strings.ToUpper(want) + "\t"
	must(t, s.CreateUser(t.Context(), u), "CreateUser")
	got, err := s.GetUserByEmail(t.Context(), " "+want+" ")
	must(t, err, "GetUserByEmail")
	if got.Email != want {
		t.Errorf("stored email %q, want %q", got.Email, want)
	}
}

func testUserDuplicateEmail(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	dup := newUser(parley.RoleAdmin)
	dup.Email = strings.ToUpper(u.Email)
	wantCode(t, s.CreateUser(ctx, dup), parley.ECONFLICT, "CreateUser(same email, other case)")
	n, err := s.CountUsers(ctx)
	must(t, err, "CountUsers")
	if n != 1 {
		t.Errorf("CountUsers = %d after a rejected duplicate, want 1", n)
	}
}

func testUserList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	mk := func(name string, role parley.Role, av parley.Availability, disabled bool) *parley.User {
		u := newUser(role)
		u.Name, u.Availability, u.Disabled = name, av, disabled
		must(t, s.CreateUser(ctx, u), "CreateUser")
		return u
	}
	// Two users share a name so the id tiebreak is exercised.
	users := []*parley.User{
		mk("Carol", parley.RoleAgent, parley.Online, false),
		mk("Alice", parley.RoleAdmin, parley.Away, false),
		mk("Bob", parley.RoleAgent, parley.Offline, false),
		mk("Bob", parley.RoleAgent, parley.Online, false),
		mk("Dave", parley.RoleAgent, parley.Online, true),
		mk("Erin", parley.RoleTeamLead, parley.Online, false),
	}
	sorted := slices.Clone(users)
	slices.SortFunc(sorted, func(a, b *parley.User) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	pick := func(keep func(u *parley.User) bool) []string {
		var out []string
		for _, u := range sorted {
			if keep(u) {
				out = append(out, u.ID)
			}
		}
		return out
	}
	cases := []struct {
		name string
		f    parley.UserFilter
		want []string
	}{
		{"enabled", parley.UserFilter{}, pick(func(u *parley.User) bool { return !u.Disabled })},
		{"all", parley.UserFilter{IncludeDisabled: true}, pick(func(*parley.User) bool { return true })},
		{"agents", parley.UserFilter{Role: parley.RoleAgent, IncludeDisabled: true},
			pick(func(u *parley.User) bool { return u.Role == parley.RoleAgent })},
		{"online agents", parley.UserFilter{Role: parley.RoleAgent, Availability: parley.Online},
			pick(func(u *parley.User) bool {
				return u.Role == parley.RoleAgent && u.Availability == parley.Online && !u.Disabled
			})},
		{"away", parley.UserFilter{Availability: parley.Away}, pick(func(u *parley.User) bool { return u.Availability == parley.Away })},
		{"senior agents", parley.UserFilter{Role: parley.RoleSeniorAgent}, nil},
	}
	for _, tc := range cases {
		got, err := s.ListUsers(ctx, tc.f)
		if err != nil {
			t.Errorf("ListUsers(%s): %v", tc.name, err)
			continue
		}
		var ids []string
		for _, u := range got {
			ids = append(ids, u.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("ListUsers(%s) = %v, want %v (by name, then id)", tc.name, ids, tc.want)
		}
		if tc.name == "all" && len(got) == len(sorted) {
			for i := range got {
				roundTrip(t, "ListUsers[i]", got[i], sorted[i])
			}
		}
	}
}

func testUserCount(t *testing.T, s parley.Store) {
	ctx := t.Context()
	n, err := s.CountUsers(ctx)
	must(t, err, "CountUsers")
	if n != 0 {
		t.Fatalf("CountUsers on an empty store = %d", n)
	}
	mustUser(t, s, parley.RoleAgent)
	d := newUser(parley.RoleAdmin)
	d.Disabled = true
	must(t, s.CreateUser(ctx, d), "CreateUser(disabled)")
	n, err = s.CountUsers(ctx)
	must(t, err, "CountUsers")
	if n != 2 {
		t.Errorf("CountUsers = %d, want 2 (disabled users count)", n)
	}
}

func testUserUpdate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	n := unique()
	cases := []struct {
		name  string
		up    parley.UserUpdate
		check func(u *parley.User)
	}{
		{"email", parley.UserUpdate{Email: ptr("New" + n + "@Example.com")}, func(u *parley.User) { u.Email = "new" + n + "@example.com" }},
		{"name", parley.UserUpdate{Name: ptr("Renamed Ünïcode")}, func(u *parley.User) { u.Name = "Renamed Ünïcode" }},
		{"password", parley.UserUpdate{PasswordHash: ptr("$argon2id$other")}, func(u *parley.User) { u.PasswordHash = "$argon2id$other" }},
		{"role", parley.UserUpdate{Role: ptr(parley.RoleSeniorAgent)}, func(u *parley.User) { u.Role = parley.RoleSeniorAgent }},
		{"availability", parley.UserUpdate{Availability: ptr(parley.Offline)}, func(u *parley.User) { u.Availability = parley.Offline }},
		{"max chats", parley.UserUpdate{MaxChats: ptr(0)}, func(u *parley.User) { u.MaxChats = 0 }},
		{"disabled", parley.UserUpdate{Disabled: ptr(true)}, func(u *parley.User) { u.Disabled = true }},
		{"enabled", parley.UserUpdate{Disabled: ptr(false)}, func(u *parley.User) { u.Disabled = false }},
		{"several", parley.UserUpdate{Name: ptr("Both"), MaxChats: ptr(1000)}, func(u *parley.User) { u.Name, u.MaxChats = "Both", 1000 }},
	}
	u := mustUser(t, s, parley.RoleAgent)
	other := mustUser(t, s, parley.RoleAgent)
	for _, tc := range cases {
		before, err := s.GetUser(ctx, u.ID)
		must(t, err, "GetUser")
		start := time.Now()
		got, err := s.UpdateUser(ctx, u.ID, tc.up)
		if err != nil {
			t.Errorf("UpdateUser(%s): %v", tc.name, err)
			continue
		}
		want := *before
		tc.check(&want)
		if got.UpdatedAt.Before(before.UpdatedAt) {
			t.Errorf("UpdateUser(%s): UpdatedAt went back from %s to %s", tc.name, before.UpdatedAt, got.UpdatedAt)
		}
		checkFresh(t, "UpdateUser("+tc.name+").UpdatedAt", got.UpdatedAt, start)
		want.UpdatedAt = got.UpdatedAt
		roundTrip(t, "UpdateUser("+tc.name+") result", got, &want)
		stored, err := s.GetUser(ctx, u.ID)
		must(t, err, "GetUser")
		roundTrip(t, "GetUser after UpdateUser("+tc.name+")", stored, &want)
	}
	// The other user is untouched by every update above.
	got, err := s.GetUser(ctx, other.ID)
	must(t, err, "GetUser(other)")
	roundTrip(t, "untouched user", got, other)
}

func testUserUpdateRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	other := mustUser(t, s, parley.RoleAgent)
	cases := []struct {
		name string
		up   parley.UserUpdate
		code string
	}{
		{"email taken", parley.UserUpdate{Email: ptr(strings.ToUpper(other.Email))}, parley.ECONFLICT},
		{"bad email", parley.UserUpdate{Email: ptr("not-an-email")}, parley.EINVALID},
		{"empty name", parley.UserUpdate{Name: ptr("")}, parley.EINVALID},
		{"long name", parley.UserUpdate{Name: ptr(strings.Repeat("n", parley.MaxNameLen+1))}, parley.EINVALID},
		{"NUL in name", parley.UserUpdate{Name: ptr("a\x00b")}, parley.EINVALID},
		{"bad role", parley.UserUpdate{Role: ptr(parley.Role("root"))}, parley.EINVALID},
		{"bad availability", parley.UserUpdate{Availability: ptr(parley.Availability("busy"))}, parley.EINVALID},
		{"negative max chats", parley.UserUpdate{MaxChats: ptr(-1)}, parley.EINVALID},
		{"max chats over cap", parley.UserUpdate{MaxChats: ptr(parley.MaxChatsCap + 1)}, parley.EINVALID},
		{"empty password", parley.UserUpdate{PasswordHash: ptr("")}, parley.EINVALID},
		{"valid field with an invalid one", parley.UserUpdate{Name: ptr("Fine"), Role: ptr(parley.Role("x"))}, parley.EINVALID},
	}
	for _, tc := range cases {
		_, err := s.UpdateUser(ctx, u.ID, tc.up)
		wantCode(t, err, tc.code, "UpdateUser("+tc.name+")")
		got, err := s.GetUser(ctx, u.ID)
		must(t, err, "GetUser")
		roundTrip(t, "user after rejected UpdateUser("+tc.name+")", got, u)
	}
}

func testUserCreateInvalid(t *testing.T, s parley.Store) {
	ctx := t.Context()
	cases := []struct {
		name string
		edit func(u *parley.User)
	}{
		{"empty email", func(u *parley.User) { u.Email = "" }},
		{"email without at", func(u *parley.User) { u.Email = "example.com" }},
		{"long email", func(u *parley.User) { u.Email = strings.Repeat("e", parley.MaxEmailLen) + "@x.io" }},
		{"empty name", func(u *parley.User) { u.Name = "" }},
		{"long name", func(u *parley.User) { u.Name = strings.Repeat("n", parley.MaxNameLen+1) }},
		{"NUL in name", func(u *parley.User) { u.Name = "a\x00b" }},
		{"invalid UTF-8 name", func(u *parley.User) { u.Name = "a\xffb" }},
		{"no password", func(u *parley.User) { u.PasswordHash = "" }},
		{"bad role", func(u *parley.User) { u.Role = "superuser" }},
		{"empty role", func(u *parley.User) { u.Role = "" }},
		{"bad availability", func(u *parley.User) { u.Availability = "busy" }},
		{"negative max chats", func(u *parley.User) { u.MaxChats = -1 }},
		{"max chats over cap", func(u *parley.User) { u.MaxChats = parley.MaxChatsCap + 1 }},
		{"malformed given id", func(u *parley.User) { u.ID = "not-a-uuid" }},
	}
	for _, tc := range cases {
		u := newUser(parley.RoleAgent)
		tc.edit(u)
		wantCode(t, s.CreateUser(ctx, u), parley.EINVALID, "CreateUser("+tc.name+")")
	}
	n, err := s.CountUsers(ctx)
	must(t, err, "CountUsers")
	if n != 0 {
		t.Errorf("CountUsers = %d after only invalid creations, want 0", n)
	}
}

func testUserDelete(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := mustUser(t, s, parley.RoleAgent)
	keep := mustUser(t, s, parley.RoleAgent)
	must(t, s.DeleteUser(ctx, u.ID), "DeleteUser")
	_, err := s.GetUser(ctx, u.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetUser(deleted)")
	_, err = s.GetUserByEmail(ctx, u.Email)
	wantCode(t, err, parley.ENOTFOUND, "GetUserByEmail(deleted)")
	wantCode(t, s.DeleteUser(ctx, u.ID), parley.ENOTFOUND, "DeleteUser(again)")
	if _, err := s.GetUser(ctx, keep.ID); err != nil {
		t.Errorf("GetUser(other user) after a delete: %v", err)
	}
	// The email is free again.
	again := newUser(parley.RoleAgent)
	again.Email = u.Email
	must(t, s.CreateUser(ctx, again), "CreateUser(reused email)")
}
