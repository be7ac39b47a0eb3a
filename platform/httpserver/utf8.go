package httpserver

import (
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/acme/monolith/platform/problem"
)

// codeInvalidUTF8 is the problem code for text that is not UTF-8.
var codeInvalidUTF8 = problem.Declare(fiber.StatusBadRequest, "invalid_utf8",
	"The request contains text that is not valid UTF-8 (RFC 8259 §8.1); nothing was changed.")

// refuseInvalidUTF8 checks, before any handler, that the text a request
// carries is Unicode: the decoded path and query parameters, a JSON body
// (raw bytes, and \u escapes that name lone surrogates) and a form body
// after percent-decoding. Go's JSON decoder, like most, replaces such
// bytes with U+FFFD without an error, so a client's "\xff" used to be
// stored as "�". Other media types (a future upload) are not text and are
// left alone; so are header values (RFC 9110 allows obs-text there).
func refuseInvalidUTF8(oauth map[string]bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if validText(c) {
			return c.Next()
		}
		if oauth[c.Path()] {
			// OAuth2 clients parse RFC 6749 §5.2 errors, not problem JSON.
			return writeOAuthError(c, fiber.StatusBadRequest, "The request contains text that is not valid UTF-8.")
		}
		return codeInvalidUTF8.New()
	}
}

func validText(c *fiber.Ctx) bool {
	req := c.Request()
	if !utf8.Valid(req.URI().Path()) {
		return false
	}
	for k, v := range req.URI().QueryArgs().All() {
		if !utf8.Valid(k) || !utf8.Valid(v) {
			return false
		}
	}
	body := req.Body()
	if len(body) == 0 {
		return true
	}
	ct := string(req.Header.ContentType())
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		// huma decodes a body without a media type as JSON.
		return validJSONText(body)
	case err != nil:
		return true // refused as unsupported by the operation
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return validJSONText(body)
	case mt == "application/x-www-form-urlencoded":
		// Malformed escapes are the handler's to refuse; what decodes
		// must be text.
		form, _ := url.ParseQuery(string(body))
		for k, vs := range form {
			if !utf8.ValidString(k) {
				return false
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					return false
				}
			}
		}
	}
	return true
}

// validJSONText reports whether a JSON text is UTF-8 and its \u escapes
// name no lone surrogate (RFC 8259 §8.2: such strings are not Unicode).
// A backslash outside a string is a syntax error the decoder reports, so
// every backslash seen here starts an escape.
func validJSONText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++
		if i >= len(b) || b[i] != 'u' {
			continue // \" \\ \n ...; a trailing backslash is the decoder's error
		}
		r, ok := hex4(b[i+1:])
		if !ok {
			continue
		}
		i += 4
		switch {
		case r >= 0xdc00 && r <= 0xdfff:
			return false // a low surrogate with no high one before it
		case r >= 0xd800 && r <= 0xdbff:
			// A high surrogate must be followed by an escaped low one.
			if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(b[i+3:])
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 decodes the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
