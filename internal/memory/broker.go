// Package memory implements parley.Broker within one process, for a single
// node.
package memory

import (
	"context"
	"sync"

	"github.com/parleychat/parley"
)

// Broker delivers each published message synchronously to the subscribers of
// its topic in this process. A topic's subscribers are a slice: most topics
// (a conversation's, with its visitor's socket and perhaps an agent's) have
// one or two, and every socket subscribes to some.
type Broker struct {
	mu     sync.RWMutex
	topics map[string][]*subscription
}

type subscription struct {
	b     *Broker
	topic string
	fn    func([]byte)
	gone  bool // cancelled; under b.mu
}

var _ parley.Broker = (*Broker)(nil)

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{topics: make(map[string][]*subscription)}
}

// Publish calls every subscriber of topic with data before returning.
func (b *Broker) Publish(ctx context.Context, topic string, data []byte) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, s := range b.topics[topic] {
		s.fn(data)
	}
	return nil
}

// Subscribe registers fn for topic until cancel is called.
func (b *Broker) Subscribe(topic string, fn func([]byte)) (func(), error) {
	s := &subscription{b: b, topic: topic, fn: fn}
	b.mu.Lock()
	b.topics[topic] = append(b.topics[topic], s)
	b.mu.Unlock()
	return s.cancel, nil
}

func (s *subscription) cancel() {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.gone {
		return
	}
	s.gone = true
	subs := b.topics[s.topic]
	for i, o := range subs {
		if o == s {
			last := len(subs) - 1
			subs[i], subs[last] = subs[last], nil
			subs = subs[:last]
			break
		}
	}
	if len(subs) == 0 {
		delete(b.topics, s.topic)
	} else {
		b.topics[s.topic] = subs
	}
}

// Topics returns how many topics have subscribers (for tests and metrics).
func (b *Broker) Topics() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.topics)
}
