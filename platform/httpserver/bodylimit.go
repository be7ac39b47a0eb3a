package httpserver

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// fasthttp reads a whole request body into memory before any handler runs,
// so the limit that matters is the one it applies while reading. A single
// server-wide limit had to fit the largest route and let every stalled
// connection hold that much; here each operation has its own, applied from
// the headers (HeaderReceived) before a byte of the body is read: an
// oversized Content-Length is a 413 at once, and a chunked body is cut off
// at the limit.

// bodyLimitKey marks, in an operation's Metadata, a limit chosen with
// WithBodyLimit.
const bodyLimitKey = "httpserver.bodyLimit"

// humaDefaultMaxBody is what huma puts in MaxBodyBytes when an operation
// leaves it zero; we replace it with HTTP_BODY_LIMIT.
const humaDefaultMaxBody = 1 << 20

// WithBodyLimit sets the largest request body op accepts, in bytes, in
// place of HTTP_BODY_LIMIT (64 KiB by default, ample for the JSON API).
// A module raises it only for its own operations that take large bodies:
//
//	huma.Register(api, httpserver.WithBodyLimit(huma.Operation{...}, 4<<20), h)
//
// Each open connection may hold up to this much while its body arrives,
// so raise it no more than the operation needs. Setting MaxBodyBytes
// directly is refused at registration: the limit must be seen by the edge,
// not only by huma after the body has been read.
func WithBodyLimit(op huma.Operation, n int64) huma.Operation {
	if n <= 0 {
		panic(fmt.Sprintf("httpserver.WithBodyLimit(%s): the limit must be positive", op.OperationID))
	}
	op.MaxBodyBytes = n
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[bodyLimitKey] = n
	return op
}

// bodyLimits maps each registered operation to its body limit.
type bodyLimits struct {
	def    int64
	routes map[string][]routeLimit // by method
	max    int64
}

type routeLimit struct {
	segments []string // lower case; "" matches any one segment (a path parameter)
	literals int      // segments that are not parameters: the more, the more specific
	limit    int64
}

func newBodyLimits(def int64) *bodyLimits {
	return &bodyLimits{def: def, routes: map[string][]routeLimit{}, max: def}
}

// onAddOperation is a huma OnAddOperation hook: it settles the operation's
// limit (huma enforces it again after reading) and records it for the
// edge.
func (b *bodyLimits) onAddOperation(_ *huma.OpenAPI, op *huma.Operation) {
	limit := b.def
	switch n, chosen := op.Metadata[bodyLimitKey].(int64); {
	case chosen:
		limit = n
	case op.MaxBodyBytes != 0 && op.MaxBodyBytes != humaDefaultMaxBody:
		panic(fmt.Sprintf("operation %s sets MaxBodyBytes directly: use httpserver.WithBodyLimit so the limit applies before the body is read", op.OperationID))
	}
	// huma refuses a body of exactly MaxBodyBytes; the edge accepts up to
	// limit bytes inclusive. One more keeps the two in agreement.
	op.MaxBodyBytes = limit + 1
	r := routeLimit{limit: limit}
	for _, seg := range strings.Split(strings.Trim(op.Path, "/"), "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			seg = ""
		} else {
			r.literals++
		}
		r.segments = append(r.segments, strings.ToLower(seg))
	}
	b.routes[op.Method] = append(b.routes[op.Method], r)
	b.max = max(b.max, limit)
}

// lookup is the limit for a request line's method and target. Routing is
// case-insensitive and ignores a trailing slash, as fiber's is. A target
// that matches no operation gets the default (it will be a 404 or 405).
func (b *bodyLimits) lookup(method, target []byte) int64 {
	routes := b.routes[string(method)]
	if len(routes) == 0 {
		return b.def
	}
	path := requestPath(target)
	var best *routeLimit
	for i := range routes {
		r := &routes[i]
		if r.matches(path) && (best == nil || r.literals > best.literals || r.literals == best.literals && r.limit > best.limit) {
			best = r
		}
	}
	if best == nil {
		return b.def
	}
	return best.limit
}

func (r *routeLimit) matches(path string) bool {
	rest := path
	for i, seg := range r.segments {
		part := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			part, rest = rest[:j], rest[j+1:]
		} else {
			rest = ""
			if i < len(r.segments)-1 {
				return false
			}
		}
		if seg == "" && part == "" || seg != "" && !strings.EqualFold(seg, part) {
			return false
		}
	}
	return rest == ""
}

// requestPath is the decoded path of a request target (origin-form or
// absolute-form), without the leading and trailing slash.
func requestPath(target []byte) string {
	if i := bytes.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if i := bytes.Index(target, []byte("://")); i >= 0 {
		target = target[i+3:]
		if j := bytes.IndexByte(target, '/'); j >= 0 {
			target = target[j:]
		} else {
			target = nil
		}
	}
	p := string(target)
	if strings.IndexByte(p, '%') >= 0 {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
	}
	return strings.Trim(p, "/")
}
