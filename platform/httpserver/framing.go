package httpserver

import (
	"bytes"
	"errors"
	"net"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/problem"
)

// fasthttp's header parser is lenient where RFC 9112 is strict: it keeps
// the last of several Host lines, accepts a missing Host, whitespace before
// a colon, obs-fold and bare LF line ends, and answers a request that has
// both Content-Length and Transfer-Encoding without closing the connection.
// A proxy in front that reads the same bytes differently is how requests
// get smuggled, so the raw header section is checked again here, before
// the body is read (headerReceived) and before any handler runs
// (strictFraming). A request that fails is answered 400 and its connection
// closed, so nothing sent behind it on that connection is ever served.

// framingError says which rule a request broke; its text is ours, never
// the request's bytes.
type framingError string

func (e framingError) Error() string { return string(e) }

// codeInvalidFraming is the problem code of every framing refusal.
var codeInvalidFraming = problem.Declare(fiber.StatusBadRequest, "invalid_framing",
	"The request is not valid HTTP/1.1 (RFC 9112); the connection is closed.")

// checkFraming validates a request's raw header section (the bytes after
// the request line, up to and including the empty line) against RFC 9112.
func checkFraming(raw, protocol []byte) error {
	http11 := bytes.Equal(protocol, []byte("HTTP/1.1"))
	if !http11 && !bytes.Equal(protocol, []byte("HTTP/1.0")) {
		return framingError("HTTP version other than 1.0 or 1.1")
	}
	var hosts, lengths, codings int
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return framingError("unterminated header section")
		}
		line := raw[:i]
		raw = raw[i+1:]
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return framingError("header line not ended by CRLF") // §2.2: bare LF
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			break
		}
		if bytes.IndexByte(line, '\r') >= 0 {
			return framingError("bare CR in a header line") // §2.2
		}
		if line[0] == ' ' || line[0] == '\t' {
			return framingError("obs-fold line") // §5.2
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return framingError("header line without a field name")
		}
		name := line[:colon]
		if !isToken(name) {
			return framingError("invalid field name (whitespace before the colon?)") // §5.1
		}
		value := bytes.Trim(line[colon+1:], " \t")
		switch {
		case bytes.EqualFold(name, []byte("Host")):
			hosts++
		case bytes.EqualFold(name, []byte("Content-Length")):
			lengths++
			if !isDigits(value) {
				return framingError("invalid Content-Length") // §6.3
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			codings++
			if !bytes.EqualFold(value, []byte("chunked")) {
				return framingError("Transfer-Encoding other than chunked") // §6.1, §7
			}
		}
	}
	switch {
	case hosts > 1:
		return framingError("more than one Host") // §3.2
	case hosts == 0 && http11:
		return framingError("no Host") // §3.2
	case lengths > 1:
		return framingError("more than one Content-Length") // §6.3
	case codings > 0 && lengths > 0:
		return framingError("both Content-Length and Transfer-Encoding") // §6.1
	case codings > 1:
		return framingError("more than one Transfer-Encoding")
	case codings > 0 && !http11:
		return framingError("Transfer-Encoding in an HTTP/1.0 request") // §6.1
	}
	return nil
}

// isToken reports whether b is an RFC 9110 §5.6.2 token (a field name).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChar[c] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isDigits: Content-Length = 1*DIGIT, short enough not to overflow.
func isDigits(b []byte) bool {
	if len(b) == 0 || len(b) > 18 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// strictFraming refuses, before any handler, a request whose header
// section breaks RFC 9112, and closes its connection.
func strictFraming() fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := &c.Request().Header
		if err := checkFraming(h.RawHeaders(), h.Protocol()); err != nil {
			c.Response().SetConnectionClose()
			logging.FromContext(c.UserContext()).Info("request refused: invalid framing", zap.String("reason", err.Error()))
			return codeInvalidFraming.New()
		}
		return c.Next()
	}
}

// parseErrorHandler answers the requests fasthttp itself could not parse
// (its ErrorHandler, called before fiber and our middleware): problem JSON
// with a fixed detail, because fasthttp's messages quote the raw request,
// credentials included; and the security headers, which would otherwise
// come from a middleware that never ran. fasthttp closes the connection
// after this response.
func (s *Server) parseErrorHandler(fctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, net.ErrClosed) {
		return // closed by the drain before a request arrived: no one to answer
	}
	code, reason := classifyParseError(err)
	s.refuseBeforeRouting(fctx, code, reason)
}

// refuseBeforeRouting answers a request that no middleware will see, with
// the security headers they would have set, and closes the connection.
func (s *Server) refuseBeforeRouting(fctx *fasthttp.RequestCtx, code problem.Code, reason string) {
	c := s.app.AcquireCtx(fctx)
	defer s.app.ReleaseCtx(c)
	status := code.Status
	id := newRequestID()
	c.Set(RequestIDHeader, id)
	setSecurityHeaders(c, s.hsts)
	c.Set(fiber.HeaderCacheControl, noStore)
	c.Response().SetConnectionClose()
	s.log.Info("request refused before routing", zap.String("request_id", id), zap.Int("status", status),
		zap.String("reason", reason), zap.String("remote_ip", peerAddr(fctx.RemoteAddr()).String()))
	if status == fiber.StatusRequestEntityTooLarge && s.oauth[c.Path()] {
		_ = writeOAuthError(c, status, "The body is too large.")
		return
	}
	p := code.New()
	p.RequestID = id
	_ = c.Status(status).JSON(p, problem.ContentType)
}

// knownMethods are the methods fiber routes (its default set).
var knownMethods = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range fiber.DefaultMethods {
		m[k] = true
	}
	return m
}()

// refuseUnknownMethods wraps fiber's handler: fiber answers a method it
// does not know ("FOO") with a plain-text 400 before any middleware runs.
// RFC 9110 §9.1 asks for 501, and every error here is problem JSON.
func (s *Server) refuseUnknownMethods(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(fctx *fasthttp.RequestCtx) {
		if !knownMethods[string(fctx.Method())] {
			s.refuseBeforeRouting(fctx, problem.CodeNotImplemented, "unknown method")
			return
		}
		next(fctx)
	}
}

// classifyParseError maps fasthttp's read errors to a declared code and a
// log reason, neither of which quotes the request.
func classifyParseError(err error) (code problem.Code, reason string) {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		return problem.CodeHeadersTooLarge, "headers too large"
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return problem.CodeBodyTooLarge, "body too large"
	case errors.As(err, &ne) && ne.Timeout():
		return problem.CodeRequestTimeout, "read timeout"
	case errors.Is(err, fasthttp.ErrDuplicateContentLength):
		return codeInvalidFraming, "more than one Content-Length"
	case errors.Is(err, fasthttp.ErrUnsupportedTransferEncoding):
		return codeInvalidFraming, "unsupported Transfer-Encoding"
	default:
		return codeInvalidFraming, "unparseable request"
	}
}
