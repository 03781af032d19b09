package parley

import (
	"context"
	"sort"
	"time"
)

// WorkflowStore keeps what the agents' workflow needs beyond conversations
// and messages: round-robin assignment, satisfaction ratings, the versions
// and pins of SOP documents, and the figures of the reports.
type WorkflowStore interface {
	// AssignWaiting gives waiting, unassigned conversation conversationID to
	// agentID, or, with agentID "", to the next available agent round-robin:
	// enabled, availability online, fewer active conversations than their
	// MaxChats (0: no limit), the one assigned a conversation longest ago
	// (never first; ties by id). The conversation becomes active and the
	// agent's last assignment time is recorded (claims count as assignments
	// too), in one transaction during which no other assignment runs, so
	// concurrent calls, from any number of nodes, never give a conversation
	// two agents nor an agent more than MaxChats active conversations. It
	// returns the conversation as stored; with agentID "" and no agent
	// available, the conversation unchanged (AssigneeID ""). ENOTFOUND (no
	// such conversation, or no such agentID); ECONFLICT when the
	// conversation is not waiting and unassigned, or agentID already has
	// MaxChats active conversations (the conversation then still waits).
	AssignWaiting(ctx context.Context, conversationID, agentID string) (*Conversation, error)
	// WaitingConversations returns the ids of up to limit (1..MaxPageSize)
	// waiting, unassigned conversations, longest waiting first. EINVALID.
	WaitingConversations(ctx context.Context, limit int) ([]string, error)

	// CreateRating stores r, filling CreatedAt. ECONFLICT when the
	// conversation was rated already; ENOTFOUND (conversation); EINVALID.
	CreateRating(ctx context.Context, r *Rating) error
	// GetRating returns the rating of a conversation. ENOTFOUND.
	GetRating(ctx context.Context, conversationID string) (*Rating, error)

	// ListSOPVersions returns every kept version of a document, newest
	// first (CreateSOP keeps version 1, each UpdateSOP the version it
	// makes); an unknown document yields an empty list.
	ListSOPVersions(ctx context.Context, documentID string) ([]*SOPVersion, error)
	// SearchSOPs returns the documents f selects, ordered by title (by code
	// point) then id. EINVALID (limit).
	SearchSOPs(ctx context.Context, f SOPFilter) ([]*SOPDocument, error)
	// PinSOP pins a document to a conversation on behalf of userID; pinning
	// it again changes nothing. ENOTFOUND (conversation, document or user).
	PinSOP(ctx context.Context, conversationID, documentID, userID string) error
	// UnpinSOP removes a pin. ENOTFOUND when the document is not pinned there.
	UnpinSOP(ctx context.Context, conversationID, documentID string) error
	// ListPinnedSOPs returns the documents pinned to a conversation, oldest
	// pin first; an unknown conversation yields an empty list.
	ListPinnedSOPs(ctx context.Context, conversationID string) ([]*PinnedSOP, error)

	// Report computes the figures of f's range (see Report). EINVALID.
	Report(ctx context.Context, f ReportFilter) (*Report, error)
}

// Rating is a visitor's satisfaction with a conversation once it closed,
// given once.
type Rating struct {
	ConversationID string
	Score          int // 1..5
	Comment        string
	CreatedAt      time.Time
}

// MaxRatingCommentLen bounds a rating's comment.
const MaxRatingCommentLen = 2000

// Validate checks the fields a store writes. It returns EINVALID.
func (r *Rating) Validate() error {
	const op = "Rating.Validate"
	if err := checkID(op, "conversation id", r.ConversationID, true); err != nil {
		return err
	}
	if r.Score < 1 || r.Score > 5 {
		return Errorf(EINVALID, "score must be a whole number from 1 to 5")
	}
	return checkText(op, "comment", r.Comment, MaxRatingCommentLen, false)
}

// SOPVersion is one kept version of an SOP document: what it said after a
// change, who made the change and when.
type SOPVersion struct {
	DocumentID string
	Version    int
	Title      string
	Body       string
	Tags       []string
	ChangedBy  string // "" once the account is deleted
	ChangedAt  time.Time
}

// SOPFilter selects documents in SearchSOPs. Matching folds ASCII letters
// only (A-Z = a-z), the same on every store.
type SOPFilter struct {
	// Query, when set, keeps documents whose title, body or one of whose
	// tags contains it.
	Query string
	// Tag, when set, keeps documents with this tag (whole tag).
	Tag   string
	Limit int // 1..MaxPageSize; 0 means DefaultPageSize
}

// PinnedSOP is a document pinned to a conversation.
type PinnedSOP struct {
	ConversationID string
	Document       *SOPDocument
	PinnedBy       string // "" once the account is deleted
	PinnedAt       time.Time
}

// ReportFilter is the range of a report: [From, To), at most MaxReportRange
// long, with the waiting queue sampled every Bucket (an hour or a day) from
// From on.
type ReportFilter struct {
	From, To time.Time
	Bucket   time.Duration
}

// MaxReportRange bounds a report's range.
const MaxReportRange = 366 * 24 * time.Hour

// Validate checks a report's range. It returns EINVALID.
func (f ReportFilter) Validate() error {
	switch {
	case f.From.IsZero() || f.To.IsZero():
		return Errorf(EINVALID, "from and to are required")
	case !f.To.After(f.From):
		return Errorf(EINVALID, "to must be after from")
	case f.To.Sub(f.From) > MaxReportRange:
		return Errorf(EINVALID, "a report covers at most 366 days")
	case f.Bucket != time.Hour && f.Bucket != 24*time.Hour:
		return Errorf(EINVALID, "bucket must be an hour or a day")
	}
	return nil
}

// Buckets returns how many queue samples the report holds: one at From and
// one every Bucket after it, before To.
func (f ReportFilter) Buckets() int {
	return int((f.To.Sub(f.From) + f.Bucket - 1) / f.Bucket)
}

// Report holds the figures of a range, overall and per agent. Every figure
// counts what happened in [From, To):
//   - Started: conversations created in the range (per agent: those whose
//     first assignee the agent was);
//   - Closed: conversations closed in the range (per agent: by assignee);
//   - FirstResponse: from creation to the first reply of an agent (text or
//     file), for conversations created in the range (per agent: who
//     replied first);
//   - Resolution: from creation to closing, for conversations closed in the
//     range (per agent: by assignee);
//   - Satisfaction: ratings given in the range (per agent: by assignee).
//
// Percentiles are nearest-rank: the value at rank ceil(p * count) of the
// values in ascending order.
type Report struct {
	From, To time.Time
	Overall  ReportStats
	Agents   []AgentReport // agents with any figure, by name then id
	// Queue is the length of the waiting queue at From and every Bucket
	// after it. A conversation waits from its creation until it is first
	// assigned, or closed if it never was.
	Queue []QueueSample
}

// ReportStats are the figures of a report for everyone or one agent.
type ReportStats struct {
	Started       int
	Closed        int
	FirstResponse DurationStats
	Resolution    DurationStats
	Satisfaction  RatingStats
}

// DurationStats summarize durations; Median and P90 are 0 when Count is 0.
type DurationStats struct {
	Count  int
	Median time.Duration
	P90    time.Duration
}

// RatingStats summarize ratings: Distribution[i] counts scores of i+1.
type RatingStats struct {
	Count        int
	Sum          int
	Distribution [5]int
}

// Average returns the mean score, 0 without ratings.
func (r RatingStats) Average() float64 {
	if r.Count == 0 {
		return 0
	}
	return float64(r.Sum) / float64(r.Count)
}

// AgentReport is one agent's figures. Name is "" once the account is deleted.
type AgentReport struct {
	AgentID string
	Name    string
	ReportStats
}

// QueueSample is the waiting queue's length at one moment.
type QueueSample struct {
	At      time.Time
	Waiting int
}

// SortAgents orders r.Agents by name (by code point), then id.
func (r *Report) SortAgents() {
	sort.Slice(r.Agents, func(i, j int) bool {
		a, b := r.Agents[i], r.Agents[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.AgentID < b.AgentID
	})
}
