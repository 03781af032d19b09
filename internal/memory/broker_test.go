package memory

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestBrokerDeliversToSubscribersOfTheTopic(t *testing.T) {
	b := NewBroker()
	ctx := context.Background()
	var a, c []string
	cancelA, _ := b.Subscribe("t1", func(d []byte) { a = append(a, string(d)) })
	cancelC, _ := b.Subscribe("t2", func(d []byte) { c = append(c, string(d)) })
	_ = b.Publish(ctx, "t1", []byte("x"))
	_ = b.Publish(ctx, "t2", []byte("y"))
	_ = b.Publish(ctx, "t3", []byte("nobody"))
	if len(a) != 1 || a[0] != "x" || len(c) != 1 || c[0] != "y" {
		t.Fatalf("a=%v c=%v", a, c)
	}
	cancelA()
	cancelA() // idempotent
	_ = b.Publish(ctx, "t1", []byte("after"))
	if len(a) != 1 {
		t.Fatalf("delivered after cancel: %v", a)
	}
	if b.Topics() != 1 {
		t.Fatalf("topics = %d, want 1", b.Topics())
	}
	cancelC()
	if b.Topics() != 0 {
		t.Fatalf("topics = %d after all cancelled", b.Topics())
	}
}

// TestBrokerCancelOneOfSeveral: cancelling one subscriber of a topic, in
// any position, leaves the others subscribed, each exactly once.
func TestBrokerCancelOneOfSeveral(t *testing.T) {
	for _, order := range [][]int{{0, 1, 2}, {1, 0, 2}, {2, 1, 0}, {1, 2, 0}} {
		b := NewBroker()
		got := make([]int, 3)
		var cancels []func()
		for i := range 3 {
			cancel, _ := b.Subscribe("t", func([]byte) { got[i]++ })
			cancels = append(cancels, cancel)
		}
		live := map[int]bool{0: true, 1: true, 2: true}
		for _, i := range order {
			cancels[i]()
			cancels[i]()
			delete(live, i)
			clear(got)
			_ = b.Publish(context.Background(), "t", []byte("x"))
			for j := range 3 {
				if want := map[bool]int{true: 1}[live[j]]; got[j] != want {
					t.Fatalf("order %v, after cancelling %d: subscriber %d got %d, want %d", order, i, j, got[j], want)
				}
			}
		}
		if b.Topics() != 0 {
			t.Fatalf("order %v: %d topics after all cancelled", order, b.Topics())
		}
	}
}

func TestBrokerConcurrentPublishAndSubscribe(t *testing.T) {
	b := NewBroker()
	var got atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cancel, _ := b.Subscribe("t", func([]byte) { got.Add(1) })
			for j := 0; j < 100; j++ {
				_ = b.Publish(context.Background(), "t", nil)
			}
			cancel()
		}()
	}
	wg.Wait()
	if got.Load() < 800 {
		t.Fatalf("each subscriber should see at least its own 100 publishes; total %d", got.Load())
	}
}
