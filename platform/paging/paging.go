// Package paging is the one list convention of the API: keyset (cursor)
// pagination in a stable order, (created_at, id), for every collection.
//
// A list operation takes `limit` (1 to MaxLimit, DefaultLimit when absent),
// `cursor` (the `next` of the previous page) and `total` (count every
// matching row, only when asked: counting costs a scan). It answers a Page
// (`items`, `next` while more rows follow, `total` when asked) and the
// same next page as an RFC 8288 `Link: <...>; rel="next"` header.
//
// Keyset rather than offset: a page starts after the last row the client
// saw, so rows inserted or deleted meanwhile never make it skip or repeat
// a row, and a deep page costs an index seek, not a scan of every row
// before it. The order ends with the id, so rows created in the same
// microsecond still have one order.
//
// The package knows neither HTTP libraries nor ent: the service and api
// layers use it; the store's predicate is in paging/keyset.
package paging

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/fault"
)

// Bounds of a page.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ErrInvalidCursor answers a cursor this list did not issue: altered,
// truncated, or taken from another list.
var ErrInvalidCursor = fault.New(fault.Invalid, "invalid_cursor",
	"is not a cursor of this list: pass the `next` of the previous page unchanged, or omit it for the first page").On("query.cursor")

// Cursor is a position in a list: the sort key of the last row of the
// previous page. The zero Cursor is the start of the list.
type Cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == uuid.Nil && c.CreatedAt.IsZero() }

// Before reports whether c sorts before o in the list order.
func (c Cursor) Before(o Cursor) bool {
	if !c.CreatedAt.Equal(o.CreatedAt) {
		return c.CreatedAt.Before(o.CreatedAt)
	}
	return bytes.Compare(c.ID[:], o.ID[:]) < 0
}

// Request is what a list operation asks the service for.
type Request struct {
	Limit int
	// After is where the page starts (exclusive); zero for the first page.
	After Cursor
	// Total asks for the number of every matching row.
	Total bool
}

// Result is one page as the service returns it.
type Result[T any] struct {
	Items []T
	// Next is where the following page starts; nil on the last page.
	Next *Cursor
	// Total is set when the request asked for it.
	Total *int
}

// Trim turns the rows a store fetched with Limit+1 into a page: when the
// extra row came back, more rows follow, and the page's last row is where
// the next page starts. Fetching one more row tells this without a count.
func Trim[T any](rows []T, limit int, at func(T) Cursor) Result[T] {
	if len(rows) <= limit {
		return Result[T]{Items: rows}
	}
	rows = rows[:limit]
	next := at(rows[limit-1])
	return Result[T]{Items: rows, Next: &next}
}

// cursorVersion starts every encoded cursor, so that a later format can
// refuse or translate an older one.
const cursorVersion = 1

// cursorLen is the encoded size: version, microseconds, id, check.
const cursorLen = 1 + 8 + 16 + 4

// Encode returns c as an opaque token for the list named list. The token
// carries a check of its content and of the list's name, so that a token
// that was altered, cut short or taken from another list is refused
// instead of silently starting elsewhere. It is not secret and grants
// nothing: it is a position, and the query behind it is still scoped to
// what the caller may see.
func Encode(list string, c Cursor) string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(c.CreatedAt.UnixMicro())) // #nosec G115 -- a round trip of an int64's bits
	b = append(b, c.ID[:]...)
	b = append(b, check(list, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a token made by Encode for the same list. Anything else is
// ErrInvalidCursor.
func Decode(list, token string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return Cursor{}, ErrInvalidCursor
	}
	body, sum := b[:cursorLen-4], b[cursorLen-4:]
	if !bytes.Equal(sum, check(list, body)) {
		return Cursor{}, ErrInvalidCursor
	}
	micros := int64(binary.BigEndian.Uint64(body[1:9])) // #nosec G115 -- a round trip of an int64's bits
	var id uuid.UUID
	copy(id[:], body[9:])
	c := Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}
	// The check is no signature: a forged cursor can carry any instant,
	// and Postgres refuses timestamps outside years 4713 BC to 294276 AD
	// with an error that is no client's fault. No row is outside 1 to 9999.
	if y := c.CreatedAt.Year(); c.IsZero() || y < 1 || y > 9999 {
		return Cursor{}, ErrInvalidCursor
	}
	return c, nil
}

func check(list string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(list))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)[:4]
}

// Params are the query parameters of every list operation; embed them in
// the operation's input.
type Params struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Page size: 1 to 100 items."`
	Cursor string `query:"cursor" maxLength:"64" doc:"Where the page starts: the \x60next\x60 of the previous page, unchanged. Omit it for the first page." example:"AQAGTPiWCHFAC5osHm8NTVWaPi9rDI1-Ecv7bmU"`
	Total  bool   `query:"total" doc:"Also count every matching item (\x60total\x60 in the answer); costs a count, so ask once rather than on every page."`
}

// Request decodes p for the list named list (the name Encode was given).
func (p Params) Request(list string) (Request, error) {
	r := Request{Limit: p.Limit, Total: p.Total}
	if r.Limit < 1 || r.Limit > MaxLimit {
		r.Limit = DefaultLimit
	}
	if p.Cursor != "" {
		c, err := Decode(list, p.Cursor)
		if err != nil {
			return Request{}, err
		}
		r.After = c
	}
	return r, nil
}

// Page is the body of every list answer. Its schema is named after the
// item type (UserPage for User).
type Page[T any] struct {
	Items []T    `json:"items" nullable:"false" doc:"This page's items, oldest first; [] when there are none."`
	Next  string `json:"next,omitempty" doc:"Pass as \x60cursor\x60 for the next page; absent on the last page." example:"AQAGTPiWCHFAC5osHm8NTVWaPi9rDI1-Ecv7bmU"`
	Total *int   `json:"total,omitempty" doc:"Every matching item, in all pages; only when asked with total=true." example:"42"`
}

// Response is the answer of a list operation: the page, and the next page
// as a Link header too.
type Response[T any] struct {
	Link string `header:"Link" doc:"RFC 8288 link to the next page, rel=\"next\"; absent on the last page." example:"</api/users?cursor=AQAGTPiWCHFAC5osHm8NTVWaPi9rDI1-Ecv7bmU&limit=20>; rel=\"next\""`
	Body Page[T]
}

// Respond converts a service result into the answer of the operation at
// path (the operation's own path, so the link is relative to the API's
// origin), turning each item into its DTO.
func Respond[S, T any](list, path string, req Request, r Result[S], dto func(S) T) *Response[T] {
	out := &Response[T]{Body: Page[T]{Items: make([]T, len(r.Items)), Total: r.Total}}
	for i, v := range r.Items {
		out.Body.Items[i] = dto(v)
	}
	if r.Next != nil {
		out.Body.Next = Encode(list, *r.Next)
		q := url.Values{"cursor": {out.Body.Next}, "limit": {strconv.Itoa(req.Limit)}}
		out.Link = "<" + path + "?" + q.Encode() + `>; rel="next"`
	}
	return out
}
