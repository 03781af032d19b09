package desk

import (
	"fmt"
	"strings"

	"github.com/parleychat/parley"
)

// Action is something a caller may be allowed to do.
type Action string

// The actions of the permission table. docs/roles.md shows the same table.
const (
	ConversationCreate   Action = "conversation.create"   // start a conversation (the widget)
	ConversationView     Action = "conversation.view"     // read a conversation and its messages, list conversations
	ConversationReply    Action = "conversation.reply"    // send a message the customer sees
	ConversationNote     Action = "conversation.note"     // write a private note among agents
	ConversationRead     Action = "conversation.read"     // mark messages read
	ConversationClaim    Action = "conversation.claim"    // take a waiting conversation
	ConversationStatus   Action = "conversation.status"   // close, reopen, return to the queue
	ConversationTransfer Action = "conversation.transfer" // hand a conversation to another agent
	ConversationAssign   Action = "conversation.assign"   // assign anyone's conversation to anyone
	ConversationDelete   Action = "conversation.delete"   // delete a conversation and its messages
	InboxOfOthers        Action = "inbox.others"          // list another agent's inbox, see every conversation
	CustomerView         Action = "customer.view"         // read a customer's profile
	CustomerList         Action = "customer.list"         // list every customer
	UserView             Action = "user.view"             // list and read agent accounts
	UserManage           Action = "user.manage"           // create, update, disable agent accounts
	SelfManage           Action = "self.manage"           // own profile, availability, password, sign out
	TokenOwn             Action = "token.own"             // create, list, revoke one's own API tokens
	TokenAll             Action = "token.all"             // list and revoke everyone's API tokens

	// Search and exports.
	ConversationSearch Action = "conversation.search" // search messages, customers and conversation ids
	ConversationExport Action = "conversation.export" // download a transcript; with all, export in bulk
)

// The actions of the agents' workflow.
const (
	ConversationTransferForce Action = "conversation.transfer_force" // transfer to an agent who is offline or full
	ConversationHistory       Action = "conversation.history"        // read a conversation's transfers
	ConversationPin           Action = "conversation.pin"            // pin SOP documents to a conversation, list its pins
	ConversationRate          Action = "conversation.rate"           // rate a closed conversation (the visitor, once)
	QuickReplyOwn             Action = "quickreply.own"              // use shared quick replies; manage one's own
	QuickReplyShared          Action = "quickreply.shared"           // create, change, delete shared quick replies
	SOPRead                   Action = "sop.read"                    // search and read SOP documents and their versions
	SOPEdit                   Action = "sop.edit"                    // create, change, delete SOP documents
	ReportView                Action = "report.view"                 // read the reports
)

// Widget settings and the visitor's own profile.
const (
	SettingsView   Action = "settings.view"   // read the widget settings, allowed origins, business hours
	SettingsManage Action = "settings.manage" // change them
	VisitorSelf    Action = "visitor.self"    // a visitor reads and updates their own profile and context
)

// Scope limits an allowed action to some resources.
type Scope int

const (
	Deny Scope = iota
	// Own: a visitor's own conversations and profile; an agent's own account,
	// or the conversations assigned to them.
	Own
	// Visible: conversations an agent sees: waiting ones and their own.
	Visible
	// Replyable: conversations assigned to the agent, or waiting and unassigned
	// (replying to one of these claims it).
	Replyable
	// Claimable: visible conversations that wait with no assignee.
	Claimable
	// All: every resource of the kind.
	All
)

func (s Scope) String() string {
	return [...]string{"-", "own", "visible", "replyable", "claimable", "all"}[s]
}

// Rule says who may do an action: visitors within one scope, and each agent
// role within its own (indexed by Role.Rank()-1: agent, senior_agent,
// team_lead, admin).
type Rule struct {
	Visitor Scope
	Roles   [4]Scope
}

// Permissions is the one table of who may do what. A disabled user is never
// an actor (authentication refuses them), so they can do nothing.
var Permissions = map[Action]Rule{
	ConversationCreate:   {Visitor: Own},
	ConversationView:     {Visitor: Own, Roles: [4]Scope{Visible, All, All, All}},
	ConversationReply:    {Visitor: Own, Roles: [4]Scope{Replyable, Replyable, Replyable, Replyable}},
	ConversationNote:     {Roles: [4]Scope{Visible, All, All, All}},
	ConversationRead:     {Visitor: Own, Roles: [4]Scope{Visible, All, All, All}},
	ConversationClaim:    {Roles: [4]Scope{Claimable, Claimable, Claimable, Claimable}},
	ConversationStatus:   {Roles: [4]Scope{Own, All, All, All}},
	ConversationTransfer: {Roles: [4]Scope{Own, All, All, All}},
	ConversationAssign:   {Roles: [4]Scope{Deny, Deny, All, All}},
	ConversationDelete:   {Roles: [4]Scope{Deny, Deny, Deny, All}},
	InboxOfOthers:        {Roles: [4]Scope{Deny, All, All, All}},
	CustomerView:         {Visitor: Own, Roles: [4]Scope{Visible, All, All, All}},
	CustomerList:         {Roles: [4]Scope{Deny, All, All, All}},
	UserView:             {Roles: [4]Scope{All, All, All, All}},
	UserManage:           {Roles: [4]Scope{Deny, Deny, Deny, All}},
	SelfManage:           {Roles: [4]Scope{Own, Own, Own, Own}},
	TokenOwn:             {Roles: [4]Scope{Own, Own, Own, Own}},
	TokenAll:             {Roles: [4]Scope{Deny, Deny, Deny, All}},

	ConversationTransferForce: {Roles: [4]Scope{Deny, Deny, All, All}},
	ConversationHistory:       {Roles: [4]Scope{Visible, All, All, All}},
	ConversationPin:           {Roles: [4]Scope{Visible, All, All, All}},
	ConversationRate:          {Visitor: Own},
	QuickReplyOwn:             {Roles: [4]Scope{Own, Own, Own, Own}},
	QuickReplyShared:          {Roles: [4]Scope{Deny, Deny, All, All}},
	SOPRead:                   {Roles: [4]Scope{All, All, All, All}},
	SOPEdit:                   {Roles: [4]Scope{Deny, Deny, All, All}},
	ReportView:                {Roles: [4]Scope{Deny, Deny, All, All}},
	SettingsView:              {Roles: [4]Scope{Deny, Deny, All, All}},
	SettingsManage:            {Roles: [4]Scope{Deny, Deny, Deny, All}},
	VisitorSelf:               {Visitor: Own},
	ConversationSearch:        {Roles: [4]Scope{Visible, All, All, All}},
	ConversationExport:        {Visitor: Own, Roles: [4]Scope{Deny, Deny, All, All}},
}

// ActionOrder lists the actions in the order docs/roles.md shows them.
var ActionOrder = []Action{
	ConversationCreate, ConversationView, ConversationReply, ConversationNote, ConversationRead,
	ConversationClaim, ConversationStatus, ConversationTransfer, ConversationAssign,
	ConversationDelete, InboxOfOthers, CustomerView, CustomerList, UserView, UserManage,
	SelfManage, TokenOwn, TokenAll,
	ConversationTransferForce, ConversationHistory, ConversationPin, ConversationRate,
	QuickReplyOwn, QuickReplyShared, SOPRead, SOPEdit, ReportView,
	SettingsView, SettingsManage, VisitorSelf,
	ConversationSearch, ConversationExport,
}

// scope returns how far actor a may do act: Deny for anonymous callers and
// actions not granted to their kind or role.
func scope(a Actor, act Action) Scope {
	r, ok := Permissions[act]
	if !ok {
		return Deny
	}
	switch {
	case a.IsVisitor():
		return r.Visitor
	case a.IsAgent() && !a.User.Disabled:
		if n := a.User.Role.Rank(); n > 0 {
			return r.Roles[n-1]
		}
	}
	return Deny
}

// allow is the first gate of every use case, before any resource is read: it
// returns EUNAUTHORIZED for anonymous callers and EFORBIDDEN when the caller's
// kind or role may not do act at all. The answer never depends on a resource,
// so it tells nothing about one.
func allow(a Actor, act Action) (Scope, error) {
	if !a.IsAgent() && !a.IsVisitor() {
		return Deny, errUnauthorized
	}
	s := scope(a, act)
	if s == Deny {
		return Deny, errForbidden
	}
	return s, nil
}

// sees reports whether a may see conversation c at all. Everything about a
// conversation a caller cannot see answers ENOTFOUND, exactly like a missing one.
func sees(a Actor, c *parley.Conversation) bool {
	switch scope(a, ConversationView) {
	case All:
		return true
	case Visible:
		return c.Status == parley.StatusWaiting || c.AssigneeID == a.ID()
	case Own:
		return a.IsVisitor() && c.CustomerID == a.Customer.ID
	}
	return false
}

// SeesEveryConversation reports whether a may see every conversation (senior
// agents and above), not only the waiting ones and their own.
func (a Actor) SeesEveryConversation() bool { return scope(a, ConversationView) == All }

// within reports whether conversation c is inside scope s for actor a.
func within(a Actor, s Scope, c *parley.Conversation) bool {
	switch s {
	case All:
		return true
	case Own:
		if a.IsVisitor() {
			return c.CustomerID == a.Customer.ID
		}
		return c.AssigneeID != "" && c.AssigneeID == a.ID()
	case Visible:
		return c.Status == parley.StatusWaiting || c.AssigneeID == a.ID()
	case Replyable:
		return c.AssigneeID == a.ID() || (c.AssigneeID == "" && c.Status == parley.StatusWaiting)
	case Claimable:
		return c.AssigneeID == "" && c.Status == parley.StatusWaiting
	}
	return false
}

// can decides whether a may do act on conversation c (nil when the action
// has no conversation). Its answers, in order: EUNAUTHORIZED (no caller),
// EFORBIDDEN (not for this kind or role), ENOTFOUND (the caller cannot see
// c), EFORBIDDEN (sees c but the action is outside their scope), nil.
func can(a Actor, act Action, c *parley.Conversation) error {
	s, err := allow(a, act)
	if err != nil || c == nil {
		return err
	}
	if !sees(a, c) {
		return notFound("Conversation")
	}
	if !within(a, s, c) {
		return errForbidden
	}
	return nil
}

// RolesMarkdown renders Permissions as the Markdown table in docs/roles.md.
func RolesMarkdown() string {
	var b strings.Builder
	b.WriteString("| action | visitor | agent | senior_agent | team_lead | admin |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, act := range ActionOrder {
		r := Permissions[act]
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", act, r.Visitor, r.Roles[0], r.Roles[1], r.Roles[2], r.Roles[3])
	}
	return b.String()
}
