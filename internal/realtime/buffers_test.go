package realtime

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// TestFrameSentWithTheHandshake: a frame the client writes in the same
// packet as its handshake request (read ahead by net/http) is answered, not
// lost when the connection gets its own buffers.
func TestFrameSentWithTheHandshake(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	_, tok, _ := e.visitor("early", "")

	// Two frames, the second larger than the connection's read buffer.
	frames := append(maskedText([]byte(`{"type":"ping","ref":"early"}`)),
		maskedText([]byte(`{"type":"ping","ref":"`+strings.Repeat("x", 3*socketReadBuffer)+`"}`))...)
	_, br := rawSocket(t, e, tok, frames)
	var got []string
	for len(got) < 3 {
		var f Frame
		if err := json.Unmarshal(readServerFrame(t, br), &f); err != nil {
			t.Fatal(err)
		}
		ref := f.Ref
		if len(ref) > 10 {
			ref = fmt.Sprintf("%d×%c", len(ref), ref[0])
		}
		got = append(got, f.Type+":"+ref)
	}
	want := []string{"ready:", "pong:early", fmt.Sprintf("pong:%d×x", 3*socketReadBuffer)}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("frames %v, want %v", got, want)
	}
}

// rawSocket opens a socket by hand, authenticated by tok, writing early
// right behind the handshake request, and returns the connection and its
// reader, past the handshake's response.
func rawSocket(t *testing.T, e *env, tok string, early []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	var key [16]byte
	rand.Read(key[:])
	req := "GET /ws HTTP/1.1\r\nHost: " + strings.TrimPrefix(e.hs.URL, "http://") + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" +
		"Sec-WebSocket-Protocol: " + Version + "\r\nAuthorization: Bearer " + tok + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), early...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake answered %s", resp.Status)
	}
	return conn, br
}

// maskedText is a client's final text frame carrying p.
func maskedText(p []byte) []byte { return maskedFrame(0x81, p) }

// maskedFrame is a client's frame: first is its first byte (FIN and
// opcode), p its payload.
func maskedFrame(first byte, p []byte) []byte {
	b := []byte{first}
	switch {
	case len(p) < 126:
		b = append(b, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		b = append(b, 0x80|126, byte(len(p)>>8), byte(len(p)))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, c := range p {
		b = append(b, c^mask[i%4])
	}
	return b
}

// readServerFrame reads one unmasked server text frame.
func readServerFrame(t *testing.T, r io.Reader) []byte {
	t.Helper()
	p, op, err := readFrame(r)
	if err != nil {
		t.Fatal(err)
	}
	if op != 0x1 {
		t.Fatalf("opcode %x, want a text frame", op)
	}
	return p
}

// readUntil reads server frames from r until one of type typ, which it
// returns.
func readUntil(t *testing.T, r io.Reader, typ string) Frame {
	t.Helper()
	for {
		f, _, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		var fr Frame
		json.Unmarshal(f, &fr)
		if fr.Type == typ {
			return fr
		}
	}
}

// TestFramesLargerThanTheBuffers: messages of every size up to the
// largest allowed travel whole both ways, past the sockets' small buffers.
func TestFramesLargerThanTheBuffers(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	alice, aliceTok := e.agent("alice", parley.RoleAgent)
	_, vTok, conv := e.visitor("big", alice.ID)
	a, v := e.dial(aliceTok), e.dial(vTok)
	a.resume(conv.ID, 0)
	a.expect(TypeResumed)
	v.resume(conv.ID, 0)
	v.expect(TypeResumed)
	sizes := []int{1, socketReadBuffer - 100, socketReadBuffer, socketWriteBuffer, 3 * socketWriteBuffer, parley.MaxContentLen}
	for i, n := range sizes {
		// Both send the same text; each side then gets both messages (its
		// own back, and the other's) in either order.
		content := strings.Repeat(string(rune('a'+i)), n)
		v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: fmt.Sprint("v", i), Content: content})
		a.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: fmt.Sprint("a", i), Content: content})
		for _, c := range []*wsClient{a, v} {
			for _, m := range c.messages(conv.ID, 2) {
				if m.Content != content {
					t.Fatalf("got %d bytes for a message of %d", len(m.Content), n)
				}
			}
		}
	}
}

// TestFrameTracker: the tracker under a socket's reads knows where each
// message ends, however the stream is cut: frames of every length
// encoding, masked or not, empty, and a message in fragments with a control
// frame between them.
func TestFrameTracker(t *testing.T) {
	unmasked := func(first byte, p []byte) []byte {
		return append([]byte{first, byte(len(p))}, p...)
	}
	parts := []struct {
		frame  []byte
		endsAt bool // the stream is between messages after it
	}{
		{maskedText([]byte(`{"type":"ping"}`)), true},
		{maskedText(nil), true},
		{maskedFrame(0x89, []byte("ping")), true}, // a ping between messages
		{maskedText([]byte(strings.Repeat("m", 300))), true},
		{maskedText([]byte(strings.Repeat("l", 70_000))), true},
		{maskedFrame(0x01, []byte(`{"type":`)), false}, // text, no FIN
		{maskedFrame(0x8a, []byte("pong")), false},     // a pong between fragments
		{maskedFrame(0x00, []byte(`"ping",`)), false},  // continuation, no FIN
		{maskedFrame(0x80, []byte(`"ref":"f"}`)), true},
		{unmasked(0x81, []byte("unmasked")), true},
	}
	var stream []byte
	ends := map[int]bool{0: true}
	for _, p := range parts {
		stream = append(stream, p.frame...)
		if p.endsAt {
			ends[len(stream)] = true
		}
	}
	for _, step := range []int{1, 2, 3, 5, 7, 64, 4096, len(stream)} {
		var tr frameTracker
		for at := 0; at < len(stream); {
			n := min(step, len(stream)-at)
			tr.feed(stream[at : at+n])
			at += n
			if got := tr.betweenMessages(); got != ends[at] {
				t.Fatalf("fed %d bytes at a time, after %d of %d: between messages %v, want %v",
					step, at, len(stream), got, ends[at])
			}
		}
	}
}

// scriptedConn hands over its bytes, then fails every read: a read that
// would have waited for more shows as errPastScript.
type scriptedConn struct {
	net.Conn // nil: only Read and SetReadDeadline are called
	r        *bytes.Reader
}

var errPastScript = errors.New("read past the script")

func (c *scriptedConn) Read(p []byte) (int, error) {
	if c.r.Len() == 0 {
		return 0, errPastScript
	}
	return c.r.Read(p)
}

func (c *scriptedConn) SetReadDeadline(time.Time) error { return nil }

// TestPongParksAtOnce: once a socket has read only control frames since it
// woke (the pong of the server's ping), it goes idle at once instead of
// lingering for more; after a data frame it lingers, and after it went
// idle the next wake reads again. (Bytes that come after it went idle wake
// it again: the poller is level-triggered.)
func TestPongParksAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		script []byte
		want   error // of the read that follows the script
	}{
		{"a pong", maskedFrame(0x8a, []byte("1")), errIdle},
		{"a ping and a pong", append(maskedFrame(0x89, nil), maskedFrame(0x8a, []byte("2"))...), errIdle},
		{"a text frame", maskedText([]byte(`{"type":"ping"}`)), errPastScript},
		{"a pong, then a text frame", append(maskedFrame(0x8a, nil), maskedText([]byte(`{"type":"ping"}`))...), errPastScript},
		{"half a pong", maskedFrame(0x8a, []byte("pong"))[:3], errPastScript},
		{"nothing yet", nil, errPastScript},
	}
	for _, tt := range tests {
		ic := &idleConn{Conn: &scriptedConn{r: bytes.NewReader(tt.script)}, linger: true}
		got := make([]byte, 0, len(tt.script))
		buf := make([]byte, socketReadBuffer) // what came together is read together
		var err error
		for err == nil {
			var n int
			n, err = ic.Read(buf)
			got = append(got, buf[:n]...)
		}
		if !bytes.Equal(got, tt.script) || !errors.Is(err, tt.want) {
			t.Errorf("%s: read %d of %d bytes, then %v; want them all, then %v", tt.name, len(got), len(tt.script), err, tt.want)
		}
		if errors.Is(err, errIdle) {
			// Woken again: it reads, whatever it read before.
			if _, err := ic.Read(buf); !errors.Is(err, errPastScript) {
				t.Errorf("%s: the read after going idle: %v, want a read of the connection", tt.name, err)
			}
		}
	}
}

// TestParkedSocketWrittenTo: a parked socket that is sent a message, with
// nothing read from it, is parked again with its small buffers once the
// message is written.
func TestParkedSocketWrittenTo(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	alice, aliceTok := e.agent("alice", parley.RoleAgent)
	_, vTok, conv := e.visitor("written", alice.ID)
	a := e.dial(aliceTok)
	a.resume(conv.ID, 0)
	a.expect(TypeResumed)
	_, br := rawSocket(t, e, vTok, maskedText([]byte(`{"type":"resume","conversationId":"`+conv.ID+`","lastSeq":0}`)))
	readUntil(t, br, TypeResumed)
	for i := range 3 {
		waitParked(t, e, 2) // the visitor's socket, and alice's
		a.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: fmt.Sprint("w", i), Content: "hello"})
		a.expect(TypeAck)
		if m := readUntil(t, br, TypeMessage); m.Content != "hello" {
			t.Fatalf("round %d: the visitor got %+v", i, m)
		}
	}
	waitParked(t, e, 2)
}

// TestSocketIdleBetweenMessages: a socket that has had nothing for longer
// than socketLinger holds no goroutine (it is parked; elsewhere than on
// Linux, its goroutine waits outside the library's reader), and still gets
// every frame after: one sent whole, one stalled in the middle for longer
// than the linger, one in fragments with a ping between them. The server's
// own pings get their pongs throughout.
func TestSocketIdleBetweenMessages(t *testing.T) {
	// Pings less often than the linger, so the socket has idle spells.
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{PingInterval: 2 * time.Second, PongTimeout: time.Second})
	_, tok, _ := e.visitor("idle", "")
	conn, br := rawSocket(t, e, tok, nil)
	frames := make(chan string, 16)
	var pongs atomic.Int64
	go func() {
		defer close(frames)
		for {
			f, op, err := readFrame(br)
			if err != nil {
				return
			}
			switch op {
			case 0x9: // the server's ping: answer it
				if _, err := conn.Write(maskedFrame(0x8a, f)); err != nil {
					return
				}
				pongs.Add(1)
			case 0x1:
				var fr Frame
				if err := json.Unmarshal(f, &fr); err != nil {
					frames <- "bad frame: " + string(f)
					return
				}
				frames <- fr.Type + ":" + fr.Ref
			}
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-frames:
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	// idle waits until no goroutine serves the socket: a ping's pong may
	// have started one, which ends after socketLinger.
	idle := func() {
		t.Helper()
		deadline := time.Now().Add(socketLinger + 3*time.Second)
		for socketGoroutines() != 0 {
			if time.Now().After(deadline) {
				t.Fatal("frames are still read after the socket has been idle for longer than the linger")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	write := func(b []byte) {
		t.Helper()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	expect("ready:")
	idle()
	write(maskedText([]byte(`{"type":"ping","ref":"whole"}`)))
	expect("pong:whole")
	idle()
	stalled := maskedText([]byte(`{"type":"ping","ref":"stalled"}`))
	write(stalled[:9])
	time.Sleep(socketLinger + 500*time.Millisecond)
	write(stalled[9:])
	expect("pong:stalled")
	idle()
	write(maskedFrame(0x01, []byte(`{"type":"ping",`)))
	time.Sleep(socketLinger + 500*time.Millisecond)
	write(maskedFrame(0x89, []byte("p")))
	time.Sleep(socketLinger + 500*time.Millisecond)
	write(maskedFrame(0x80, []byte(`"ref":"fragments"}`)))
	expect("pong:fragments")
	idle()
	write(maskedText([]byte(`{"type":"ping","ref":"after"}`)))
	expect("pong:after")
	if pongs.Load() == 0 {
		t.Fatal("the server sent no ping in all that time")
	}
}

// readFrame reads one unmasked server frame: its payload and opcode.
func readFrame(r io.Reader) ([]byte, byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, 0, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, 0, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, 0, err
	}
	return p, h[0] & 0x0f, nil
}

// socketGoroutines counts the goroutines serving sockets that could be
// idle: all of them where idle sockets are parked (Linux), elsewhere those
// in the WebSocket library's reader (an idle one waits in a plain read).
func socketGoroutines() int {
	if runtime.GOOS != "linux" {
		return goroutinesIn("websocket.(*Conn).Read")
	}
	return goroutinesIn("realtime.(*client).serveFrames") + goroutinesIn("realtime.(*idleConn).wait")
}

// goroutinesIn counts the goroutines with fn on their stacks.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			count++
		}
	}
	return count
}

// TestParkedSocketEnds: a parked socket still ends when its connection
// does, whichever side closes it: the visitor going away is seen by the
// agent as presence, and a parked socket the server closes (a shutdown)
// gets its close frame and lets the shutdown complete.
func TestParkedSocketEnds(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	alice, aliceTok := e.agent("alice", parley.RoleAgent)
	visitor, vTok, conv := e.visitor("parked", alice.ID)
	a := e.dial(aliceTok)
	a.resume(conv.ID, 0)
	a.expect(TypeResumed)

	conn, br := rawSocket(t, e, vTok, maskedText([]byte(`{"type":"resume","conversationId":"`+conv.ID+`","lastSeq":0}`)))
	readUntil(t, br, TypeResumed)
	for {
		f := a.expect(TypePresence)
		if f.From != nil && f.From.ID == visitor.ID && f.Online {
			break
		}
	}
	time.Sleep(socketLinger + 500*time.Millisecond) // parked
	conn.Close()
	for {
		f := a.expect(TypePresence)
		if f.From != nil && f.From.ID == visitor.ID && !f.Online {
			break
		}
	}

	// Two more, parked, and the server shutting down: one answers the close
	// frame, the other never reads again, so its socket ends when the
	// shutdown's time is up and the server drops the connection.
	conn2, br2 := rawSocket(t, e, vTok, nil)
	_, br3 := rawSocket(t, e, vTok, nil)
	for _, br := range []*bufio.Reader{br2, br3} {
		if _, _, err := readFrame(br); err != nil { // ready
			t.Fatal(err)
		}
	}
	time.Sleep(socketLinger + 500*time.Millisecond)
	closed := make(chan []byte, 1)
	go func() {
		for {
			f, op, err := readFrame(br2)
			if err != nil {
				close(closed)
				return
			}
			if op == 0x8 {
				conn2.Write(maskedFrame(0x88, f[:2]))
				closed <- f
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(ctxT, 2*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- e.srv.Shutdown(ctx) }()
	select {
	case <-shut:
	case <-time.After(10 * time.Second):
		t.Fatal("the shutdown did not end the parked sockets")
	}
	f, ok := <-closed
	if !ok {
		t.Fatal("the parked socket was not sent a close frame")
	}
	if code := binary.BigEndian.Uint16(f[:2]); code != uint16(closeShutdown) {
		t.Fatalf("close code %d, want %d", code, closeShutdown)
	}
}

// TestParkedSocketBuffers: a parked socket holds bufio's smallest buffers,
// and gets its own back when it is next read or written: frames larger than
// the buffers, sent to it and by it, come through whole.
func TestParkedSocketBuffers(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	_, tok, _ := e.visitor("buffers", "")
	conn, br := rawSocket(t, e, tok, nil)
	if _, _, err := readFrame(br); err != nil { // ready
		t.Fatal(err)
	}
	sizes := func() (int, int) {
		t.Helper()
		cs := e.srv.hub.snapshot()
		if len(cs) != 1 {
			t.Fatalf("%d sockets, want 1", len(cs))
		}
		c := cs[0]
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.ic.br.Size(), c.ic.bw.Size()
	}
	big := strings.Repeat("y", 2*socketWriteBuffer)
	for round := range 2 {
		waitParked(t, e, 1)
		if r, w := sizes(); r != parkedReadBuffer || w != parkedWriteBuffer {
			t.Fatalf("round %d: idle socket's buffers: read %d, write %d bytes; want %d and %d", round, r, w, parkedReadBuffer, parkedWriteBuffer)
		}
		if err := pingRoundTrip(conn, br, big); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if r, w := sizes(); r != socketReadBuffer || w != socketWriteBuffer {
			t.Fatalf("round %d: buffers of a socket in use: read %d, write %d bytes; want %d and %d", round, r, w, socketReadBuffer, socketWriteBuffer)
		}
	}
}

// TestSweepPingsTheIdle: the hub sweeps every second (so each sweep pings
// the few sockets that fell idle since the last one, not a third of them at
// once), and a sweep pings the sockets idle for PingInterval, no other.
func TestSweepPingsTheIdle(t *testing.T) {
	for _, c := range []struct {
		ping, pong, want time.Duration
	}{
		{30 * time.Second, 10 * time.Second, time.Second},
		{time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
		{600 * time.Millisecond, 10 * time.Second, 300 * time.Millisecond},
	} {
		if got := sweepInterval(Options{PingInterval: c.ping, PongTimeout: c.pong}); got != c.want {
			t.Errorf("ping every %v, pong within %v: sweep every %v, want %v", c.ping, c.pong, got, c.want)
		}
	}

	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	idleP, idleTok, _ := e.visitor("idle", "")
	_, busyTok, _ := e.visitor("busy", "")
	idle, idleBR := rawSocket(t, e, idleTok, nil)
	busy, busyBR := rawSocket(t, e, busyTok, nil)
	for _, br := range []*bufio.Reader{idleBR, busyBR} {
		if _, _, err := readFrame(br); err != nil { // ready
			t.Fatal(err)
		}
	}
	var idleC, busyC *client
	for _, c := range e.srv.hub.snapshot() {
		if c.p.ID == idleP.ID {
			idleC = c
		} else {
			busyC = c
		}
	}
	if idleC == nil || busyC == nil {
		t.Fatal("the two sockets are not in the hub")
	}
	idleC.lastRead.Store(time.Now().Add(-31 * time.Second).UnixNano())
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, op, err := readFrame(idleBR)
		if err != nil {
			t.Fatalf("the socket idle for longer than the ping interval was not pinged: %v", err)
		}
		if op == 0x9 {
			break
		}
	}
	busyC.mu.Lock()
	pinged := busyC.pingDue || busyC.pingSent.Load() != 0
	busyC.mu.Unlock()
	if pinged {
		t.Fatal("a socket that read a frame a moment ago was pinged")
	}
	busy.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, op, err := readFrame(busyBR); err == nil {
		t.Fatalf("the busy socket got a frame (opcode %#x)", op)
	}
}

// TestParkedSocketPingedInPlace: a parked socket is pinged without being
// woken: no writer goroutine, no full-size buffers; its empty pong counts as
// an answer and is consumed by the poller without waking it either, and the
// socket is served as before afterwards.
// Elsewhere than on Linux the library pings it (TestUnansweredPingCloses).
func TestParkedSocketPingedInPlace(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sockets are parked on Linux only")
	}
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	_, tok, _ := e.visitor("pinged", "")
	conn, br := rawSocket(t, e, tok, nil)
	if _, _, err := readFrame(br); err != nil { // ready
		t.Fatal(err)
	}
	cs := e.srv.hub.snapshot()
	if len(cs) != 1 {
		t.Fatalf("%d sockets, want 1", len(cs))
	}
	c := cs[0]
	for round := range 2 {
		waitParked(t, e, 1)
		before, wakes := c.lastRead.Load(), c.wakes.Load()
		c.requestPing()
		c.mu.Lock()
		shrunk, writing, due := c.ic.shrunk, c.writing, c.pingDue
		c.mu.Unlock()
		if !shrunk || writing || due || c.pingSent.Load() == 0 {
			t.Fatalf("round %d: after the ping, buffers parked %v, writer at work %v, ping left to a writer %v, ping noted %v; want true, false, false, true",
				round, shrunk, writing, due, c.pingSent.Load() != 0)
		}
		if n := goroutinesIn("realtime.(*client).writeLoop"); n != 0 {
			t.Fatalf("round %d: %d writer goroutines for a ping", round, n)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		f, op, err := readFrame(br)
		if err != nil || op != 0x9 || len(f) != 0 {
			t.Fatalf("round %d: read opcode %#x, %q, %v; want an empty ping", round, op, f, err)
		}
		if _, err := conn.Write(maskedFrame(0x8a, f)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for c.pingSent.Load() != 0 || c.lastRead.Load() == before {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the pong was not noticed", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
		waitParked(t, e, 1)
		if n := c.wakes.Load() - wakes; n != 0 {
			t.Fatalf("round %d: the ping and its pong woke the socket %d times", round, n)
		}
		if err := pingRoundTrip(conn, br, fmt.Sprint("after", round)); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// TestUnansweredPingCloses: a socket that answers the server's pings stays
// open; one that does not is closed once its pong is overdue.
func TestUnansweredPingCloses(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{PingInterval: time.Second, PongTimeout: 500 * time.Millisecond})
	_, tok, _ := e.visitor("keepalive", "")
	// serve reads a socket's frames until it ends, answering the server's
	// pings when answer is set and counting them in pings; it returns why
	// the socket ended.
	serve := func(conn net.Conn, br *bufio.Reader, answer bool, pings *atomic.Int64, frames chan<- string) error {
		for {
			f, op, err := readFrame(br)
			if err != nil {
				return err
			}
			switch op {
			case 0x9:
				pings.Add(1)
				if answer {
					if _, err := conn.Write(maskedFrame(0x8a, f)); err != nil {
						return err
					}
				}
			case 0x1:
				var fr Frame
				json.Unmarshal(f, &fr)
				frames <- fr.Type + ":" + fr.Ref
			case 0x8:
				return fmt.Errorf("close frame %d", binary.BigEndian.Uint16(f[:2]))
			}
		}
	}
	live, liveBR := rawSocket(t, e, tok, nil)
	dead, deadBR := rawSocket(t, e, tok, nil)
	var livePings, deadPings atomic.Int64
	liveFrames, deadFrames := make(chan string, 16), make(chan string, 16)
	go serve(live, liveBR, true, &livePings, liveFrames)
	deadEnded := make(chan error, 1)
	go func() { deadEnded <- serve(dead, deadBR, false, &deadPings, deadFrames) }()
	select {
	case err := <-deadEnded:
		if deadPings.Load() == 0 {
			t.Fatalf("the silent socket ended (%v) before it was pinged", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("a socket that never answers pings is still open")
	}
	if livePings.Load() == 0 {
		t.Fatal("the answering socket was never pinged")
	}
	if _, err := live.Write(maskedText([]byte(`{"type":"ping","ref":"still"}`))); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f := <-liveFrames:
			if f == "pong:still" {
				return
			}
		case <-deadline:
			t.Fatal("the socket answering pings was closed too")
		}
	}
}

// TestParkedSocketsShareNoBuffer: sockets that park and wake together, each
// taking buffers another gave back, each get only their own frames. Two
// sockets sharing a buffer are reported by the race detector (make test
// runs with it) every time; without it, only when their reads happen to
// overlap.
func TestParkedSocketsShareNoBuffer(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	const n = 8
	type sock struct {
		conn net.Conn
		br   *bufio.Reader
	}
	var socks []sock
	for i := range n {
		_, tok, _ := e.visitor(fmt.Sprintf("share%d", i), "")
		conn, br := rawSocket(t, e, tok, nil)
		if _, _, err := readFrame(br); err != nil { // ready
			t.Fatal(err)
		}
		socks = append(socks, sock{conn, br})
	}
	for round := range 3 {
		waitParked(t, e, n)
		errs := make(chan error, n)
		for i, s := range socks {
			go func() {
				ref := strings.Repeat(fmt.Sprintf("%c", 'a'+i), 2*socketWriteBuffer+i)
				if err := pingRoundTrip(s.conn, s.br, ref); err != nil {
					errs <- fmt.Errorf("round %d, socket %d: %v", round, i, err)
					return
				}
				errs <- nil
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// waitParked waits until the server holds n sockets, all parked with their
// buffers given back and no goroutine serving them.
func waitParked(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(socketLinger + 3*time.Second)
	for {
		parked := 0
		for _, c := range e.srv.hub.snapshot() {
			c.mu.Lock()
			if c.ic.shrunk {
				parked++
			}
			c.mu.Unlock()
		}
		if parked == n && socketGoroutines() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d sockets parked, %d goroutines serving sockets", parked, n, socketGoroutines())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pingRoundTrip sends a ping frame with ref and reads the next frame, which
// must be its pong.
func pingRoundTrip(conn net.Conn, br *bufio.Reader, ref string) error {
	if _, err := conn.Write(maskedText([]byte(`{"type":"ping","ref":"` + ref + `"}`))); err != nil {
		return err
	}
	f, op, err := readFrame(br)
	if err != nil {
		return err
	}
	var fr Frame
	if err := json.Unmarshal(f, &fr); op != 0x1 || err != nil || fr.Type != TypePong || fr.Ref != ref {
		return fmt.Errorf("opcode %d, %.40q (%d bytes): not the pong of the ping sent", op, f, len(f))
	}
	return nil
}

// writeCounter is a connection that records each write it is given.
type writeCounter struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, bytes.Clone(p))
	w.mu.Unlock()
	if w.Conn == nil {
		return len(p), nil
	}
	return w.Conn.Write(p)
}

func (w *writeCounter) taken() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.writes)
}

// TestCorkedWriter: while corked, what is written is held and written at
// once on uncork; uncorked, it goes straight through; a batch past
// maxCorked is written in parts, and a large buffer is not kept.
func TestCorkedWriter(t *testing.T) {
	chunk := func(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }
	for _, tc := range []struct {
		name   string
		corked bool
		parts  [][]byte
		writes []int // the sizes of the writes the connection gets
		kept   bool  // the buffer is kept for the next batch
	}{
		{"uncorked", false, [][]byte{chunk(10, 'a'), chunk(20, 'b')}, []int{10, 20}, false},
		{"corked", true, [][]byte{chunk(10, 'a'), chunk(20, 'b'), chunk(30, 'c')}, []int{60}, true},
		{"nothing", true, nil, nil, false},
		{"past the bound", true, [][]byte{chunk(maxCorked-10, 'a'), chunk(20, 'b'), chunk(5, 'c')}, []int{maxCorked - 10, 25}, false},
		{"larger than the bound", true, [][]byte{chunk(10, 'a'), chunk(maxCorked+1, 'b'), chunk(5, 'c')}, []int{10, maxCorked + 1, 5}, true},
		{"grown past what is kept", true, [][]byte{chunk(keepCorked, 'a'), chunk(keepCorked, 'b')}, []int{2 * keepCorked}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := &writeCounter{}
			w := &corkedWriter{conn: conn}
			if tc.corked {
				w.cork()
			}
			var want []byte
			for _, p := range tc.parts {
				if n, err := w.Write(p); n != len(p) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				want = append(want, p...)
			}
			if tc.corked {
				if err := w.uncork(); err != nil {
					t.Fatal(err)
				}
			}
			var sizes []int
			var got []byte
			for _, b := range conn.taken() {
				sizes = append(sizes, len(b))
				got = append(got, b...)
			}
			if !slices.Equal(sizes, tc.writes) || !bytes.Equal(got, want) {
				t.Fatalf("writes of %v bytes (in order: %v), want %v (%v)", sizes, bytes.Equal(got, want), tc.writes, true)
			}
			if kept := w.held != nil; kept != tc.kept {
				t.Fatalf("buffer kept %v, want %v", kept, tc.kept)
			}
			w.release()
			if w.held != nil {
				t.Fatal("release kept the buffer")
			}
			// Uncorked again: writes go straight through.
			w.Write([]byte("x"))
			if n := len(conn.taken()); n != len(tc.writes)+1 {
				t.Fatalf("%d writes after uncork, want %d", n, len(tc.writes)+1)
			}
		})
	}
}

// TestAnswersInOneWrite: a visitor's message is two frames for its own
// socket (the message, then its ack), written to the connection in one
// write.
func TestAnswersInOneWrite(t *testing.T) {
	e := newEnv(t, sqliteStore(t, t.TempDir()), Options{})
	_, tok, conv := e.visitor("corked", "")
	conn, br := rawSocket(t, e, tok, maskedText([]byte(`{"type":"resume","conversationId":"`+conv.ID+`","lastSeq":0}`)))
	readUntil(t, br, TypeResumed)
	cs := e.srv.hub.snapshot()
	if len(cs) != 1 {
		t.Fatalf("%d sockets, want 1", len(cs))
	}
	out := &cs[0].ic.out
	counter := &writeCounter{}
	out.mu.Lock()
	counter.Conn, out.conn = out.conn, counter
	out.mu.Unlock()
	for i := range 3 {
		id := fmt.Sprint("c", i)
		if _, err := conn.Write(maskedText([]byte(`{"type":"send","conversationId":"` + conv.ID + `","clientMessageId":"` + id + `","content":"hi"}`))); err != nil {
			t.Fatal(err)
		}
		var got []string
		for len(got) < 2 {
			var f Frame
			if err := json.Unmarshal(readServerFrame(t, br), &f); err != nil {
				t.Fatal(err)
			}
			got = append(got, f.Type+":"+f.ClientMessageID)
		}
		if want := []string{TypeMessage + ":" + id, TypeAck + ":" + id}; !slices.Equal(got, want) {
			t.Fatalf("round %d: frames %v, want %v", i, got, want)
		}
		if n := len(counter.taken()); n != i+1 {
			t.Fatalf("round %d: %d writes to the connection so far, want %d", i, n, i+1)
		}
	}
}
