package realtime

import (
	"bytes"
	"testing"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
)

// FuzzDecodeFrame feeds the decoder what a client may send. It must never
// panic; it refuses with EINVALID anything that is not a JSON object with a
// type; and what it accepts encodes to a frame that decodes to itself, so a
// frame the server relays reads the same to every client.
func FuzzDecodeFrame(f *testing.F) {
	const conv = `"conversationId":"0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"`
	for _, s := range []string{
		`{"type":"auth","token":"pv_abc"}`,
		`{"type":"send",` + conv + `,"clientMessageId":"c1","content":"hello","ref":"r1"}`,
		`{"type":"send",` + conv + `,"clientMessageId":"c2","content":"note","note":true}`,
		`{"type":"typing",` + conv + `,"state":"start"}`,
		`{"type":"read",` + conv + `,"seq":12}`,
		`{"type":"resume",` + conv + `,"lastSeq":0}`,
		`{"type":"resume",` + conv + `,"lastSeq":-1}`,
		`{"type":"subscribe","inbox":true}`,
		`{"type":"unsubscribe",` + conv + `}`,
		`{"type":"ping","ref":"p"}`,
		`{"type":"message","metadata":{"a":[1,2.5,"x",null,{"b":true}]},"createdAt":"2024-05-01T10:00:00.123456Z"}`,
		`{"type":"send","content":"\u0000\ud800 \xff"}`,
		`{"type":"send","seq":1e400}`,
		`{"type":"send","lastSeq":"1"}`,
		`{"type":""}`, `{}`, `[]`, `null`, `"send"`, `not json`, ``, `{"type":"send"`,
		`{"type":"send","type":"ping"}`, `{"TYPE":"ping"}`,
	} {
		f.Add(true, []byte(s))
	}
	f.Add(false, []byte(`{"type":"ping"}`))
	f.Fuzz(func(t *testing.T, text bool, data []byte) {
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		fr, err := decodeFrame(typ, data)
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("%q: error %v, want invalid", data, err)
			}
			return
		}
		if !text || fr.Type == "" {
			t.Fatalf("%q accepted as %+v", data, fr)
		}
		once := encode(&fr)
		again, err := decodeFrame(websocket.MessageText, once)
		if err != nil {
			t.Fatalf("%q: its encoding %s does not decode: %v", data, once, err)
		}
		if twice := encode(&again); !bytes.Equal(once, twice) {
			t.Fatalf("%q: encodes as %s, then as %s", data, once, twice)
		}
	})
}

// FuzzParseEnvelope: a broker payload from another node never panics the
// parser, and what envelopeFor addresses reads back with its frame intact.
func FuzzParseEnvelope(f *testing.F) {
	f.Add(envelope(audienceAll, 7, 9, []byte(`{"type":"message"}`)))
	f.Add(envelope(audienceServer, 0, 0, []byte(`{"keep":"x"}`)))
	f.Add(envelopeFor([]byte(`{"type":"conversation"}`), &parley.Conversation{Status: parley.StatusActive, AssigneeID: parley.NewID()}))
	f.Add([]byte{audienceSome, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, frame, ok := parseEnvelope(data)
		if !ok {
			return
		}
		if len(frame) > len(data) || len(h.some)%idLen != 0 {
			t.Fatalf("%x: frame %x, ids %x", data, frame, h.some)
		}
		h.allows(Principal{Type: parley.ParticipantAgent, ID: string(frame)})
		a, b := parley.NewID(), parley.NewID()
		env := envelopeFor(frame, &parley.Conversation{Status: parley.StatusClosed, AssigneeID: a})
		h2, frame2, ok := parseEnvelope(env)
		if !ok || !bytes.Equal(frame2, frame) {
			t.Fatalf("%x: envelopeFor round trip gave %x", frame, frame2)
		}
		if !h2.allows(Principal{Type: parley.ParticipantAgent, ID: a}) || h2.allows(Principal{Type: parley.ParticipantAgent, ID: b}) ||
			!h2.allows(Principal{Type: parley.ParticipantAgent, ID: b, SeesAll: true}) || !h2.allows(Principal{Type: parley.ParticipantCustomer, ID: b}) {
			t.Fatalf("audience of %x is wrong", env)
		}
	})
}

// TestSubSet: a socket's subscriptions, whether the first is kept in its
// field or the map, are found, replaced, counted and removed alike.
func TestSubSet(t *testing.T) {
	var m subSet
	check := func(step string, want map[string]*sub) {
		t.Helper()
		if m.len() != len(want) {
			t.Fatalf("%s: %d subscriptions, want %d", step, m.len(), len(want))
		}
		seen := map[string]bool{}
		for s := range m.all() {
			if seen[s.conv] || want[s.conv] != s {
				t.Fatalf("%s: listed %q (%p) twice or wrongly", step, s.conv, s)
			}
			seen[s.conv] = true
		}
		for conv, s := range want {
			if m.get(conv) != s {
				t.Fatalf("%s: get(%q) = %p, want %p", step, conv, m.get(conv), s)
			}
		}
		if m.get("none") != nil {
			t.Fatalf("%s: found a conversation never subscribed to", step)
		}
	}
	a1, b1, c1, a2, b2, a3 := &sub{conv: "a"}, &sub{conv: "b"}, &sub{conv: "c"}, &sub{conv: "a"}, &sub{conv: "b"}, &sub{conv: "a"}
	check("empty", map[string]*sub{})
	m.put(a1)
	check("one", map[string]*sub{"a": a1})
	m.put(b1)
	m.put(c1)
	check("three", map[string]*sub{"a": a1, "b": b1, "c": c1})
	m.put(a2)
	m.put(b2)
	check("two replaced", map[string]*sub{"a": a2, "b": b2, "c": c1})
	m.remove("a")
	check("the first removed", map[string]*sub{"b": b2, "c": c1})
	m.put(a3)
	check("added again", map[string]*sub{"a": a3, "b": b2, "c": c1})
	m.put(b1) // b is in the map while the field is taken
	check("replaced in the map", map[string]*sub{"a": a3, "b": b1, "c": c1})
	m.remove("a")
	m.put(b2) // the field is free, b still in the map: replaced there, not held twice
	check("replaced with the field free", map[string]*sub{"b": b2, "c": c1})
	m.remove("b")
	m.remove("c")
	m.remove("c")
	check("all removed", map[string]*sub{})
}
