// Package storetest is the conformance suite every parley.Store must pass.
// Each store package calls Run from its own tests with a function that opens a
// fresh, migrated, empty store, so one suite pins the semantics store.go
// promises for SQLite and PostgreSQL alike.
package storetest

import (
	"testing"

	"github.com/parleychat/parley"
)

// test is one conformance check, run on a store of its own.
type test struct {
	name string
	fn   func(t *testing.T, s parley.Store)
}

// Run runs the conformance suite. open must return a fresh, migrated, empty
// store and arrange for it to be closed when tb ends. Every subtest gets its
// own store, so they run in parallel.
func Run(t *testing.T, open func(tb testing.TB) parley.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"User", userTests},
		{"Session", sessionTests},
		{"APIToken", apiTokenTests},
		{"Customer", customerTests},
		{"Conversation", conversationTests},
		{"Participant", participantTests},
		{"Transfer", transferTests},
		{"Message", messageTests},
		{"Inbox", inboxTests},
		{"QuickReply", quickReplyTests},
		{"SOP", sopTests},
		{"Errors", errorTests},
		{"Cascade", cascadeTests},
		{"Files", fileTests},
		{"UserNames", userNameTests},
		{"Widget", widgetTests},
		{"Search", searchTests}, {"Export", exportTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					s := open(t)
					tc.fn(t, s)
				})
			}
		})
	}
}
