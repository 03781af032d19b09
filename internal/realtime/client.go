package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
)

// client is one authenticated socket. Its reading goroutine reads and
// handles frames one at a time, and writes their answers itself; a writer
// goroutine exists only while there is something else to write (see
// serveFrames for what an idle socket holds). Broker callbacks never block:
// they append to the bounded queue under mu, and a client that lets it
// overflow is disconnected.
type client struct {
	srv  *Server
	conn *websocket.Conn
	ic   *idleConn // under conn's read buffer
	// release gives back what the socket holds (its slot in the server's
	// count and its address's); finish calls it once.
	release  func()
	unparked bool   // parking failed; the socket waits in place (reader only)
	id       uint64 // origin of the events it publishes (typing, presence)
	p        Principal
	ip       string
	ctx      context.Context // for the socket's requests; never cancelled (see ServeHTTP)

	lastRead atomic.Int64  // unix nanoseconds of the last frame or pong
	pingSent atomic.Int64  // unix nanoseconds of the ping awaiting its pong; 0: none
	wakes    atomic.Uint32 // times the poller gave the parked socket a goroutine again

	// opMu is held while a frame is handled, so Shutdown can wait for the
	// frame in progress (and its ack) before closing.
	opMu     sync.Mutex
	draining bool

	mu      sync.Mutex
	drained *sync.Cond // signalled when the writer takes the queue
	queue   [][]byte
	writing bool // a writer is at work: a goroutine, or the reader (deferred)
	// reading is set while the reading goroutine may be in the library:
	// from growBuffers to shrinkBuffers, and from the socket's start (a
	// client is made with it set) to its first park, so a writer that
	// finishes before the first read does not shrink the buffers under it.
	reading bool
	// inline is set while the reading goroutine handles a frame; a writer
	// that would start meanwhile is deferred to it, which writes the
	// frame's answers once it is handled, with no goroutine of their own.
	inline   bool
	deferred bool
	pingDue  bool
	final    *closeReq // close after the queue is flushed
	closing  bool      // no more frames are queued
	subs     subSet
	inbox    func() // cancels the inbox subscription
	user     func() // cancels the subscription to the agent's own events

	// Rate limiting, touched by the handler goroutine only.
	frames, sends tokenBucket
	strikes       tokenBucket
	maxSubs       int
	// queueSize bounds queue (Options.QueueSize, AgentQueueSize).
	queueSize int
}

type closeReq struct {
	code   websocket.StatusCode
	reason string
}

// sub is the client's subscription to one conversation. last is the seq of
// the newest message the client was given (or, for a customer, skipped as a
// note); live messages are forwarded only when they follow it, so each is
// delivered once and in order. While catching is set, a catch-up from the
// store runs and live messages wait in pending.
type sub struct {
	conv       string
	cancel     func()
	last       int64
	catching   bool
	pending    []pendingMsg
	typingAt   time.Time
	typingOn   bool
	typingNote bool
}

// subSet is a socket's subscriptions by conversation. Most sockets (a
// visitor's) follow one conversation: it is kept in a field, and a map is
// made for the others only when there are others. A conversation is in one
// or the other, never both.
type subSet struct {
	one  *sub
	more map[string]*sub
}

func (m *subSet) get(conv string) *sub {
	if m.one != nil && m.one.conv == conv {
		return m.one
	}
	return m.more[conv]
}

func (m *subSet) len() int {
	n := len(m.more)
	if m.one != nil {
		n++
	}
	return n
}

// put adds s, or puts it in place of the subscription to its conversation.
func (m *subSet) put(s *sub) {
	switch {
	case m.one != nil && m.one.conv == s.conv, m.one == nil && m.more[s.conv] == nil:
		m.one = s
	default:
		if m.more == nil {
			m.more = make(map[string]*sub)
		}
		m.more[s.conv] = s
	}
}

func (m *subSet) remove(conv string) {
	if m.one != nil && m.one.conv == conv {
		m.one = nil
		return
	}
	delete(m.more, conv)
}

func (m *subSet) all() iter.Seq[*sub] {
	return func(yield func(*sub) bool) {
		if m.one != nil && !yield(m.one) {
			return
		}
		for _, s := range m.more {
			if !yield(s) {
				return
			}
		}
	}
}

type pendingMsg struct {
	seq   int64
	frame []byte // nil: a note a customer does not see, only advancing last
}

func (c *client) touch() { c.lastRead.Store(time.Now().UnixNano()) }

// enqueueLocked queues a frame; c.mu is held. Live events respect the queue
// bound (a client that cannot keep up is closed), replayed history does
// not: the catch-up waits for the queue to drain before each page instead.
func (c *client) enqueueLocked(b []byte, live bool) {
	if c.closing {
		return
	}
	if live && len(c.queue) >= c.queueSize {
		c.abortLocked(closeSlowConsumer, "slow consumer: reconnect and resume")
		return
	}
	c.queue = append(c.queue, b)
	c.startWriterLocked()
}

func (c *client) enqueue(b []byte) {
	c.mu.Lock()
	c.enqueueLocked(b, true)
	c.mu.Unlock()
}

func (c *client) startWriterLocked() {
	if !c.writing {
		c.writing = true
		c.ic.grow()
		if c.inline {
			c.deferred = true
			return
		}
		go c.writeLoop(false)
	}
}

// undeferLocked starts the writer goroutine that was deferred to the
// reading goroutine, for a handler that must wait for the queue to drain.
func (c *client) undeferLocked() {
	if c.deferred {
		c.deferred = false
		go c.writeLoop(false)
	}
}

// handleInline runs handle, then writes what it queued on this goroutine.
func (c *client) handleInline(handle func()) {
	c.mu.Lock()
	c.inline = true
	c.mu.Unlock()
	handle()
	c.mu.Lock()
	c.inline = false
	write := c.deferred
	c.deferred = false
	c.mu.Unlock()
	if write {
		c.writeLoop(true)
	}
}

// abortLocked closes the socket at once with code, dropping what is queued.
func (c *client) abortLocked(code websocket.StatusCode, reason string) {
	if c.closing {
		return
	}
	c.closing = true
	c.queue = nil
	c.drained.Broadcast()
	c.ic.grow()
	go c.conn.Close(code, reason)
}

func (c *client) abort(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	c.abortLocked(code, reason)
	c.mu.Unlock()
}

// cut aborts with code and drops the connection without waiting for the
// close handshake: the peer is not reading (a write timed out, a pong is
// overdue).
func (c *client) cut(code websocket.StatusCode, reason string) {
	c.abort(code, reason)
	c.conn.CloseNow()
}

// closeAfterFlush writes what is queued, then closes with code.
func (c *client) closeAfterFlush(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	c.final = &closeReq{code, reason}
	c.startWriterLocked()
}

// requestPing pings the peer. A parked socket, which nothing is being
// written to, is pinged in place by the caller (idleConn.ping): that is
// every idle socket's ping, every PingInterval, and it takes no goroutine
// or buffers. Any other is pinged by its writer, through the library, after
// what is queued.
func (c *client) requestPing() {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if c.reading || c.writing || c.ic.raw == nil {
		c.pingDue = true
		c.startWriterLocked()
		c.mu.Unlock()
		return
	}
	// writing keeps every writer out until the ping is written; what is
	// queued meanwhile is written after it.
	c.writing = true
	c.mu.Unlock()
	c.pingSent.Store(time.Now().UnixNano())
	err := c.ic.ping()
	c.mu.Lock()
	c.writing = false
	switch {
	case err != nil:
	case len(c.queue) > 0 || c.pingDue || c.final != nil:
		c.startWriterLocked()
	case !c.reading && !c.closing:
		// Woken meanwhile, the reading goroutine parked again and left the
		// buffers to this writer (see shrinkBuffers).
		c.ic.shrink()
	}
	c.mu.Unlock()
	if err != nil {
		// The peer is gone or not reading: it would not answer.
		c.cut(closeIdle, "no pong")
	}
}

// ponged notes that the peer answered a ping.
func (c *client) ponged() {
	c.touch()
	c.pingSent.Store(0)
}

// writeLoop writes what is queued, and pings when asked, until nothing is
// left. inline: the reading goroutine writes the answers of the frame it
// handled; it writes one batch and leaves the rest to a writer goroutine,
// and a ping too, whose pong only the reading goroutine could read.
func (c *client) writeLoop(inline bool) {
	for first := true; ; first = false {
		c.mu.Lock()
		if inline && (c.pingDue || !first && (len(c.queue) > 0 || c.final != nil)) {
			c.mu.Unlock()
			go c.writeLoop(false)
			return
		}
		batch, ping := c.queue, c.pingDue
		c.queue, c.pingDue = nil, false
		var final *closeReq
		if len(batch) == 0 && !ping {
			final = c.final
			if final == nil {
				c.writing = false
				if !c.reading && !c.closing {
					// The socket is parked (a message or a ping was
					// written to it, or its pong woke it and it parked
					// again while this wrote): no one else is in the
					// library.
					c.ic.shrink()
				}
				c.mu.Unlock()
				return
			}
		}
		c.drained.Broadcast()
		c.mu.Unlock()

		if final != nil {
			c.conn.Close(final.code, final.reason)
			return
		}
		// Writes are bounded by a deadline on the connection, not by a
		// context: a context with a timer per batch would stay reachable
		// from the runtime's timers for a while after it is cancelled, for
		// every socket that wrote (the library only reads ctx for its Done).
		if len(batch) > 0 {
			c.writeDeadline(true)
			if err := c.writeBatch(batch); err != nil {
				c.cut(closeSlowConsumer, "write timed out")
				return
			}
			c.writeDeadline(false)
		}
		if ping {
			// The pong is awaited without a timer of its own: the hub's
			// sweep closes a socket whose ping went unanswered for
			// PongTimeout, which ends this wait. The pong itself is noted
			// (ponged) as it is read, before this wait ends.
			c.pingSent.Store(time.Now().UnixNano())
			c.writeDeadline(true)
			err := c.conn.Ping(c.ctx)
			c.writeDeadline(false)
			if err != nil {
				c.cut(closeIdle, "no pong")
				return
			}
		}
	}
}

// writeBatch writes the frames of batch, more than one in a single write
// to the connection (see corkedWriter).
func (c *client) writeBatch(batch [][]byte) error {
	if len(batch) == 1 {
		return c.conn.Write(c.ctx, websocket.MessageText, batch[0])
	}
	c.ic.out.cork()
	for _, b := range batch {
		if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
			c.ic.out.uncork() //nolint:errcheck // the write failed already
			return err
		}
	}
	return c.ic.out.uncork()
}

// writeDeadline sets (or clears) the deadline of the writes about to be
// made on the connection: WriteTimeout from now.
func (c *client) writeDeadline(set bool) {
	var t time.Time
	if set {
		t = time.Now().Add(c.srv.opts.WriteTimeout)
	}
	c.ic.Conn.SetWriteDeadline(t)
}

// pongOverdue reports whether c's ping has waited longer than PongTimeout
// for its pong at now.
func (c *client) pongOverdue(now time.Time) bool {
	at := c.pingSent.Load()
	return at != 0 && now.UnixNano()-at > int64(c.srv.opts.PongTimeout)
}

// serveFrames reads the socket's frames and handles them one at a time,
// in order, until none has come for socketLinger (see idleConn). It then
// parks the socket in the poller, which calls it again on a new goroutine
// when the next bytes come, so an idle socket holds no goroutine; where
// there is no poller, it waits for them in place. When the connection
// ends, it ends the socket.
func (c *client) serveFrames() {
	c.growBuffers()
	for {
		typ, data, err := c.conn.Read(c.ctx)
		if err == nil {
			c.touch()
			c.handleInline(func() { c.handle(typ, data) })
			continue
		}
		if !errors.Is(err, errIdle) {
			break
		}
		c.shrinkBuffers()
		if p := c.ic.poller; p != nil && !c.unparked {
			parked, err := p.park(c)
			if err == nil {
				if parked {
					return
				}
				break // closed
			}
			c.srv.log.Warn("realtime: parking an idle socket", "err", err)
			c.unparked = true
		}
		if c.ic.wait() != nil {
			break
		}
		c.growBuffers()
	}
	c.finish()
}

// shrinkBuffers gives back the socket's read and write buffers while it
// waits for its next frame, unless something is being written (the writer
// gives them back when it is done) or the socket is closing (then the
// library is still at work). The reading
// goroutine calls it between two reads; every other way into the library
// (startWriterLocked, abortLocked) grows them back first, under mu.
func (c *client) shrinkBuffers() {
	c.mu.Lock()
	c.reading = false
	if !c.writing && !c.closing {
		c.ic.shrink()
	}
	c.mu.Unlock()
}

func (c *client) growBuffers() {
	c.mu.Lock()
	c.reading = true
	c.ic.grow()
	c.mu.Unlock()
}

// finish ends the socket once its connection has ended or failed.
func (c *client) finish() {
	c.end()
	c.srv.hub.remove(c)
	c.conn.CloseNow()
	c.release()
}

func (c *client) reply(f *Frame) { c.enqueue(encode(f)) }

func (c *client) fail(ref string, err error, f *Frame) {
	e := &Frame{Type: TypeError, Ref: ref, Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err)}
	if f != nil {
		e.ConversationID, e.ClientMessageID = f.ConversationID, f.ClientMessageID
	}
	if e.Code == parley.EINTERNAL {
		c.srv.log.Error("realtime", "principal", c.p.ID, "err", err)
	}
	c.enqueue(encode(e))
}

// strike counts a refused or malformed frame; a client that keeps sending
// them is closed.
func (c *client) strike(now time.Time) bool {
	if c.strikes.take(now) {
		return false
	}
	// The errors already queued go out first: they say why.
	c.closeAfterFlush(closeCodes[parley.ERATELIMITED], "too many refused frames")
	return true
}

var (
	errNotText     = parley.Errorf(parley.EINVALID, "Frames must be JSON text.")
	errBadFrame    = parley.Errorf(parley.EINVALID, "A frame must be a JSON object with a type.")
	errUnknownType = parley.Errorf(parley.EINVALID, "Unknown frame type.")
	errTooFast     = parley.Errorf(parley.ERATELIMITED, "Too many frames. Slow down.")
	errSendTooFast = parley.Errorf(parley.ERATELIMITED, "Too many messages. Slow down.")
	errDraining    = parley.Errorf(parley.EUNAVAILABLE, "The server is restarting. Reconnect and resume.")
	errNotSubbed   = parley.Errorf(parley.EINVALID, "Subscribe to the conversation first.")
	errTooManySubs = parley.Errorf(parley.ETOOLARGE, "Too many subscriptions on one socket.")
	errNoConv      = parley.Errorf(parley.EINVALID, "conversationId is required.")
	errLastSeq     = parley.Errorf(parley.EINVALID, "lastSeq must be a number >= 0.")
	errTypingState = parley.Errorf(parley.EINVALID, "state must be start or stop.")
	errInboxAgents = parley.Errorf(parley.EFORBIDDEN, "Only agents have an inbox.")
)

func (c *client) handle(typ websocket.MessageType, data []byte) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	now := time.Now()
	if !c.frames.take(now) {
		if !c.strike(now) {
			c.fail("", errTooFast, nil)
		}
		return
	}
	if c.draining {
		c.fail("", errDraining, nil)
		return
	}
	f, err := decodeFrame(typ, data)
	if err != nil {
		if !c.strike(now) {
			c.fail(f.Ref, err, nil)
		}
		return
	}
	switch f.Type {
	case TypeSend:
		if !c.sends.take(now) {
			if !c.strike(now) {
				c.fail(f.Ref, errSendTooFast, &f)
			}
			return
		}
		c.send(&f)
	case TypeResume:
		if f.ConversationID == "" {
			c.fail(f.Ref, errNoConv, &f)
			return
		}
		if f.LastSeq == nil || *f.LastSeq < 0 {
			c.fail(f.Ref, errLastSeq, &f)
			return
		}
		c.subscribe(&f, *f.LastSeq, true)
	case TypeSubscribe:
		if f.Inbox {
			c.subscribeInbox(&f)
			return
		}
		if f.ConversationID == "" {
			c.fail(f.Ref, errNoConv, &f)
			return
		}
		c.subscribe(&f, 0, false)
	case TypeUnsubscribe:
		if f.Inbox {
			c.mu.Lock()
			cancel := c.inbox
			c.inbox = nil
			c.mu.Unlock()
			if cancel != nil {
				cancel()
			}
			return
		}
		c.unsubscribe(f.ConversationID)
	case TypeTyping:
		c.typing(&f, now)
	case TypeRead:
		if f.ConversationID == "" {
			c.fail(f.Ref, errNoConv, &f)
			return
		}
		if err := c.srv.svc.MarkRead(c.ctx, c.p, f.ConversationID, f.Seq); err != nil {
			c.fail(f.Ref, err, &f)
		}
	case TypePing:
		c.reply(&Frame{Type: TypePong, Ref: f.Ref})
	case TypeAuth:
		c.fail(f.Ref, parley.Errorf(parley.EINVALID, "Already authenticated."), &f)
	default:
		if !c.strike(now) {
			c.fail(f.Ref, errUnknownType, &f)
		}
	}
}

// send stores the message through the Service and acks it after commit. A
// retried clientMessageId is acked with the stored message again.
func (c *client) send(f *Frame) {
	m, created, err := c.srv.svc.Send(c.ctx, c.p, SendInput{
		ConversationID: f.ConversationID, ClientMessageID: f.ClientMessageID, Content: f.Content, Note: f.Note})
	if err != nil {
		c.fail(f.Ref, err, f)
		return
	}
	at := m.CreatedAt
	c.reply(&Frame{Type: TypeAck, Ref: f.Ref, ClientMessageID: m.ClientMsgID, MessageID: m.ID,
		ConversationID: m.ConversationID, Seq: m.Seq, CreatedAt: &at, Duplicate: !created})
}

// subscribe starts delivering a conversation's messages after seq from (or,
// for a plain subscribe, after its newest message): it subscribes to the
// broker first, holding live messages back, replays the store, then releases
// the held messages that come after what was replayed.
func (c *client) subscribe(f *Frame, from int64, resume bool) {
	conv, err := c.srv.svc.Conversation(c.ctx, c.p, f.ConversationID)
	if err != nil {
		c.fail(f.Ref, err, f)
		return
	}
	if !resume {
		from = conv.LastSeq
	}
	s := &sub{conv: conv.ID, last: from, catching: true}
	c.mu.Lock()
	old := c.subs.get(conv.ID)
	if old == nil && c.subs.len() >= c.maxSubs {
		c.mu.Unlock()
		c.fail(f.Ref, errTooManySubs, f)
		return
	}
	c.subs.put(s)
	c.mu.Unlock()
	if old != nil {
		old.cancel()
	}
	cancel, err := c.srv.broker.Subscribe(parley.ConversationTopic(conv.ID), func(data []byte) { c.onConversationEvent(s, data) })
	if err != nil {
		c.mu.Lock()
		if c.subs.get(conv.ID) == s {
			c.subs.remove(conv.ID)
		}
		c.mu.Unlock()
		c.fail(f.Ref, err, f)
		return
	}
	c.mu.Lock()
	s.cancel = cancel
	stale := c.subs.get(conv.ID) != s || c.closing
	c.mu.Unlock()
	if stale {
		cancel()
		return
	}
	if old == nil {
		c.srv.hub.watch(c, conv.ID)
	}
	c.catchUp(s, f.Ref, true)
}

func (c *client) unsubscribe(convID string) {
	c.mu.Lock()
	s := c.subs.get(convID)
	c.subs.remove(convID)
	c.mu.Unlock()
	if s != nil {
		s.cancel()
		c.srv.hub.unwatch(c, convID)
	}
}

func (c *client) subscribeInbox(f *Frame) {
	if !c.p.IsAgent() {
		c.fail(f.Ref, errInboxAgents, f)
		return
	}
	c.mu.Lock()
	has := c.inbox != nil
	c.mu.Unlock()
	if !has {
		cancel, err := c.srv.broker.Subscribe(parley.InboxTopic, c.onInboxEvent)
		if err != nil {
			c.fail(f.Ref, err, f)
			return
		}
		c.mu.Lock()
		c.inbox = cancel
		c.mu.Unlock()
	}
	c.reply(&Frame{Type: TypeResumed, Ref: f.Ref, Inbox: true})
}

func (c *client) onInboxEvent(data []byte) {
	h, frame, ok := parseEnvelope(data)
	if !ok || h.origin == c.id || !h.allows(c.p) {
		return
	}
	c.enqueue(slices.Clone(frame))
}

// onUserEvent handles the events of the agent's own topic: news that the
// credentials of some of their sockets ended closes those (4401: sign in
// again); frames for the agent go to the socket.
func (c *client) onUserEvent(data []byte) {
	h, frame, ok := parseEnvelope(data)
	if !ok {
		return
	}
	if h.audience != audienceServer {
		c.enqueue(slices.Clone(frame))
		return
	}
	var e sessionsEnded
	if err := json.Unmarshal(frame, &e); err != nil {
		c.srv.log.Warn("realtime: a user event", "err", err)
		return
	}
	if e.ends(c.p) {
		c.closeAfterFlush(CloseUnauthorized, "credentials ended: authenticate again")
	}
}

// onConversationEvent runs on the broker's goroutine: it must not block.
func (c *client) onConversationEvent(s *sub, data []byte) {
	h, frame, ok := parseEnvelope(data)
	if !ok || (h.origin != 0 && h.origin == c.id) || h.audience == audienceServer {
		return
	}
	if h.audience == audienceSome && !h.allows(c.p) {
		// The conversation moved out of this agent's sight: stop following
		// it, as a resume would now be refused. Not here: cancelling a
		// subscription from the broker's own callback may block.
		go c.lostSight(s)
		return
	}
	if h.audience == audienceSome {
		h.audience = audienceAll
	}
	if h.audience == audienceAgents && !c.p.IsAgent() {
		if h.seq == 0 {
			return
		}
		frame = nil // a note: the customer's seq moves past it unseen
	} else {
		frame = slices.Clone(frame)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.subs.get(s.conv) != s {
		return
	}
	if h.seq == 0 {
		c.enqueueLocked(frame, true)
		return
	}
	if s.catching {
		s.pending = append(s.pending, pendingMsg{h.seq, frame})
		if len(s.pending) > c.queueSize {
			c.abortLocked(closeSlowConsumer, "slow consumer: reconnect and resume")
		}
		return
	}
	switch {
	case h.seq <= s.last: // delivered already (replayed, or a repeat)
	case h.seq == s.last+1:
		s.last = h.seq
		if frame != nil {
			c.enqueueLocked(frame, true)
		}
	default:
		// Something between is missing: published out of order by two
		// concurrent senders, or lost by the broker. The store has it.
		s.catching = true
		s.pending = append(s.pending, pendingMsg{h.seq, frame})
		go c.catchUp(s, "", false)
	}
}

// catchUp reads the store after s.last until it reaches the messages held
// in s.pending, then releases them in order. Every message published
// before a read started was committed before it, and so was every message
// with a lower seq (seqs are given in commit order): a read that returns
// less than a full page has seen all of them, and whatever it did not
// return below the highest held seq is invisible to this client (a note).
func (c *client) catchUp(s *sub, ref string, announce bool) {
	page := c.queueSize / 2
	if page > parley.MaxMessagePage {
		page = parley.MaxMessagePage
	}
	for {
		c.mu.Lock()
		for len(c.queue) > page && !c.closing && c.subs.get(s.conv) == s {
			c.undeferLocked()
			c.drained.Wait()
		}
		if c.closing || c.subs.get(s.conv) != s {
			c.mu.Unlock()
			return
		}
		after := s.last
		var covered int64
		for _, p := range s.pending {
			covered = max(covered, p.seq)
		}
		c.mu.Unlock()

		msgs, err := c.srv.svc.Messages(c.ctx, c.p, s.conv, after, page)
		if err != nil {
			c.catchUpFailed(s, ref, err)
			return
		}

		c.mu.Lock()
		if c.closing || c.subs.get(s.conv) != s {
			c.mu.Unlock()
			return
		}
		for _, m := range msgs {
			if m.Seq > s.last {
				c.enqueueLocked(encode(messageFrame(m)), false)
				s.last = m.Seq
			}
		}
		if len(msgs) == page {
			c.mu.Unlock()
			continue
		}
		s.last = max(s.last, covered)
		slices.SortFunc(s.pending, func(a, b pendingMsg) int { return int(a.seq - b.seq) })
		rest := s.pending[:0]
		for _, p := range s.pending {
			switch {
			case p.seq <= s.last:
			case p.seq == s.last+1 && len(rest) == 0:
				s.last = p.seq
				if p.frame != nil {
					c.enqueueLocked(p.frame, false)
				}
			default:
				rest = append(rest, p)
			}
		}
		if len(rest) > 0 {
			s.pending = rest
			c.mu.Unlock()
			continue
		}
		s.pending = nil
		s.catching = false
		if announce {
			last := s.last
			c.enqueueLocked(encode(&Frame{Type: TypeResumed, Ref: ref, ConversationID: s.conv, LastSeq: &last}), false)
		}
		c.mu.Unlock()
		return
	}
}

// lostSight ends subscription s, if still current, with the not_found its
// resume would now get.
func (c *client) lostSight(s *sub) {
	c.catchUpFailed(s, "", notFoundConversation)
}

var notFoundConversation = parley.Errorf(parley.ENOTFOUND, "Conversation not found.")

// catchUpFailed handles a failed store read during a catch-up. Losing sight
// of the conversation (deleted, or no longer visible) ends the subscription
// with an error frame; anything else closes the socket so the client
// reconnects and resumes, since a subscription that skipped messages would
// break the delivery promise.
func (c *client) catchUpFailed(s *sub, ref string, err error) {
	code := parley.ErrorCode(err)
	if code == parley.ENOTFOUND || code == parley.EFORBIDDEN {
		c.mu.Lock()
		mine := c.subs.get(s.conv) == s
		if mine {
			c.subs.remove(s.conv)
		}
		c.mu.Unlock()
		if mine {
			s.cancel()
			c.srv.hub.unwatch(c, s.conv)
			c.fail(ref, err, &Frame{ConversationID: s.conv})
		}
		return
	}
	if code == parley.EINTERNAL && !errors.Is(err, context.Canceled) {
		c.srv.log.Error("realtime: catching up", "conversation", s.conv, "err", err)
	}
	c.abort(CloseCode(err), "catching up failed: reconnect and resume")
}

// typing forwards a typing indicator to the conversation's other sockets.
// Starts are throttled per conversation; nothing is stored.
func (c *client) typing(f *Frame, now time.Time) {
	if f.State != TypingStart && f.State != TypingStop {
		c.fail(f.Ref, errTypingState, f)
		return
	}
	note := f.Note && c.p.IsAgent()
	c.mu.Lock()
	s := c.subs.get(f.ConversationID)
	send := false
	if s != nil {
		if f.State == TypingStart {
			if !s.typingOn || note != s.typingNote || now.Sub(s.typingAt) >= c.srv.opts.TypingInterval {
				send, s.typingOn, s.typingAt, s.typingNote = true, true, now, note
			}
		} else if s.typingOn {
			send, s.typingOn = true, false
		}
	}
	c.mu.Unlock()
	if s == nil {
		c.fail(f.Ref, errNotSubbed, f)
		return
	}
	if !send {
		return
	}
	aud := audienceAll
	if note {
		aud = audienceAgents
	}
	out := encode(&Frame{Type: TypeTyping, ConversationID: s.conv, From: whoOf(c.p), State: f.State, Note: note})
	if err := c.srv.broker.Publish(c.ctx, parley.ConversationTopic(s.conv), envelope(aud, 0, c.id, out)); err != nil {
		c.srv.log.Warn("realtime: publishing typing", "err", err)
	}
}

// end releases the client's subscriptions once the connection is over.
func (c *client) end() {
	c.mu.Lock()
	c.closing = true
	c.queue = nil
	subs := c.subs
	c.subs = subSet{}
	inbox, user := c.inbox, c.user
	c.inbox, c.user = nil, nil
	c.drained.Broadcast()
	c.mu.Unlock()
	if user != nil {
		user()
	}
	for s := range subs.all() {
		if s.cancel != nil {
			s.cancel()
		}
		c.srv.hub.unwatch(c, s.conv)
	}
	if inbox != nil {
		inbox()
	}
}

// tokenBucket is a rate limit read from the clock on use: no timer.
type tokenBucket struct {
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	at     time.Time
}

func newBucket(rate float64, burst int) tokenBucket {
	return tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

func (b *tokenBucket) take(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	if !b.at.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.at).Seconds()*b.rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
