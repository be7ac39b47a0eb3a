package testkit

import "testing"

// SetT lets a test observe what a Response reports (for Expect's control).
func SetT(r *Response, t testing.TB) { r.t = t }

// DialectsFrom is how TEST_DIALECTS is read.
var DialectsFrom = dialectsFrom
