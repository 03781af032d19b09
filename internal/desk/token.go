package desk

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefixes tell the kinds of bearer tokens apart at a glance (and let secret
// scanners recognise them).
const (
	SessionTokenPrefix = "ps_"
	APITokenPrefix     = "pt_"
	VisitorTokenPrefix = "pv_"
)

// newToken returns prefix + 32 random bytes in base64url, and its hash.
func newToken(prefix string) (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("desk: crypto/rand failed: " + err.Error())
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 under which a token is stored. Tokens
// carry 256 random bits, so a fast hash is enough: nothing can be guessed.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether token has prefix and the length and alphabet
// newToken produces, so junk is refused before touching the database.
func wellFormed(token, prefix string) bool {
	if !strings.HasPrefix(token, prefix) || len(token) != len(prefix)+43 {
		return false
	}
	for _, c := range token[len(prefix):] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// randomSecret returns n random bytes in base64url (CSRF tokens, generated
// passwords).
func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("desk: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
