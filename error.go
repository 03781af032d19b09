package parley

import (
	"errors"
	"fmt"
)

// Error codes. Transports map each code to a status in one table each
// (internal/httpapi for HTTP, internal/realtime for the socket).
const (
	EINVALID      = "invalid"      // the input breaks a rule; Message says which
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // credentials valid, action not allowed
	ENOTFOUND     = "not_found"    // no such resource (or not visible to the caller)
	ECONFLICT     = "conflict"     // the resource's state forbids it (duplicate, lost race)
	ETOOLARGE     = "too_large"    // a body, file or value over its limit
	ERATELIMITED  = "rate_limited" // too many attempts; try later
	EUNAVAILABLE  = "unavailable"  // a dependency (database, broker) is down
	EINTERNAL     = "internal"     // a bug or unexpected failure; details are logged only
)

// Error is the one error type of Parley. Code is machine-readable, Message is
// safe to show to the caller, Op names the operation for logs and Err keeps the
// underlying cause (never shown to callers).
type Error struct {
	Code    string
	Op      string
	Message string
	Err     error
}

func (e *Error) Error() string {
	s := e.Code
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, caller-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with code and op that keeps err as its cause.
func WrapError(code, op string, err error) *Error {
	return &Error{Code: code, Op: op, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err. Errors that are not
// *Error (or carry no message) get a generic text, so causes never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Message != "" {
			return e.Message
		}
		if m := defaultMessages[e.Code]; m != "" {
			return m
		}
	}
	return defaultMessages[EINTERNAL]
}

var defaultMessages = map[string]string{
	EINVALID:      "The request is not valid.",
	EUNAUTHORIZED: "Please sign in.",
	EFORBIDDEN:    "You are not allowed to do that.",
	ENOTFOUND:     "Not found.",
	ECONFLICT:     "That conflicts with the current state.",
	ETOOLARGE:     "That is too large.",
	ERATELIMITED:  "Too many attempts. Please wait and try again.",
	EUNAVAILABLE:  "The service is unavailable. Please try again shortly.",
	EINTERNAL:     "Something went wrong on our side.",
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool { return ErrorCode(err) == code }
