package realtime

import (
	"bytes"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestSkipPongs: a woken parked socket that was sent nothing but empty
// pongs has them consumed and noted, and stays parked; anything else it was
// sent is kept, byte for byte, for the library to read first.
func TestSkipPongs(t *testing.T) {
	pong := maskedFrame(0x8a, nil)
	text := maskedText([]byte(`{"type":"ping"}`))
	tests := []struct {
		name  string
		sent  []byte
		skip  bool
		pongs int // noted as the library reads what was kept
	}{
		{"an empty pong", pong, true, 0},
		{"two empty pongs", append(bytes.Clone(pong), pong...), true, 0},
		{"a pong with a payload (the library's ping)", maskedFrame(0x8a, []byte("7")), false, 1},
		{"a text frame", text, false, 0},
		{"a pong, then a text frame", append(bytes.Clone(pong), text...), false, 1},
		{"a ping", maskedFrame(0x89, nil), false, 0},
		{"half a pong", pong[:3], false, 0}, // its header is not whole yet
		{"an unmasked pong", []byte{0x8a, 0x00}, false, 1},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tt := range tests {
		peer, conn, raw := tcpPair(t, ln)
		pongs := 0
		ic := &idleConn{Conn: conn, raw: raw, onPong: func() { pongs++ }}
		if _, err := peer.Write(tt.sent); err != nil {
			t.Fatal(err)
		}
		arrived(t, raw, len(tt.sent))
		got := ic.skipPongs()
		if got != tt.skip {
			t.Errorf("%s: skipped %v, want %v", tt.name, got, tt.skip)
		}
		if tt.skip {
			if pongs != 1 || len(ic.pending) != 0 {
				t.Errorf("%s: pong noted %d times, %d bytes kept; want once, none", tt.name, pongs, len(ic.pending))
			}
		} else {
			if pongs != 0 {
				t.Errorf("%s: a pong was noted before the library read it", tt.name)
			}
			// What the library reads next is exactly what was sent.
			buf := make([]byte, len(tt.sent))
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			n := 0
			for n < len(buf) {
				k, err := ic.Read(buf[n:])
				if err != nil {
					t.Fatalf("%s: reading what was kept: %v", tt.name, err)
				}
				n += k
			}
			if !bytes.Equal(buf, tt.sent) || pongs != tt.pongs {
				t.Errorf("%s: the library would read %q, noting %d pongs; want %q, %d", tt.name, buf, pongs, tt.sent, tt.pongs)
			}
		}
		peer.Close()
		conn.Close()
	}

	// A peer that closed: nothing is consumed, and the library's read sees
	// the end.
	peer, conn, raw := tcpPair(t, ln)
	defer conn.Close()
	ic := &idleConn{Conn: conn, raw: raw}
	peer.Close()
	arrived(t, raw, 0)
	if ic.skipPongs() {
		t.Error("a closed connection was taken for pongs")
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := ic.Read(make([]byte, 8)); n != 0 || err == nil {
		t.Errorf("after the peer closed: read %d bytes, %v; want the end", n, err)
	}
}

// tcpPair connects to ln and returns both ends, with the raw connection of
// the accepted one.
func tcpPair(t *testing.T, ln net.Listener) (peer, conn net.Conn, raw syscall.RawConn) {
	t.Helper()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if conn, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	if raw, err = conn.(syscall.Conn).SyscallConn(); err != nil {
		t.Fatal(err)
	}
	return peer, conn, raw
}

// arrived waits until n bytes can be read from raw without consuming them,
// or, for n = 0, until the peer's end can.
func arrived(t *testing.T, raw syscall.RawConn, n int) {
	t.Helper()
	buf := make([]byte, max(n, 1))
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, rerr := once(raw.Read, func(fd int) (int, error) {
			n, _, err := syscall.Recvfrom(fd, buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return n, err
		})
		if rerr == nil && (n == 0 && got == 0 || n > 0 && got == n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d bytes: %d there (%v)", n, got, rerr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
