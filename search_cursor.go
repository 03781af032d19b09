package parley

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math"
)

// searchCursor is a position in a ranked result list: the score, time and id
// of the last hit of a page. Results are ordered by score (highest first),
// then time (newest first), then id (highest first); the next page holds
// what comes after the cursor in that order.
type searchCursor struct {
	score float64
	at    int64 // unix microseconds
	id    string
}

// before reports whether c comes before o in result order.
func (c searchCursor) before(o searchCursor) bool {
	if c.score != o.score {
		return c.score > o.score
	}
	if c.at != o.at {
		return c.at > o.at
	}
	return c.id > o.id
}

// encode gives the cursor as 32 bytes (score bits, microseconds, uuid) in
// unpadded base64url: opaque to clients, the same from either store.
func (c searchCursor) encode() string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:8], math.Float64bits(c.score))
	binary.BigEndian.PutUint64(b[8:16], uint64(c.at))
	id := c.id[0:8] + c.id[9:13] + c.id[14:18] + c.id[19:23] + c.id[24:36]
	if _, err := hex.Decode(b[16:], []byte(id)); err != nil {
		panic("parley: search cursor of a malformed id " + c.id)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeSearchCursor parses what encode gives. EINVALID for anything else.
func decodeSearchCursor(s string) (searchCursor, error) {
	bad := Errorf(EINVALID, "the cursor is not valid")
	if len(s) != 43 {
		return searchCursor{}, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 {
		return searchCursor{}, bad
	}
	score := math.Float64frombits(binary.BigEndian.Uint64(b[:8]))
	if math.IsNaN(score) || math.IsInf(score, 0) {
		return searchCursor{}, bad
	}
	h := hex.EncodeToString(b[16:])
	return searchCursor{score: score, at: int64(binary.BigEndian.Uint64(b[8:16])),
		id: h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]}, nil
}
