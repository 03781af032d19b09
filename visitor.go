package parley

import (
	"net/url"
	"strings"
	"time"
	"unicode"
)

// VisitorContext is what the widget reports about where a visitor is: the
// page they chat from, how they got there, their language and time zone.
// The visitor's browser reports it, so none of it is trusted for anything
// but showing it to agents.
type VisitorContext struct {
	PageURL   string // http or https only
	PageTitle string
	Referrer  string // http or https only
	Language  string // a BCP 47 tag, e.g. fr-FR
	TimeZone  string // an IANA name, e.g. Europe/Paris
}

// Limits of visitor context fields.
const (
	MaxURLLen       = 2048
	MaxPageTitleLen = 300
	MaxLanguageLen  = 35
)

// ContextKey is the key of Customer.Metadata under which the visitor's
// latest context is kept.
const ContextKey = "context"

// Validate checks every field; all may be empty. EINVALID.
func (c *VisitorContext) Validate() error {
	const op = "VisitorContext.Validate"
	if err := checkWebURL(op, "context.pageUrl", c.PageURL); err != nil {
		return err
	}
	if err := checkLine(op, "context.pageTitle", c.PageTitle, MaxPageTitleLen, false); err != nil {
		return err
	}
	if err := checkWebURL(op, "context.referrer", c.Referrer); err != nil {
		return err
	}
	if !validLanguageTag(c.Language) {
		return &Error{Code: EINVALID, Op: op, Message: "context.language must be a language tag such as en or fr-FR"}
	}
	if tz := c.TimeZone; tz != "" {
		if len(tz) > MaxTimeZoneLen || tz == "Local" {
			return &Error{Code: EINVALID, Op: op, Message: "context.timeZone is not a known time zone"}
		}
		if _, err := time.LoadLocation(tz); err != nil {
			return &Error{Code: EINVALID, Op: op, Message: "context.timeZone is not a known time zone"}
		}
	}
	return nil
}

// checkWebURL accepts "" or an absolute http(s) URL with a host, at most
// MaxURLLen bytes, without spaces or control characters.
func checkWebURL(op, field, v string) error {
	if v == "" {
		return nil
	}
	if err := checkText(op, field, v, MaxURLLen, false); err != nil {
		return err
	}
	if len(v) > MaxURLLen {
		return &Error{Code: EINVALID, Op: op, Message: field + " is too long"}
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return &Error{Code: EINVALID, Op: op, Message: field + " must not contain spaces or control characters"}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return &Error{Code: EINVALID, Op: op, Message: field + " must be an http:// or https:// address"}
	}
	return nil
}

// validLanguageTag accepts "" or the shape of a BCP 47 tag: a 2 to 8
// letter language and subtags of 1 to 8 letters or digits.
func validLanguageTag(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > MaxLanguageLen {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if len(part) < 1 || len(part) > 8 || (i == 0 && len(part) < 2) {
			return false
		}
		for j := 0; j < len(part); j++ {
			c := part[j]
			letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// Metadata returns c as it is kept under ContextKey.
func (c VisitorContext) Metadata() map[string]any {
	return map[string]any{"pageUrl": c.PageURL, "pageTitle": c.PageTitle, "referrer": c.Referrer,
		"language": c.Language, "timeZone": c.TimeZone}
}

// ContextOf reads the visitor context kept in m, and whether there is one.
func ContextOf(m Metadata) (VisitorContext, bool) {
	v, ok := m[ContextKey].(map[string]any)
	if !ok {
		return VisitorContext{}, false
	}
	s := func(k string) string { x, _ := v[k].(string); return x }
	return VisitorContext{PageURL: s("pageUrl"), PageTitle: s("pageTitle"), Referrer: s("referrer"),
		Language: s("language"), TimeZone: s("timeZone")}, true
}
