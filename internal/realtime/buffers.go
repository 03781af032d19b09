package realtime

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A socket keeps the read and write buffers its HTTP connection is hijacked
// with for as long as it lives. net/http's are 4 KB each: for an idle widget
// socket, more memory than everything else it holds. Parley's frames are
// small (a message is a few hundred bytes of JSON), and a frame larger than
// a buffer is read or written past it, straight from or to the connection,
// so small buffers cost at most a system call more for a large frame.
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 1024
)

// smallBuffers is the ResponseWriter the WebSocket handshake is given: its
// Hijack hands over the connection with buffers of the sizes above, under a
// reader that knows when the socket is idle (see idleConn), which it keeps
// for the socket's read loop.
type smallBuffers struct {
	http.ResponseWriter
	conn *idleConn
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent after its handshake request, which net/http
	// read ahead, are read first.
	ic := &idleConn{Conn: conn, out: corkedWriter{conn: conn}}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			if ic.poller = processPoller(); ic.poller != nil {
				ic.raw = raw
			}
		}
	}
	if n := brw.Reader.Buffered(); n > 0 {
		early, err := brw.Reader.Peek(n)
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		ic.pending = bytes.Clone(early)
	}
	ic.br = bufio.NewReaderSize(ic, socketReadBuffer)
	// net/http flushed the response headers before handing over its
	// writer, which is empty.
	ic.bw = bufio.NewWriterSize(&ic.out, socketWriteBuffer)
	w.conn = ic
	return ic, bufio.NewReadWriter(ic.br, ic.bw), nil
}

// While a socket is parked its buffers are bufio's smallest (a 16-byte
// reader, a 1-byte writer): the library keeps pointers to them, so their
// contents are swapped in place, and swapped back before the library next
// reads or writes. Both are empty then, and the library runs nowhere for the
// socket (see client.shrinkBuffers), so no byte is lost and nobody sees the
// swap. Any size is correct for the library: a buffer only saves system
// calls.
//
// A socket that wakes takes a pair of full-size buffers from a pool, and
// gives it back when it parks again: a wake allocates nothing while fewer
// sockets are awake at once than the pool holds pairs (maxPooledBuffers),
// which keeps the heap, and so the process, from growing with the garbage
// of thousands of wakes between two collections. (The pong of an idle
// socket's ping, every 30 s, wakes nothing: see idleConn.skipPongs.)
const (
	parkedReadBuffer  = 16
	parkedWriteBuffer = 1
)

// socketBuffers holds a pair of buffers: full-size ones in the pool, the
// parked ones of a socket in use (idleConn.lent).
type socketBuffers struct {
	r bufio.Reader
	w bufio.Writer
}

// bufferPool keeps at most maxPooledBuffers pairs. A sync.Pool would keep
// every pair given back until two collections have passed, and count them
// as live in the first: after a burst of wakes (thousands of sockets
// connecting and resuming at once) that is megabytes the collector's goal,
// and so the process, grows by.
var bufferPool freeBuffers

const maxPooledBuffers = 256

type freeBuffers struct {
	mu   sync.Mutex
	free []*socketBuffers
}

// Get returns a pair of full-size buffers.
func (p *freeBuffers) Get() *socketBuffers {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		h := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return h
	}
	p.mu.Unlock()
	return &socketBuffers{r: *bufio.NewReaderSize(nil, socketReadBuffer), w: *bufio.NewWriterSize(nil, socketWriteBuffer)}
}

// Put keeps h for a later Get, unless the pool is full.
func (p *freeBuffers) Put(h *socketBuffers) {
	p.mu.Lock()
	if len(p.free) < maxPooledBuffers {
		p.free = append(p.free, h)
	}
	p.mu.Unlock()
}

// shrink puts the parked-size buffers in place of the socket's own, when
// both are empty, and gives its own to the pool.
func (c *idleConn) shrink() {
	if c.shrunk || c.br.Buffered() > 0 || c.bw.Buffered() > 0 {
		return
	}
	h := c.lent
	if h == nil {
		// The first time: the buffers of the handshake are dropped, not
		// pooled. Pooled, 15,000 sockets connecting at once would leave
		// 15,000 pairs in the pool, which the collector counts as live for
		// two cycles, where the pool only needs as many pairs as sockets
		// are awake at once.
		*c.br = *bufio.NewReaderSize(c, parkedReadBuffer)
		*c.bw = *bufio.NewWriterSize(&c.out, parkedWriteBuffer)
		c.shrunk = true
		c.out.release()
		return
	}
	*c.br, h.r = h.r, *c.br
	*c.bw, h.w = h.w, *c.bw
	c.br.Reset(c)
	c.bw.Reset(&c.out)
	c.lent, c.shrunk = nil, true
	c.out.release()
	h.r.Reset(nil) // the pool keeps no socket alive
	h.w.Reset(nil)
	bufferPool.Put(h)
}

// grow gives the socket full-size buffers again, from the pool.
func (c *idleConn) grow() {
	if !c.shrunk {
		return
	}
	h := bufferPool.Get()
	h.r.Reset(c)
	h.w.Reset(&c.out)
	*c.br, h.r = h.r, *c.br
	*c.bw, h.w = h.w, *c.bw
	c.lent, c.shrunk = h, false
}

// An idle socket should hold as little as possible, and what a Go program
// holds for a connection waiting for its next frame is mostly the stack of
// the goroutine blocked in the read: 8 KB for one blocked inside the
// WebSocket library's frame reader. So a socket's frames are read and
// handled by a goroutine (client.serveFrames) that ends once none has come
// for socketLinger; the socket is then parked in the poller, or, where
// there is none, waits for its next bytes in a plain read (idleConn.wait).
//
// socketLinger keeps that goroutine for a socket in the middle of a
// conversation, so a burst of frames does not start a goroutine each.
const socketLinger = time.Second

// errIdle is what a read returns when, between two messages, nothing came
// for socketLinger. No byte of a frame has been consumed then, so the
// library's reader is as it was and reading may start again later.
var errIdle = errors.New("no frame for a while")

// idleConn is the connection under a socket's read buffer. It follows the
// WebSocket framing of the bytes it hands over, so it knows when the
// library has read everything up to the end of a message (the read buffer
// is empty whenever the library reads from the connection): once linger is
// set, such a read gives up with errIdle after socketLinger. The library
// reads under its own lock; wait reads from another goroutine, hence mu.
type idleConn struct {
	net.Conn
	mu      sync.Mutex
	linger  bool
	frames  frameTracker
	pending []byte // read before the library asked for it; read first
	buf     [16]byte
	onPong  func() // called when a pong has been read (see ping)

	// The buffers the library was given, shrunk while the socket is parked
	// (see shrink), and the parked ones while it is not; touched only under
	// the client's mu.
	br     *bufio.Reader
	bw     *bufio.Writer
	lent   *socketBuffers
	shrunk bool

	// out is what bw flushes into: the connection, or, while the writer
	// writes a batch, memory (see corkedWriter).
	out corkedWriter

	// Parking (poller_linux.go): set before the socket is handed to the
	// library, nil where idle sockets wait on goroutines.
	poller   *poller
	raw      syscall.RawConn
	token    atomic.Uint64 // while parked, the poller's key for the socket
	inPoller bool          // added to the poller's set; touched only while not parked
}

// The library flushes every message it writes to the connection: a system
// call per frame, and one more for the peer to read it. A visitor's message
// alone is two frames for its socket (the message itself, which every socket
// of the conversation gets, and the ack), and an agent's socket gets the
// messages of many conversations. corkedWriter is what a socket's write
// buffer flushes into: while the writer writes a batch of frames it is
// corked, and holds what it is given in memory; uncorking writes it all to
// the connection in one write. The library's own frames written meanwhile
// (a pong, from the reading goroutine) join the batch in the order they were
// written.
type corkedWriter struct {
	conn   net.Conn
	mu     sync.Mutex
	corked bool
	held   []byte
}

// Bounds on what a batch holds: past maxCorked bytes it is written and a new
// one begins, and a buffer that grew past keepCorked is not kept after the
// batch (an agent's burst should not leave its socket holding it).
const (
	maxCorked  = 64 << 10
	keepCorked = 4 << 10
)

func (w *corkedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.corked {
		return w.conn.Write(p)
	}
	if len(w.held)+len(p) > maxCorked {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > maxCorked {
			return w.conn.Write(p)
		}
	}
	w.held = append(w.held, p...)
	return len(p), nil
}

// cork holds what is written until uncork.
func (w *corkedWriter) cork() {
	w.mu.Lock()
	w.corked = true
	w.mu.Unlock()
}

// uncork writes what was held, in one write, and writes through again.
func (w *corkedWriter) uncork() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = false
	err := w.flushLocked()
	if cap(w.held) > keepCorked {
		w.held = nil
	}
	return err
}

func (w *corkedWriter) flushLocked() error {
	if len(w.held) == 0 {
		return nil
	}
	_, err := w.conn.Write(w.held)
	w.held = w.held[:0]
	return err
}

// release drops the buffer of held bytes, which a parked socket does not
// need.
func (w *corkedWriter) release() {
	w.mu.Lock()
	if !w.corked {
		w.held = nil
	}
	w.mu.Unlock()
}

// errNoPoller: the socket cannot be parked; it waits on a goroutine.
var errNoPoller = errors.New("no poller")

// Close closes the connection; a socket parked in the poller is then
// ended here, since no read of it is left to fail.
func (c *idleConn) Close() error {
	err := c.Conn.Close()
	if c.poller != nil {
		if cl := c.poller.unpark(c); cl != nil {
			go cl.finish()
		}
	}
	return err
}

func (c *idleConn) Read(p []byte) (n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(c.pending) > 0:
		n = copy(p, c.pending)
		c.pending = c.pending[n:]
	case c.linger && c.frames.betweenMessages():
		if c.frames.controlOnly() {
			// All that came since the socket woke were control frames
			// (a pong the poller left to the library, a ping of the
			// peer's). It parks again at once rather than holding a
			// goroutine and its buffers for socketLinger; bytes that
			// came meanwhile wake it.
			c.frames.rest()
			return 0, errIdle
		}
		if err := c.Conn.SetReadDeadline(time.Now().Add(socketLinger)); err != nil {
			return 0, err
		}
		n, err = c.Conn.Read(p)
		if derr := c.Conn.SetReadDeadline(time.Time{}); derr != nil && err == nil {
			err = derr
		}
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			c.frames.rest()
			return 0, errIdle
		}
	default:
		n, err = c.Conn.Read(p)
	}
	if c.frames.feed(p[:n]) && c.onPong != nil {
		c.onPong()
	}
	return n, err
}

// lingerBetweenMessages makes reads between two messages give up after
// socketLinger.
func (c *idleConn) lingerBetweenMessages() {
	c.mu.Lock()
	c.linger = true
	c.mu.Unlock()
}

// wait blocks until the peer sends something, which the next Read returns.
// Call it only when the library has nothing buffered: after errIdle.
func (c *idleConn) wait() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) > 0 {
		return nil
	}
	n, err := c.Conn.Read(c.buf[:])
	if n > 0 {
		c.pending = c.buf[:n]
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// frameTracker follows the frames of a WebSocket byte stream (RFC 6455,
// section 5.2) as far as their boundaries: where a header ends, how much
// payload is left, whether a message's fragments are still to come.
type frameTracker struct {
	header    [14]byte
	headerLen int   // bytes of the current header seen
	payload   int64 // payload bytes left in the current frame
	fragments bool  // a data frame without FIN was seen; its continuation is due
	// Since the socket last went idle (rest): whether a frame header was
	// read whole, and whether one was a data frame's.
	seen, data bool
}

// controlOnly reports whether frames came since the last rest and all were
// control frames (ping, pong, close).
func (t *frameTracker) controlOnly() bool { return t.seen && !t.data }

// rest forgets the frames seen: the socket goes idle.
func (t *frameTracker) rest() { t.seen, t.data = false, false }

// betweenMessages reports whether the stream is at the end of a message.
func (t *frameTracker) betweenMessages() bool {
	return t.headerLen == 0 && t.payload == 0 && !t.fragments
}

// feed follows b, and reports whether a pong's header was in it.
func (t *frameTracker) feed(b []byte) (pong bool) {
	for len(b) > 0 {
		if t.payload > 0 {
			k := min(int64(len(b)), t.payload)
			t.payload -= k
			b = b[k:]
			continue
		}
		t.header[t.headerLen] = b[0]
		t.headerLen++
		b = b[1:]
		if t.headerLen < 2 {
			continue
		}
		size, length := 2, int64(t.header[1]&0x7f)
		switch length {
		case 126:
			size += 2
		case 127:
			size += 8
		}
		if t.header[1]&0x80 != 0 {
			size += 4 // the masking key
		}
		if t.headerLen < size {
			continue
		}
		switch length {
		case 126:
			length = int64(binary.BigEndian.Uint16(t.header[2:4]))
		case 127:
			// A length with the top bit set is refused by the library,
			// which closes the socket; whatever is tracked after does not
			// matter.
			length = int64(binary.BigEndian.Uint64(t.header[2:10]) &^ (1 << 63))
		}
		t.seen = true
		if opcode := t.header[0] & 0x0f; opcode < 8 {
			// A data or continuation frame; control frames may come between
			// a message's fragments and leave it open.
			t.fragments = t.header[0]&0x80 == 0
			t.data = true
		} else if opcode == 0xa {
			pong = true
		}
		t.payload, t.headerLen = length, 0
	}
	return pong
}
