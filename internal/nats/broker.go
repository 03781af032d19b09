// Package nats implements parley.Broker over a NATS server, so that several
// Parley nodes behind one load balancer share their events: a message stored
// through node A reaches the sockets held by node B.
//
// Each topic a node has local subscribers for is one NATS subscription on a
// subject under the broker's prefix ("parley.conversation.<id>"). All those
// subscriptions feed one channel read by one goroutine, which calls the local
// subscribers of the message's topic: NATS keeps each publisher's messages in
// order per subject, and so does the single dispatcher. A node receives its
// own publications back through NATS, so local and remote subscribers see one
// order.
//
// The database stays the source of truth: while NATS is unreachable,
// publications fail with EUNAVAILABLE (and are logged by the desk), and
// clients catch up from the store by seq when they next hear of the
// conversation or reconnect.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
)

// Options configure a Broker. Zero values take the defaults shown.
type Options struct {
	// Prefix is prepended to every topic to form its subject ("parley"), so
	// that several Parley installations may share one NATS server.
	Prefix string
	// Name is the connection name NATS monitoring shows ("parley").
	Name string
	// Buffer is how many received messages may wait for the dispatcher
	// (65536). Subscribers must not block, so it only absorbs bursts.
	Buffer int
	// ConnectTimeout bounds the first connection (5s).
	ConnectTimeout time.Duration
	Logger         *slog.Logger // nil: discard
}

// Broker is parley.Broker on a NATS connection.
type Broker struct {
	nc     *natsgo.Conn
	prefix string
	log    *slog.Logger
	msgs   chan *natsgo.Msg

	mu     sync.Mutex
	topics map[string]*topic

	stop chan struct{} // closed by Close: the dispatcher returns
	done chan struct{} // closed when the dispatcher has returned
	once sync.Once
}

// topic is one subject this node listens to, with its local subscribers.
type topic struct {
	sub  *natsgo.Subscription
	subs map[*subscriber]struct{}
}

type subscriber struct{ fn func([]byte) }

var _ parley.Broker = (*Broker)(nil)

// Open connects to the NATS server(s) at url (comma-separated for a
// cluster). It keeps reconnecting for as long as the broker is open.
// EUNAVAILABLE when no server answers within the connect timeout.
func Open(url string, opts Options) (*Broker, error) {
	const op = "nats.Open"
	if opts.Prefix == "" {
		opts.Prefix = "parley"
	}
	if opts.Name == "" {
		opts.Name = "parley"
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 1 << 16
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if strings.ContainsAny(opts.Prefix, " \t\r\n*>") || strings.HasPrefix(opts.Prefix, ".") || strings.HasSuffix(opts.Prefix, ".") {
		return nil, &parley.Error{Code: parley.EINVALID, Op: op, Message: fmt.Sprintf("NATS subject prefix %q is not a valid subject", opts.Prefix)}
	}
	b := &Broker{
		prefix: opts.Prefix + ".",
		log:    log,
		msgs:   make(chan *natsgo.Msg, opts.Buffer),
		topics: make(map[string]*topic),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	nc, err := natsgo.Connect(url,
		natsgo.Name(opts.Name),
		natsgo.Timeout(opts.ConnectTimeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(500*time.Millisecond),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				log.Warn("nats: disconnected", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(c *natsgo.Conn) {
			log.Info("nats: reconnected", "server", c.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, s *natsgo.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			log.Warn("nats: asynchronous error", "subject", subj, "err", err)
		}),
	)
	if err != nil {
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op,
			Message: "cannot reach the NATS server at " + redact(url), Err: err}
	}
	b.nc = nc
	go b.dispatch()
	log.Info("nats connected", "server", nc.ConnectedUrlRedacted())
	return b, nil
}

// redact drops the user information from a NATS URL list for messages.
func redact(url string) string {
	parts := strings.Split(url, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			scheme := ""
			if s := strings.Index(p, "://"); s >= 0 && s < at {
				scheme = p[:s+3]
			}
			parts[i] = scheme + "***@" + p[at+1:]
		}
	}
	return strings.Join(parts, ",")
}

// dispatch hands each received message to the local subscribers of its
// topic, in the order NATS delivered them.
func (b *Broker) dispatch() {
	defer close(b.done)
	for {
		select {
		case m := <-b.msgs:
			b.deliver(m)
		case <-b.stop:
			// Deliver what arrived before the connection closed.
			for {
				select {
				case m := <-b.msgs:
					b.deliver(m)
				default:
					return
				}
			}
		}
	}
}

// deliver calls the local subscribers of m's topic, outside the lock so
// that a subscriber may subscribe or cancel.
func (b *Broker) deliver(m *natsgo.Msg) {
	name := strings.TrimPrefix(m.Subject, b.prefix)
	b.mu.Lock()
	t := b.topics[name]
	var fns []func([]byte)
	if t != nil {
		fns = make([]func([]byte), 0, len(t.subs))
		for s := range t.subs {
			fns = append(fns, s.fn)
		}
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(m.Data)
	}
}

// Publish sends data to every node's subscribers of topic. It returns once
// the message is handed to the connection (NATS delivers at most once; the
// store is the truth). EUNAVAILABLE when the connection is closed or its
// reconnect buffer is full; EINVALID for a topic that is not a subject.
func (b *Broker) Publish(ctx context.Context, name string, data []byte) error {
	const op = "nats.Publish"
	if !validTopic(name) {
		return &parley.Error{Code: parley.EINVALID, Op: op, Message: fmt.Sprintf("topic %q is not a valid subject", name)}
	}
	if err := b.nc.Publish(b.prefix+name, data); err != nil {
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "the message broker is unavailable", Err: err}
	}
	return nil
}

// Subscribe calls fn with each message published to topic, by any node,
// until cancel is called. The first local subscriber of a topic subscribes
// this node on NATS; the last cancel unsubscribes it. fn runs on the
// dispatcher goroutine and must not block. EINVALID for a topic that is not
// a subject; EUNAVAILABLE when NATS refuses the subscription.
func (b *Broker) Subscribe(name string, fn func([]byte)) (func(), error) {
	const op = "nats.Subscribe"
	if !validTopic(name) {
		return nil, &parley.Error{Code: parley.EINVALID, Op: op, Message: fmt.Sprintf("topic %q is not a valid subject", name)}
	}
	s := &subscriber{fn: fn}
	b.mu.Lock()
	t := b.topics[name]
	if t == nil {
		sub, err := b.nc.ChanSubscribe(b.prefix+name, b.msgs)
		if err != nil {
			b.mu.Unlock()
			return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Message: "the message broker is unavailable", Err: err}
		}
		t = &topic{sub: sub, subs: make(map[*subscriber]struct{})}
		b.topics[name] = t
	}
	t.subs[s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(name, s) }) }, nil
}

func (b *Broker) unsubscribe(name string, s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		return
	}
	delete(t.subs, s)
	if len(t.subs) == 0 {
		delete(b.topics, name)
		if err := t.sub.Unsubscribe(); err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
			b.log.Warn("nats: unsubscribing", "subject", t.sub.Subject, "err", err)
		}
	}
}

// Flush waits until the server has processed everything published so far
// (a round trip). Tests use it to order a publication before an assertion.
func (b *Broker) Flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: "nats.Flush", Message: "the message broker is unavailable", Err: err}
	}
	return nil
}

// Topics returns how many topics this node is subscribed to.
func (b *Broker) Topics() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.topics)
}

// Close drains the connection (pending publications are sent, subscriptions
// end), then stops the dispatcher once it delivered what it had received.
func (b *Broker) Close() error {
	var err error
	b.once.Do(func() {
		closed := make(chan struct{})
		b.nc.SetClosedHandler(func(*natsgo.Conn) { close(closed) })
		if err = b.nc.Drain(); err != nil {
			b.nc.Close()
		}
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			b.nc.Close()
		}
		close(b.stop)
		<-b.done
	})
	return err
}

// validTopic reports whether a topic can be a subject token sequence: no
// spaces or wildcards, no empty tokens.
func validTopic(name string) bool {
	if name == "" || strings.ContainsAny(name, " \t\r\n*>") {
		return false
	}
	for _, tok := range strings.Split(name, ".") {
		if tok == "" {
			return false
		}
	}
	return true
}
