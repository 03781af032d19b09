package parley

import (
	"strconv"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	before := time.Now().UnixMilli()
	const n = 10000
	seen := make(map[string]bool, n)
	var prevMS int64
	for range n {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("NewID() = %q: not a canonical UUID", id)
		}
		if id[14] != '7' {
			t.Fatalf("NewID() = %q: version %c, want 7", id, id[14])
		}
		if v := id[19]; v != '8' && v != '9' && v != 'a' && v != 'b' {
			t.Fatalf("NewID() = %q: variant nibble %c, want RFC 9562 (8, 9, a or b)", id, v)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		ms, err := strconv.ParseInt(id[0:8]+id[9:13], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if ms < prevMS {
			t.Fatalf("NewID() = %q: time %d before the previous id's %d", id, ms, prevMS)
		}
		prevMS = ms
	}
	if after := time.Now().UnixMilli(); prevMS < before || prevMS > after {
		t.Errorf("last id's time %d ms, want within [%d, %d]", prevMS, before, after)
	}
}

func TestNewIDRandomBits(t *testing.T) {
	// The node field (the last 48 bits) is random: each of its bits takes
	// both values over a few thousand ids.
	var ones, zeros [16]byte
	for range 2000 {
		id := NewID()
		for i, c := range []byte(id[24:]) {
			v, _ := strconv.ParseUint(string(c), 16, 8)
			ones[i%16] |= byte(v)
			zeros[i%16] |= ^byte(v) & 0x0f
		}
	}
	for i := range 12 {
		if ones[i] != 0x0f || zeros[i] != 0x0f {
			t.Errorf("hex digit %d of the node field: bits seen set %04b, seen clear %04b, want both 1111", 24+i, ones[i], zeros[i])
		}
	}
}
