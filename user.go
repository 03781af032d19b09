package parley

import (
	"strings"
	"time"
)

// Role is an agent account's role. Each role may do what the role below it may,
// and more; docs/roles.md has the matrix and internal/desk enforces it.
type Role string

const (
	RoleAgent       Role = "agent"
	RoleSeniorAgent Role = "senior_agent"
	RoleTeamLead    Role = "team_lead"
	RoleAdmin       Role = "admin"
)

// Roles lists every role from least to most privileged.
var Roles = []Role{RoleAgent, RoleSeniorAgent, RoleTeamLead, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Rank orders roles: agent 1 ... admin 4, 0 for an unknown role.
func (r Role) Rank() int {
	for i, v := range Roles {
		if r == v {
			return i + 1
		}
	}
	return 0
}

// AtLeast reports whether r is o or a more privileged role.
func (r Role) AtLeast(o Role) bool { return r.Rank() >= o.Rank() && r.Rank() > 0 }

// Availability is whether an agent takes chats now.
type Availability string

const (
	Online  Availability = "online"
	Away    Availability = "away"
	Offline Availability = "offline"
)

// Valid reports whether a is online, away or offline.
func (a Availability) Valid() bool { return a == Online || a == Away || a == Offline }

// User is an agent account (the seed's ADMIN table, with roles).
type User struct {
	ID           string
	Email        string // stored lower-cased; unique
	Name         string
	PasswordHash string // an encoded argon2id hash; never leaves the server
	Role         Role
	Availability Availability
	MaxChats     int // most conversations assigned at once; 0 means no limit
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Limits of user fields.
const (
	MaxEmailLen = 254
	MaxNameLen  = 200
	MaxChatsCap = 1000
)

// NormalizeEmail returns the form in which emails are stored and looked up.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Validate checks the fields a store writes. It returns EINVALID.
func (u *User) Validate() error {
	const op = "User.Validate"
	if err := validateEmail(op, u.Email, true); err != nil {
		return err
	}
	if err := checkText(op, "name", u.Name, MaxNameLen, true); err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return Errorf(EINVALID, "password hash is required")
	}
	if !u.Role.Valid() {
		return Errorf(EINVALID, "role must be one of agent, senior_agent, team_lead, admin")
	}
	if !u.Availability.Valid() {
		return Errorf(EINVALID, "availability must be online, away or offline")
	}
	if u.MaxChats < 0 || u.MaxChats > MaxChatsCap {
		return Errorf(EINVALID, "max chats must be between 0 and %d", MaxChatsCap)
	}
	return nil
}

func validateEmail(op, email string, required bool) error {
	if err := checkText(op, "email", email, MaxEmailLen, required); err != nil {
		return err
	}
	if email == "" {
		return nil
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>") {
		return &Error{Code: EINVALID, Op: op, Message: "email is not a valid address"}
	}
	return nil
}

// UserFilter selects users in ListUsers. Zero values select every user who
// is not disabled; IncludeDisabled adds the disabled ones.
type UserFilter struct {
	Role            Role
	Availability    Availability
	IncludeDisabled bool
}

// UserUpdate changes the non-nil fields of a user.
type UserUpdate struct {
	Email        *string
	Name         *string
	PasswordHash *string
	Role         *Role
	Availability *Availability
	MaxChats     *int
	Disabled     *bool
}

// Apply copies the non-nil fields of up into u.
func (up UserUpdate) Apply(u *User) {
	if up.Email != nil {
		u.Email = NormalizeEmail(*up.Email)
	}
	if up.Name != nil {
		u.Name = *up.Name
	}
	if up.PasswordHash != nil {
		u.PasswordHash = *up.PasswordHash
	}
	if up.Role != nil {
		u.Role = *up.Role
	}
	if up.Availability != nil {
		u.Availability = *up.Availability
	}
	if up.MaxChats != nil {
		u.MaxChats = *up.MaxChats
	}
	if up.Disabled != nil {
		u.Disabled = *up.Disabled
	}
}

// Session is an agent's login session, kept in the database. The cookie holds
// a random token; only its SHA-256 (TokenHash, hex) is stored.
type Session struct {
	ID            string
	UserID        string
	TokenHash     string
	CSRFToken     string // random, sent to the client once at login; compared in constant time
	IP            string
	UserAgent     string
	CreatedAt     time.Time
	LastSeenAt    time.Time
	IdleExpiresAt time.Time // moved forward by TouchSession
	ExpiresAt     time.Time // absolute; never moved
}

// APIToken is a long-lived credential for integrations, acting as its user.
// Only the SHA-256 of the token (TokenHash, hex) is stored.
type APIToken struct {
	ID         string
	UserID     string
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Validate checks the fields a store writes. It returns EINVALID.
func (s *Session) Validate() error {
	const op = "Session.Validate"
	if err := checkID(op, "user id", s.UserID, true); err != nil {
		return err
	}
	if len(s.TokenHash) != 64 {
		return Errorf(EINVALID, "token hash must be a hex SHA-256")
	}
	if err := checkText(op, "user agent", s.UserAgent, 1000, false); err != nil {
		return err
	}
	if s.ExpiresAt.IsZero() || s.IdleExpiresAt.IsZero() {
		return Errorf(EINVALID, "session expiry is required")
	}
	return nil
}

// Validate checks the fields a store writes. It returns EINVALID.
func (t *APIToken) Validate() error {
	const op = "APIToken.Validate"
	if err := checkID(op, "user id", t.UserID, true); err != nil {
		return err
	}
	if len(t.TokenHash) != 64 {
		return Errorf(EINVALID, "token hash must be a hex SHA-256")
	}
	return checkText(op, "name", t.Name, MaxNameLen, true)
}
