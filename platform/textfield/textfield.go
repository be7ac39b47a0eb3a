// Package textfield checks the text fields a service accepts, the same way
// in every module, and names each failure with a shared field code.
//
// Lengths are counted in characters (runes), as huma's maxLength and
// Postgres's varchar(n) count them: a limit in bytes would refuse a
// 200-character title in a non-Latin script that the API document allows.
// Control characters are refused (Postgres cannot store NUL, and line
// breaks or escapes in a one-line field only serve to forge output where
// it is shown); a multi-line field keeps line breaks and tabs.
package textfield

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/acme/monolith/platform/fault"
)

// Errors of a text field, reported on the field (fault.Error.Field).
var (
	ErrBlank   = fault.New(fault.Invalid, "blank", "must not be empty or only spaces")
	ErrTooLong = fault.New(fault.Invalid, "too_long", "is longer than its maximum length, counted in characters")
	ErrControl = fault.New(fault.Invalid, "control_characters", "must not contain control characters")
)

// Rule bounds one text field.
type Rule struct {
	// Field names the input field in errors ("title").
	Field string
	// Max is the most characters the field may hold; it must equal the
	// schema's maxLength and the column's size.
	Max int
	// Required refuses an empty value (after the caller trimmed it).
	Required bool
	// Multiline keeps line breaks and tabs.
	Multiline bool
}

// Check returns the first rule v breaks, as an error about r.Field, or nil.
func (r Rule) Check(v string) *fault.Error {
	switch {
	case r.Required && strings.TrimSpace(v) == "":
		return ErrBlank.On(r.Field)
	case utf8.RuneCountInString(v) > r.Max:
		return ErrTooLong.On(r.Field)
	case strings.IndexFunc(v, r.forbidden) >= 0:
		return ErrControl.On(r.Field)
	}
	return nil
}

func (r Rule) forbidden(c rune) bool {
	if r.Multiline && (c == '\n' || c == '\r' || c == '\t') {
		return false
	}
	return unicode.IsControl(c)
}

// Collect gathers the failures among errs (nil entries are fine) into one
// error, so that a client sees every failing field at once; nil when none.
func Collect(errs ...*fault.Error) error {
	var m fault.Multi
	for _, e := range errs {
		if e != nil {
			m = append(m, e)
		}
	}
	return m.Err()
}
