// Package memory implements parley.Broker within one process, for a single
// node.
package memory

import (
	"context"
	"sync"

	"github.com/parleychat/parley"
)

// Broker delivers each published message synchronously to the subscribers of
// its topic in this process.
type Broker struct {
	mu     sync.RWMutex
	topics map[string]map[*subscription]struct{}
}

type subscription struct{ fn func([]byte) }

var _ parley.Broker = (*Broker)(nil)

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{topics: make(map[string]map[*subscription]struct{})}
}

// Publish calls every subscriber of topic with data before returning.
func (b *Broker) Publish(ctx context.Context, topic string, data []byte) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.topics[topic] {
		s.fn(data)
	}
	return nil
}

// Subscribe registers fn for topic until cancel is called.
func (b *Broker) Subscribe(topic string, fn func([]byte)) (func(), error) {
	s := &subscription{fn: fn}
	b.mu.Lock()
	subs := b.topics[topic]
	if subs == nil {
		subs = make(map[*subscription]struct{})
		b.topics[topic] = subs
	}
	subs[s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.topics[topic], s)
			if len(b.topics[topic]) == 0 {
				delete(b.topics, topic)
			}
		})
	}, nil
}

// Topics returns how many topics have subscribers (for tests and metrics).
func (b *Broker) Topics() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.topics)
}
