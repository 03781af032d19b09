package realtime

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/sqlite"
)

// TestFrameSentWithTheHandshake: a frame the client writes in the same
// packet as its handshake request (read ahead by net/http) is answered, not
// lost when the connection gets its own buffers.
func TestFrameSentWithTheHandshake(t *testing.T) {
	s, err := sqlite.Open(ctxT, t.TempDir()+"/db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, migrated(t, s), Options{})
	_, tok, _ := e.visitor("early", "")

	conn, err := net.Dial("tcp", strings.TrimPrefix(e.hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var key [16]byte
	rand.Read(key[:])
	req := "GET /ws HTTP/1.1\r\nHost: " + strings.TrimPrefix(e.hs.URL, "http://") + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" +
		"Sec-WebSocket-Protocol: " + Version + "\r\nAuthorization: Bearer " + tok + "\r\n\r\n"
	// Two frames, the second larger than the connection's read buffer.
	frames := append(maskedText([]byte(`{"type":"ping","ref":"early"}`)),
		maskedText([]byte(`{"type":"ping","ref":"`+strings.Repeat("x", 3*socketReadBuffer)+`"}`))...)
	if _, err := conn.Write(append([]byte(req), frames...)); err != nil {
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

// maskedText is a client's final text frame carrying p.
func maskedText(p []byte) []byte {
	b := []byte{0x81}
	switch {
	case len(p) < 126:
		b = append(b, 0x80|byte(len(p)))
	default:
		b = append(b, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, c := range p {
		b = append(b, c^mask[i%4])
	}
	return b
}

// readServerFrame reads one unmasked, unfragmented server frame.
func readServerFrame(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatal(err)
	}
	if h[0] != 0x81 {
		t.Fatalf("frame header %x, want a final text frame", h[0])
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			t.Fatal(err)
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			t.Fatal(err)
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFramesLargerThanTheBuffers: messages of every size up to the
// largest allowed travel whole both ways, past the sockets' small buffers.
func TestFramesLargerThanTheBuffers(t *testing.T) {
	s, err := sqlite.Open(ctxT, t.TempDir()+"/db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, migrated(t, s), Options{})
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
