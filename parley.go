// Package parley holds Parley's domain: the types of a customer-support chat
// (users, customers, conversations, messages, ...), the one error type, and the
// interfaces the rest of the program consumes (Store). It imports no driver and
// no transport; internal/desk holds the use cases built on it.
package parley

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
	"unicode/utf8"
)

// NewID returns a time-ordered (version 7, RFC 9562) UUID in its canonical
// text form: 48 bits of Unix milliseconds, then 74 random bits. Ids are never
// sequential, so they cannot be guessed from one another (authorization
// never rests on that anyway), and the ids of new rows land at the end of
// every index keyed by them instead of on a random page: an append touches
// one hot page per id index where a random (version 4) id dirtied a page
// anywhere in the index, a third of the append's cost on SQLite.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		panic("parley: crypto/rand failed: " + err.Error())
	}
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = (b[6] & 0x0f) | 0x70
	b[8] = (b[8] & 0x3f) | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// ValidID reports whether s is a UUID in canonical lower-case text form, the
// only form Parley issues and accepts.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// Now returns the current time in UTC at microsecond precision, the precision
// both stores keep, so a value read back equals the value written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Metadata is free-form data attached to a record (stored as a JSON object).
type Metadata map[string]any

// MaxMetadataBytes bounds the JSON encoding of a Metadata value.
const MaxMetadataBytes = 16 << 10

func validateMetadata(op string, m Metadata) error {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return &Error{Code: EINVALID, Op: op, Message: "metadata must be a JSON object", Err: err}
	}
	if len(b) > MaxMetadataBytes {
		return &Error{Code: EINVALID, Op: op, Message: "metadata is too long"}
	}
	// PostgreSQL's jsonb refuses NUL in strings; refuse it everywhere so both
	// stores behave alike.
	if bytes.Contains(b, []byte(`\u0000`)) {
		return &Error{Code: EINVALID, Op: op, Message: "metadata contains a NUL character"}
	}
	return nil
}

// checkText validates a text field: valid UTF-8, no NUL (neither store accepts
// it in text), at most max characters, and non-empty when required.
func checkText(op, field, v string, max int, required bool) error {
	if required && v == "" {
		return &Error{Code: EINVALID, Op: op, Message: field + " is required"}
	}
	if !utf8.ValidString(v) {
		return &Error{Code: EINVALID, Op: op, Message: field + " is not valid UTF-8"}
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return &Error{Code: EINVALID, Op: op, Message: field + " contains a NUL character"}
		}
	}
	if utf8.RuneCountInString(v) > max {
		return &Error{Code: EINVALID, Op: op, Message: field + " is too long"}
	}
	return nil
}

func checkID(op, field, v string, required bool) error {
	if v == "" && !required {
		return nil
	}
	if !ValidID(v) {
		return &Error{Code: EINVALID, Op: op, Message: field + " is not a valid id"}
	}
	return nil
}
