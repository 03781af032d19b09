// Package desk holds Parley's use cases: signing in, starting a conversation,
// sending, claiming, assigning, transferring, closing, and the one table that
// decides who may do what (permission.go). Transports (internal/httpapi,
// internal/realtime) authenticate the caller, call a Desk method with an
// Actor, and encode the result; they never decide roles themselves.
package desk

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// Options configure a Desk.
type Options struct {
	Logger *slog.Logger
	// SessionIdle ends a session after this long without a request (0: 12h).
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in, active or not (0: 7 days).
	SessionMax time.Duration
	// Events hears of every committed change (nil: nobody does).
	Events Events
	// Blobs keeps attachments' bytes (nil: uploads answer EUNAVAILABLE),
	// within the limits of Files (files.go).
	Blobs parley.Blobs
	Files FileLimits

	// AutoAssign offers waiting conversations to available agents
	// round-robin (assignment.go). cmd/parley turns it on by default.
	AutoAssign bool
	// RequeueOnOffline returns an agent's active conversations to the queue
	// when they go offline. cmd/parley turns it on by default.
	RequeueOnOffline bool
	// OfflineGrace, when > 0, sets an agent offline once their last socket
	// has been closed this long (cmd/parley: 60 s); 0 leaves availability
	// to the agent alone.
	OfflineGrace time.Duration

	// Locator finds the country of visitors' addresses (nil: locations are
	// not looked up).
	Locator Locator
}

// Desk runs Parley's use cases on a Store.
type Desk struct {
	store       parley.Store
	log         *slog.Logger
	sessionIdle time.Duration
	sessionMax  time.Duration
	events      Events
	locator     Locator
	hasher      passwordHasher
	files       *fileDesk
	// dummyHash is verified when a sign-in names an unknown email, so that a
	// missing account takes as long to refuse as a wrong password.
	dummyHash func() string

	autoAssign       bool
	requeueOnOffline bool
	presence         presence
	recent           recent
}

// New returns a Desk on store.
func New(store parley.Store, opts Options) *Desk {
	d := &Desk{
		store:       store,
		log:         opts.Logger,
		sessionIdle: opts.SessionIdle,
		sessionMax:  opts.SessionMax,
		events:      opts.Events,
		locator:     opts.Locator,
		hasher:      productionHasher,

		autoAssign:       opts.AutoAssign,
		requeueOnOffline: opts.RequeueOnOffline,
		presence:         presence{grace: opts.OfflineGrace, gone: map[string]*time.Timer{}},
	}
	if d.events == nil {
		d.events = noEvents{}
	}
	d.files = newFileDesk(opts.Blobs, opts.Files)
	d.dummyHash = sync.OnceValue(func() string {
		h, _ := d.hasher.hash(randomSecret(16))
		return h
	})
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.sessionIdle <= 0 {
		d.sessionIdle = 12 * time.Hour
	}
	if d.sessionMax <= 0 {
		d.sessionMax = 7 * 24 * time.Hour
	}
	return d
}

// Store returns the store the desk works on.
func (d *Desk) Store() parley.Store { return d.store }

// ActorKind tells what kind of caller an Actor is.
type ActorKind int

const (
	Anonymous ActorKind = iota // no (valid) credentials
	Agent                      // a user, by session or API token
	Visitor                    // a widget visitor, by visitor token
)

// Actor is who makes a request. Build one through the Authenticate methods
// (or Anon); the zero value is anonymous.
type Actor struct {
	Kind     ActorKind
	User     *parley.User     // Kind == Agent
	Customer *parley.Customer // Kind == Visitor
	// Session is set when an agent authenticated with a session cookie.
	Session *parley.Session
	// Token is set when an agent authenticated with an API token.
	Token *parley.APIToken
}

// Anon is the anonymous actor.
var Anon = Actor{}

// IsAgent reports whether a is a signed-in user (any role).
func (a Actor) IsAgent() bool { return a.Kind == Agent && a.User != nil }

// IsVisitor reports whether a is a widget visitor.
func (a Actor) IsVisitor() bool { return a.Kind == Visitor && a.Customer != nil }

// ID returns the user or customer id of a ("" when anonymous).
func (a Actor) ID() string {
	switch {
	case a.IsAgent():
		return a.User.ID
	case a.IsVisitor():
		return a.Customer.ID
	}
	return ""
}

func (a Actor) role() parley.Role {
	if a.IsAgent() {
		return a.User.Role
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

// internal wraps an unexpected error, keeping codes that stores set.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*parley.Error); ok {
		return err
	}
	if parley.ErrorCode(err) != parley.EINTERNAL {
		return err
	}
	return parley.WrapError(parley.EINTERNAL, op, err)
}

func notFound(what string) error { return parley.Errorf(parley.ENOTFOUND, "%s not found.", what) }

var errUnauthorized = &parley.Error{Code: parley.EUNAUTHORIZED, Message: "Please sign in."}
var errForbidden = &parley.Error{Code: parley.EFORBIDDEN, Message: "You are not allowed to do that."}

// background is used for bookkeeping writes (touches) that must not fail a
// request when the caller goes away.
func background(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
