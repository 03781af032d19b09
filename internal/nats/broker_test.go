package nats_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/nats"
	"github.com/parleychat/parley/internal/nats/natstest"
)

func open(t *testing.T, url string, opts nats.Options) *nats.Broker {
	t.Helper()
	b, err := nats.Open(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// collector gathers what a subscriber receives.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) fn(d []byte) {
	c.mu.Lock()
	c.got = append(c.got, string(d))
	c.mu.Unlock()
}

func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		got := append([]string(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				t.Fatalf("received %d messages, want %d: %v", len(got), n, got)
			}
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTwoNodesShareTopics is the point of the broker: what node A publishes
// reaches node B's subscribers of that topic (and A's own), in order, and
// nothing else.
func TestTwoNodesShareTopics(t *testing.T) {
	srv := natstest.Server(t)
	ctx := context.Background()
	a := open(t, srv.ClientURL(), nats.Options{})
	b := open(t, srv.ClientURL(), nats.Options{})

	var onA, onB, other collector
	cancelA, err := a.Subscribe(parley.ConversationTopic("c1"), onA.fn)
	if err != nil {
		t.Fatal(err)
	}
	defer cancelA()
	cancelB, err := b.Subscribe(parley.ConversationTopic("c1"), onB.fn)
	if err != nil {
		t.Fatal(err)
	}
	cancelOther, _ := b.Subscribe(parley.ConversationTopic("c2"), other.fn)
	defer cancelOther()
	// A subscription is in place once the server has processed it.
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	const n = 500
	for i := range n {
		if err := a.Publish(ctx, parley.ConversationTopic("c1"), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]*collector{"node A": &onA, "node B": &onB} {
		got := c.waitFor(t, n)
		for i, v := range got {
			if v != fmt.Sprint(i) {
				t.Fatalf("%s: message %d is %q: out of order or duplicated", name, i, v)
			}
		}
		if len(got) != n {
			t.Fatalf("%s: %d messages, want %d", name, len(got), n)
		}
	}
	a.Flush(ctx)
	b.Flush(ctx)
	if len(other.got) != 0 {
		t.Fatalf("another topic's subscriber received %v", other.got)
	}

	cancelB()
	cancelB() // idempotent
	if b.Topics() != 1 {
		t.Fatalf("node B topics = %d after cancelling one of two", b.Topics())
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.Publish(ctx, parley.ConversationTopic("c1"), []byte("after"))
	onA.waitFor(t, n+1)
	b.Flush(ctx)
	if len(onB.got) != n {
		t.Fatalf("delivered after cancel: %d", len(onB.got))
	}
}

func TestSeveralLocalSubscribersShareOneSubscription(t *testing.T) {
	srv := natstest.Server(t)
	b := open(t, srv.ClientURL(), nats.Options{})
	b.Flush(context.Background())
	base := srv.NumSubscriptions() // the server's own
	var c1, c2 collector
	cancel1, _ := b.Subscribe(parley.InboxTopic, c1.fn)
	cancel2, _ := b.Subscribe(parley.InboxTopic, c2.fn)
	b.Flush(context.Background())
	if got := srv.NumSubscriptions() - base; got != 1 {
		t.Errorf("server holds %d subscriptions for one topic, want 1", got)
	}
	b.Publish(context.Background(), parley.InboxTopic, []byte("x"))
	c1.waitFor(t, 1)
	c2.waitFor(t, 1)
	cancel1()
	cancel2()
	b.Flush(context.Background())
	if got := srv.NumSubscriptions() - base; got != 0 {
		t.Errorf("server holds %d subscriptions after every cancel, want 0", got)
	}
}

// TestPrefixSeparatesInstallations: two installations on one NATS server
// with different prefixes do not hear each other.
func TestPrefixSeparatesInstallations(t *testing.T) {
	srv := natstest.Server(t)
	a := open(t, srv.ClientURL(), nats.Options{Prefix: "shop1"})
	b := open(t, srv.ClientURL(), nats.Options{Prefix: "shop2"})
	var onB collector
	cancel, _ := b.Subscribe(parley.InboxTopic, onB.fn)
	defer cancel()
	b.Flush(context.Background())
	a.Publish(context.Background(), parley.InboxTopic, []byte("for shop1 only"))
	b.Publish(context.Background(), parley.InboxTopic, []byte("mine"))
	got := onB.waitFor(t, 1)
	a.Flush(context.Background())
	b.Flush(context.Background())
	if len(got) != 1 || got[0] != "mine" {
		t.Fatalf("shop2 received %v", onB.got)
	}
}

func TestBadInput(t *testing.T) {
	srv := natstest.Server(t)
	b := open(t, srv.ClientURL(), nats.Options{})
	for _, topic := range []string{"", "a b", "conversation.*", "inbox.>", "a..b", ".a"} {
		if err := b.Publish(context.Background(), topic, nil); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("Publish(%q) = %v, want invalid", topic, err)
		}
		if _, err := b.Subscribe(topic, func([]byte) {}); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("Subscribe(%q) = %v, want invalid", topic, err)
		}
	}
	if _, err := nats.Open(srv.ClientURL(), nats.Options{Prefix: "bad prefix"}); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("bad prefix: %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	_, err := nats.Open("nats://user:secret@127.0.0.1:1", nats.Options{ConnectTimeout: time.Second})
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if strings.Contains(parley.ErrorMessage(err), "secret") {
		t.Fatalf("the message leaks the password: %s", parley.ErrorMessage(err))
	}
}

// TestClosedBrokerRefusesPublish: after Close, publishing is unavailable
// rather than silently dropped.
func TestClosedBrokerRefusesPublish(t *testing.T) {
	srv := natstest.Server(t)
	b, err := nats.Open(srv.ClientURL(), nats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	b.Subscribe("t", c.fn)
	b.Flush(context.Background())
	b.Publish(context.Background(), "t", []byte("before close"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 {
		t.Fatalf("a publication made before Close was not delivered: %v", c.got)
	}
	if err := b.Publish(context.Background(), "t", nil); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("publish after close: %v", err)
	}
}
