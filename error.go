// Package constancia holds the domain error type shared by every package of
// the service. Libraries (ocr, fraud, matcher, storage) return *Error values
// with a stable Code; the HTTP edge in cmd/ maps codes to statuses and shows
// only the public Message to clients.
package constancia

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the API: clients switch on them.
const (
	EINVALID     = "invalid"     // the input is malformed or fails validation
	EUNSUPPORTED = "unsupported" // the input is well formed but of a kind we do not handle
	ETOOLARGE    = "too_large"   // the input exceeds a configured size or pixel limit
	ECORRUPT     = "corrupt"     // the input claims a format but cannot be decoded
	ENOTFOUND    = "not_found"   // the referenced thing does not exist
	ECONFLICT    = "conflict"    // the request conflicts with stored state
	EUNAVAILABLE = "unavailable" // a dependency is down or the queue is full
	EINTERNAL    = "internal"    // a bug or an unexpected failure; details are logged only
)

// Error is the one error type of constancia. Message is safe to show to a
// client; Err carries the underlying cause for logs.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted public message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and public message, keeping err as cause.
func Wrap(err error, code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the public message of err: the Message of the first
// *Error in its chain, or "internal error" for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
