package httpserver

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/acme/monolith/platform/problem"
)

// routeTable answers which route a request path addresses and which
// methods that route has, for 405 and its Allow header.
//
// fiber answers a wrong method by matching the path against every route of
// every other method, so PUT /api/users/me listed DELETE, the method of
// /api/users/{id}, and DELETE /api/users/me reached delete-user with the id
// "me". Here a path addresses one route, as in OpenAPI (a concrete segment
// wins over a parameter: /api/users/me is not /api/users/{id}), and a
// method that route lacks is a 405 whose Allow lists the route's methods.
type routeTable struct {
	root *routeNode
}

type routeNode struct {
	static map[string]*routeNode // by lower-cased segment: fiber is case-insensitive
	param  *routeNode
	// methods of the route that ends here (nil: no route ends here), and
	// the Allow header listing them.
	methods []string
	allow   string
}

// methodOrder is the order of methods in Allow.
var methodOrder = []string{
	fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
	fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace,
}

// newRouteTable indexes fiber's routes (not its middleware): huma's
// operations and the server's own (probes, docs).
func newRouteTable(routes []fiber.Route) *routeTable {
	t := &routeTable{root: &routeNode{}}
	for _, r := range routes {
		if strings.ContainsAny(r.Path, "*+?") {
			continue // wildcards and optional parameters: left to fiber
		}
		n := t.root
		for seg := range segments(r.Path) {
			if strings.HasPrefix(seg, ":") {
				if n.param == nil {
					n.param = &routeNode{}
				}
				n = n.param
				continue
			}
			seg = strings.ToLower(seg)
			if n.static == nil {
				n.static = map[string]*routeNode{}
			}
			next := n.static[seg]
			if next == nil {
				next = &routeNode{}
				n.static[seg] = next
			}
			n = next
		}
		if !slices.Contains(n.methods, r.Method) {
			n.methods = append(n.methods, r.Method)
		}
	}
	t.root.finish()
	return t
}

func (n *routeNode) finish() {
	if n.methods != nil {
		slices.SortFunc(n.methods, func(a, b string) int {
			return slices.Index(methodOrder, a) - slices.Index(methodOrder, b)
		})
		n.allow = strings.Join(n.methods, ", ")
	}
	for _, c := range n.static {
		c.finish()
	}
	if n.param != nil {
		n.param.finish()
	}
}

// segments yields the non-empty segments of a path; a trailing slash is
// ignored, as fiber's routing (StrictRouting off) ignores it.
func segments(path string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for path != "" {
			path = strings.TrimLeft(path, "/")
			if path == "" {
				return
			}
			seg := path
			if i := strings.IndexByte(path, '/'); i >= 0 {
				seg, path = path[:i], path[i:]
			} else {
				path = ""
			}
			if !yield(seg) {
				return
			}
		}
	}
}

// lookup returns the route a path addresses: concrete segments first, a
// parameter only where no concrete route matches the rest. Like fiber's
// routing, trailing slashes are ignored and nothing else is normalised
// (an empty segment matches no route).
func (t *routeTable) lookup(path string) *routeNode {
	path = strings.TrimRight(path, "/")
	if path == "" {
		return t.root.match("", true)
	}
	if path[0] != '/' {
		return nil
	}
	return t.root.match(path[1:], false)
}

// match resolves the segments in rest ("a/b/c"); end says none is left.
func (n *routeNode) match(rest string, end bool) *routeNode {
	if end {
		if n.methods == nil {
			return nil
		}
		return n
	}
	seg, tail, more := strings.Cut(rest, "/")
	if seg == "" {
		return nil
	}
	if child := n.static[seg]; child != nil {
		if m := child.match(tail, !more); m != nil {
			return m
		}
	} else if hasUpper(seg) {
		for name, child := range n.static {
			if strings.EqualFold(name, seg) {
				if m := child.match(tail, !more); m != nil {
					return m
				}
				break
			}
		}
	}
	if n.param != nil {
		return n.param.match(tail, !more)
	}
	return nil
}

// refuseWrongMethod answers a method the addressed route lacks with 405
// and that route's methods in Allow, before any handler (or a route of
// another path that the method would have matched) runs. Paths no route
// addresses go on to fiber's 404.
func (s *Server) refuseWrongMethod() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.routes == nil {
			return c.Next()
		}
		n := s.routes.lookup(c.Path())
		if n == nil || slices.Contains(n.methods, c.Method()) {
			return c.Next()
		}
		c.Set(fiber.HeaderAllow, n.allow)
		return problem.CodeMethodNotAllowed.New()
	}
}

// allowFor is the Allow header of the route a path addresses ("" when no
// route does).
func (s *Server) allowFor(path string) string {
	if s.routes == nil {
		return ""
	}
	if n := s.routes.lookup(path); n != nil {
		return n.allow
	}
	return ""
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 0x80 {
			return true
		}
	}
	return false
}
