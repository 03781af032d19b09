package realtime

import (
	"errors"
	"io"
	"sync"
	"syscall"
)

// An idle socket needs no goroutine at all: its connection is parked in an
// epoll set of the process's own, and one goroutine waits on that set for
// all of them. When a parked connection becomes readable (a frame, a pong,
// the peer closing), its socket gets a goroutine again. The descriptor
// stays in Go's own poller too; adding it to a second epoll set is allowed,
// and it leaves that set when it is closed.
//
// Level-triggered and one-shot: a connection that has bytes already when
// it is parked is reported at once, and each parking reports once.
type poller struct {
	epfd int

	mu     sync.Mutex
	parked map[uint64]*client
	next   uint64
	failed bool // epoll_wait failed: nothing parks any more
}

var (
	thePoller     *poller
	thePollerOnce sync.Once
)

// processPoller returns the process's poller, started on first use, or nil
// when the system refuses one (then sockets wait on goroutines).
func processPoller() *poller {
	thePollerOnce.Do(func() {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		thePoller = &poller{epfd: epfd, parked: map[uint64]*client{}}
		go thePoller.run()
	})
	return thePoller
}

const parkEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// park hands c's connection to the poller, which starts c.serveFrames on
// a goroutine of its own once it is readable. It reports false when c
// cannot be parked because its connection is closed; then the caller ends
// the socket. An error with the poller itself is returned, and the caller
// waits on its own goroutine instead.
func (p *poller) park(c *client) (bool, error) {
	ic := c.ic // its poller and raw connection are set together (smallBuffers.Hijack)
	// The set is changed under mu, so the wake that may follow at once
	// (see run) sees inPoller set, and closing the connection meanwhile
	// (see unpark) waits for the outcome.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed {
		return false, errNoPoller
	}
	p.next++
	tok := p.next
	p.parked[tok] = c
	ic.token.Store(tok)

	var ctlErr error
	op := syscall.EPOLL_CTL_MOD
	if !ic.inPoller {
		op = syscall.EPOLL_CTL_ADD
	}
	ev := syscall.EpollEvent{Events: parkEvents, Fd: int32(tok), Pad: int32(tok >> 32)}
	// Control keeps the descriptor open while the set is changed, so it is
	// this connection's, not a new one's that reused its number.
	err := ic.raw.Control(func(fd uintptr) {
		ctlErr = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	if err == nil && ctlErr == nil {
		ic.inPoller = true
		return true, nil
	}
	delete(p.parked, tok)
	ic.token.CompareAndSwap(tok, 0)
	if err != nil {
		return false, nil // the connection is closed
	}
	return false, ctlErr
}

// unpark takes c back when its connection is closed while parked, and
// reports whether it did; the caller then ends the socket.
func (p *poller) unpark(ic *idleConn) *client {
	tok := ic.token.Swap(0)
	if tok == 0 {
		return nil
	}
	return p.take(tok)
}

func (p *poller) take(tok uint64) *client {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.parked[tok]
	delete(p.parked, tok)
	return c
}

func (p *poller) run() {
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			// Nothing parks from now on (see park's callers); what is
			// parked is woken to wait on goroutines of its own.
			p.fail()
			return
		}
		for _, ev := range events[:n] {
			tok := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if c := p.take(tok); c != nil {
				c.ic.token.CompareAndSwap(tok, 0)
				if c.ic.skipPongs() {
					if parked, err := p.park(c); parked && err == nil {
						continue
					}
					// Closed meanwhile, or the set failed: served as any
					// wake is, which ends the socket or waits elsewhere.
				}
				c.wakes.Add(1)
				go c.serveFrames()
			}
		}
	}
}

func (p *poller) fail() {
	p.mu.Lock()
	parked := p.parked
	p.parked = map[uint64]*client{}
	p.failed = true
	p.mu.Unlock()
	for _, c := range parked {
		c.ic.token.Store(0)
		c.wakes.Add(1)
		go c.serveFrames()
	}
}

// pingFrame is a WebSocket ping as a server sends it: final, unmasked, no
// payload (RFC 6455, section 5.5.2). Its pong, empty too, is noticed by the
// frame tracker (see idleConn.Read); the library ignores a pong it did not
// ask for.
var pingFrame = [2]byte{0x89, 0x00}

// ping writes a ping straight to the connection of a parked socket, in one
// non-blocking write: no goroutine, no buffers, no timer, where the
// library's Ping needs all three and waits for the pong. The caller makes
// sure no frame of the library is being written meanwhile but the control
// frames the reading goroutine answers with, which the library writes
// whole in one write; writes to a connection do not interleave (its write
// lock is held through each), so the two frames cannot mix. Two bytes that
// do not fit in the connection's send buffer at once mean the peer has not
// been reading: an error, like a short write.
func (c *idleConn) ping() error {
	n, err := once(c.raw.Write, func(fd int) (int, error) { return syscall.Write(fd, pingFrame[:]) })
	if err == nil && n != len(pingFrame) {
		err = io.ErrShortWrite
	}
	return err
}

// once runs op on the connection's descriptor through do (its RawConn's
// Read or Write) a single time, again only when a signal interrupted it:
// it never waits for the descriptor to be ready.
func once(do func(func(uintptr) bool) error, op func(fd int) (int, error)) (int, error) {
	var n int
	var opErr error
	err := do(func(fd uintptr) bool {
		for {
			if n, opErr = op(int(fd)); opErr != syscall.EINTR {
				return true
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return n, opErr
}

// skipPongs reads what a woken parked socket has been sent and, when it is
// nothing but empty pongs (an idle socket's answer to the ping written in
// place, every PingInterval), consumes them and reports true: the socket is then parked
// again at once, with no goroutine, no buffers, and nothing handed to the
// library, whose reading of a control frame costs a context with a timer
// and wrapped errors. Anything else read is kept for the library to read
// first (see Read), as wait does. The caller holds the socket as parked: no
// other goroutine reads it.
func (c *idleConn) skipPongs() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) > 0 || !c.frames.betweenMessages() {
		return false
	}
	n, err := once(c.raw.Read, func(fd int) (int, error) { return syscall.Read(fd, c.buf[:]) })
	if err != nil || n <= 0 {
		// Nothing read (the peer closed, an error, nothing there after
		// all): the library's read sees the same.
		return false
	}
	if !onlyPongs(c.buf[:n]) {
		c.pending = c.buf[:n]
		return false
	}
	if c.onPong != nil {
		c.onPong()
	}
	return true
}

// onlyPongs reports whether b is whole empty pong frames as a client sends
// them (final, masked), and nothing else: the answers to the pings written
// in place (see ping). A pong with a payload answers the library's own
// Ping, whose caller waits for the library to read it.
func onlyPongs(b []byte) bool {
	const size = 2 + 4 // the header and the masking key
	if len(b) == 0 || len(b)%size != 0 {
		return false
	}
	for ; len(b) > 0; b = b[size:] {
		if b[0] != 0x8a || b[1] != 0x80 {
			return false
		}
	}
	return true
}
