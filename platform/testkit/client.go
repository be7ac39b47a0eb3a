package testkit

import (
	"net/http"
	"testing"
)

// Client sends requests with one bearer token (one signed-in user): a
// fixture helper that keeps each step of a test to one line.
type Client struct {
	app   *App
	token string
}

// AsBearer returns a client that sends token as its bearer token.
func (a *App) AsBearer(token string) *Client { return &Client{app: a, token: token} }

// Anonymous returns a client that sends no token.
func (a *App) Anonymous() *Client { return &Client{app: a} }

// Do sends a request as the client's user (see App.Do for body).
func (c *Client) Do(method, path string, body any) *Response {
	c.app.t.Helper()
	if c.token == "" {
		return c.app.Do(method, path, body)
	}
	return c.app.Do(method, path, body, Bearer(c.token))
}

// Get sends GET path.
func (c *Client) Get(path string) *Response {
	c.app.t.Helper()
	return c.Do(http.MethodGet, path, nil)
}

// Post sends POST path with body.
func (c *Client) Post(path string, body any) *Response {
	c.app.t.Helper()
	return c.Do(http.MethodPost, path, body)
}

// Patch sends PATCH path with body.
func (c *Client) Patch(path string, body any) *Response {
	c.app.t.Helper()
	return c.Do(http.MethodPatch, path, body)
}

// Put sends PUT path with body (nil: none).
func (c *Client) Put(path string, body any) *Response {
	c.app.t.Helper()
	return c.Do(http.MethodPut, path, body)
}

// Delete sends DELETE path.
func (c *Client) Delete(path string) *Response {
	c.app.t.Helper()
	return c.Do(http.MethodDelete, path, nil)
}

// Expect fails the test unless the response has status, and returns the
// response for chaining: app.As(u).Get(p).Expect(200).JSON(t, &v).
func (r *Response) Expect(status int) *Response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("status = %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// Create POSTs body to path as the client's user, requires 201 Created and
// decodes the answer into out (if not nil): the one-line fixture.
func (c *Client) Create(t testing.TB, path string, body, out any) {
	t.Helper()
	res := c.Post(path, body).Expect(http.StatusCreated)
	if out != nil {
		res.JSON(t, out)
	}
}
