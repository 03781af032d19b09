package httpapi

import (
	"sync"
	"time"
)

// limiter is a set of in-memory token buckets, one per key (an IP address,
// an account). Each bucket holds up to burst tokens and regains one every
// refill. Buckets that are full again are forgotten by sweep, so memory is
// bounded by the keys seen within burst*refill. Limits are per process: with
// several nodes, each node applies them on its own.
type limiter struct {
	burst  float64
	refill time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, refill time.Duration) *limiter {
	return &limiter{burst: float64(burst), refill: refill, buckets: map[string]*bucket{}, now: time.Now}
}

func (l *limiter) level(b *bucket, now time.Time) float64 {
	t := b.tokens + float64(now.Sub(b.at))/float64(l.refill)
	if t > l.burst {
		t = l.burst
	}
	return t
}

// take removes one token from key's bucket; false when it is empty.
func (l *limiter) take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	t := l.level(b, now)
	if t < 1 {
		return false
	}
	b.tokens, b.at = t-1, now
	return true
}

// give returns a token taken for an attempt that turned out fine.
func (l *limiter) give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		now := l.now()
		b.tokens, b.at = min(l.level(b, now)+1, l.burst), now
	}
}

// sweep forgets full buckets.
func (l *limiter) sweep() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
}
