package desk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/parleychat/parley"
)

// passwordHasher holds argon2id parameters. Hashes carry their parameters,
// so verifying works whatever they were when the hash was made.
type passwordHasher struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// productionHasher: 64 MiB, one pass, two lanes (RFC 9106's second
// recommended option, with a lower memory cost that suits small servers).
var productionHasher = passwordHasher{memory: 64 << 10, time: 1, threads: 2}

const (
	saltLen        = 16
	keyLen         = 32
	minPasswordLen = 10
	maxPasswordLen = 256
)

// checkPassword enforces the password policy: long enough, not absurdly long.
func checkPassword(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < minPasswordLen {
		return parley.Errorf(parley.EINVALID, "%s must be at least %d characters", field, minPasswordLen)
	}
	if len(pw) > maxPasswordLen || !utf8.ValidString(pw) {
		return parley.Errorf(parley.EINVALID, "%s must be valid text of at most %d bytes", field, maxPasswordLen)
	}
	return nil
}

// hash returns the PHC string $argon2id$v=19$m=..,t=..,p=..$salt$key.
func (h passwordHasher) hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, h.time, h.memory, h.threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.memory, h.time, h.threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// verify reports whether pw matches encoded, comparing in constant time.
// Parameters are bounded so a corrupted hash cannot exhaust memory.
func verifyPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	if m < 8 || m > 1<<20 || t < 1 || t > 16 || p < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
