package postgres

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/parleychat/parley"
)

// cursor is a keyset position: the sort time and id of the last row of a
// page. It travels as 24 bytes (unix microseconds, then the uuid) in
// unpadded base64url, opaque to clients.
type cursor struct {
	at time.Time
	id string
}

func encodeCursor(at time.Time, id string) string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMicro()))
	hexID := id[0:8] + id[9:13] + id[14:18] + id[19:23] + id[24:36]
	if _, err := hex.Decode(b[8:], []byte(hexID)); err != nil {
		// ids come from the database as canonical uuids; anything else is a bug.
		panic("postgres: cursor of a malformed id " + id)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Cursor times are bounded to years 1..9999 so a forged cursor cannot reach
// PostgreSQL as an out-of-range timestamp.
var (
	minCursorTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// decodeCursor parses a cursor from encodeCursor. EINVALID for anything else.
func decodeCursor(s string) (cursor, error) {
	bad := parley.Errorf(parley.EINVALID, "the cursor is not valid")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return cursor{}, bad
	}
	us := int64(binary.BigEndian.Uint64(b[:8]))
	if us < minCursorTime || us > maxCursorTime {
		return cursor{}, bad
	}
	h := hex.EncodeToString(b[8:])
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	return cursor{at: time.UnixMicro(us).UTC(), id: id}, nil
}
