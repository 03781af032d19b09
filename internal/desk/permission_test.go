package desk

import (
	"os"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// TestRolesDocMatchesTable keeps docs/roles.md in step with Permissions.
func TestRolesDocMatchesTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/roles.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), RolesMarkdown()) {
		t.Errorf("docs/roles.md does not hold the permission table; it should contain:\n%s", RolesMarkdown())
	}
	if len(ActionOrder) != len(Permissions) {
		t.Errorf("ActionOrder lists %d actions, Permissions %d", len(ActionOrder), len(Permissions))
	}
}

// TestRolesAreCumulative: each role may do at least what the one below may.
func TestRolesAreCumulative(t *testing.T) {
	for act, r := range Permissions {
		for i := 1; i < 4; i++ {
			if r.Roles[i] < r.Roles[i-1] && !(r.Roles[i-1] == Claimable || r.Roles[i-1] == Replyable) {
				t.Errorf("%s: %s may do less than %s", act, parley.Roles[i], parley.Roles[i-1])
			}
		}
	}
}

func TestScopeOfDisabledAndAnonymous(t *testing.T) {
	admin := &parley.User{ID: parley.NewID(), Role: parley.RoleAdmin}
	disabled := &parley.User{ID: parley.NewID(), Role: parley.RoleAdmin, Disabled: true}
	c := &parley.Conversation{Status: parley.StatusWaiting, CustomerID: parley.NewID()}
	for _, act := range ActionOrder {
		if err := can(Anon, act, c); parley.ErrorCode(err) != parley.EUNAUTHORIZED {
			t.Errorf("anonymous %s: %v", act, err)
		}
		if err := can(Actor{Kind: Agent, User: disabled}, act, nil); err == nil {
			t.Errorf("a disabled admin may %s", act)
		}
	}
	if err := can(Actor{Kind: Agent, User: admin}, ConversationDelete, c); err != nil {
		t.Errorf("admin delete: %v", err)
	}
}
