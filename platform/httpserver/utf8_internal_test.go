package httpserver

import "testing"

// TestValidJSONText covers the escape scanner's edges: an escaped backslash
// before "u" is text, not an escape; pairs must be in order and adjacent.
func TestValidJSONText(t *testing.T) {
	for in, want := range map[string]bool{
		`{"a":"plain"}`:                  true,
		`{"a":"\\ud800"}`:                true, // a backslash, then the letters "ud800"
		`{"a":"\\\ud83d\ude42"}`:         true, // a backslash, then a pair
		`{"a":"\ud83d\ude42"}`:           true,
		`{"a":"\uD83D\uDE42"}`:           true,
		`{"a":"\ud83d\\ude42"}`:          false,
		`{"a":"\ud83d"}`:                 false,
		`{"a":"\ud83d\u0041"}`:           false,
		`{"a":"\ude42"}`:                 false,
		`{"a":"\u12"}`:                   true, // malformed: the decoder's error
		`{"a":"x\`:                       true, // truncated: the decoder's error
		"{\"a\":\"\xed\xa0\x80\"}":       false,
		"{\"a\":\"\xef\xbf\xbd\"}":       true, // U+FFFD itself is a character
		`{"\ud800":1}`:                   false,
		`["\ufffd", "\u00e9", "\u0000"]`: true,
	} {
		if got := validJSONText([]byte(in)); got != want {
			t.Errorf("validJSONText(%s) = %v, want %v", in, got, want)
		}
	}
}
