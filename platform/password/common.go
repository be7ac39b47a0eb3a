package password

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/acme/monolith/platform/fault"
)

// commonText is the most common passwords of at least MinLength characters
// (source and licence: COMMON-PASSWORDS-LICENSE.txt). Embedded, so the check
// needs no file or network at run time.
//
//go:embed common-passwords.txt
var commonText string

// ErrCommon rejects a password found in the common-password list.
var ErrCommon = fault.New(fault.Invalid, "password_too_common", "is one of the most commonly used passwords; choose another")

var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 20000)
	for line := range strings.Lines(commonText) {
		if w := strings.TrimRight(line, "\r\n"); w != "" {
			m[w] = struct{}{}
		}
	}
	return m
})

// IsCommon reports whether pw is on the list. The list is lower-case, and so
// is the comparison: "Password1" is as guessable as "password1". The stored
// password itself is never normalised.
func IsCommon(pw string) bool {
	_, ok := common()[strings.ToLower(pw)]
	return ok
}

// CommonCount is the number of passwords on the list.
func CommonCount() int { return len(common()) }
