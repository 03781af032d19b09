package sqlite

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/parleychat/parley"
)

// cursor is a keyset position: the sort time and id of the last row of a
// page. It travels as 24 bytes (unix microseconds, then the uuid) in
// unpadded base64url, opaque to clients; the PostgreSQL store uses the same
// encoding, so a cursor means the same on either.
type cursor struct {
	at int64 // unix microseconds
	id string
}

func encodeCursor(at time.Time, id string) string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMicro()))
	hexID := id[0:8] + id[9:13] + id[14:18] + id[19:23] + id[24:36]
	if _, err := hex.Decode(b[8:], []byte(hexID)); err != nil {
		// ids come from the database as canonical uuids; anything else is a bug.
		panic("sqlite: cursor of a malformed id " + id)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Cursor times are bounded to years 1..9999, the range both stores keep.
var (
	minCursorTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// decodeCursor parses a cursor from encodeCursor. EINVALID for anything else.
func decodeCursor(s string) (cursor, error) {
	bad := parley.Errorf(parley.EINVALID, "the cursor is not valid")
	if len(s) != 32 {
		return cursor{}, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 24 {
		return cursor{}, bad
	}
	us := int64(binary.BigEndian.Uint64(b[:8]))
	if us < minCursorTime || us > maxCursorTime {
		return cursor{}, bad
	}
	h := hex.EncodeToString(b[8:])
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	return cursor{at: us, id: id}, nil
}

// pageLimit checks a page size: 0 means def, 1..max is taken as is.
func pageLimit(limit, def, max int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 0 || limit > max:
		return 0, parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", max)
	}
	return limit, nil
}
