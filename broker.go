package parley

import "context"

// Broker fans events out to the subscribers on every node. The database is the
// source of truth and the broker only carries news of it: events are published
// after the store committed, and a subscriber that misses one catches up from
// the store (clients resume by seq). internal/memory implements it within one
// process; a NATS implementation serves several nodes.
type Broker interface {
	// Publish delivers data to every current subscriber of topic. EUNAVAILABLE
	// when the broker cannot be reached.
	Publish(ctx context.Context, topic string, data []byte) error
	// Subscribe calls fn with each message published to topic until cancel is
	// called. fn runs on the broker's goroutine and must not block; it must
	// not keep data after it returns unless it copies it.
	Subscribe(topic string, fn func(data []byte)) (cancel func(), err error)
}

// Topics events are published on.
const InboxTopic = "inbox" // every agent's inbox: conversations created, moved, changed

// ConversationTopic is where a conversation's messages, typing and reads go.
func ConversationTopic(id string) string { return "conversation." + id }

// UserTopic is where events for one agent go (sessions ended, assignments).
func UserTopic(id string) string { return "user." + id }
