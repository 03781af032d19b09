package storetest

import (
	"reflect"
	"testing"

	"github.com/parleychat/parley"
)

var userNameTests = []test{
	{"Lookup", testUserNames},
	{"Limit", testUserNamesLimit},
}

// UserNames finds every user among the ids, disabled ones too, and leaves
// out what names no user: unknown, deleted, malformed, repeated.
func testUserNames(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := mustUser(t, s, parley.RoleAgent)
	b := mustUser(t, s, parley.RoleAdmin)
	gone := mustUser(t, s, parley.RoleAgent)
	must(t, s.DeleteUser(ctx, gone.ID), "DeleteUser")
	_, err := s.UpdateUser(ctx, b.ID, parley.UserUpdate{Disabled: ptr(true), Name: ptr("Bea Ünïcode 李")})
	must(t, err, "UpdateUser")

	for _, tc := range []struct {
		name string
		ids  []string
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"one", []string{a.ID}, map[string]string{a.ID: a.Name}},
		{"disabled, renamed, repeated", []string{b.ID, a.ID, b.ID}, map[string]string{a.ID: a.Name, b.ID: "Bea Ünïcode 李"}},
		{"unknown and malformed", []string{parley.NewID(), gone.ID, "not-an-id", "", "'; DROP TABLE users; --", a.ID}, map[string]string{a.ID: a.Name}},
	} {
		got, err := s.UserNames(ctx, tc.ids)
		if err != nil {
			t.Errorf("UserNames(%s): %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("UserNames(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A page of messages has at most MaxMessagePage senders; more ids than
// MaxUserNames is a caller's mistake, refused before any query.
func testUserNamesLimit(t *testing.T, s parley.Store) {
	a := mustUser(t, s, parley.RoleAgent)
	ids := []string{a.ID}
	for len(ids) < parley.MaxUserNames {
		ids = append(ids, parley.NewID())
	}
	got, err := s.UserNames(t.Context(), ids)
	must(t, err, "UserNames at the limit")
	if got[a.ID] != a.Name || len(got) != 1 {
		t.Errorf("UserNames at the limit = %v", got)
	}
	_, err = s.UserNames(t.Context(), append(ids, parley.NewID()))
	wantCode(t, err, parley.EINVALID, "UserNames over the limit")
}
