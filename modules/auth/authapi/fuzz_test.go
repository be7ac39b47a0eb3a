package authapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzDecodeForm: the token endpoint's form decoding never panics, and
// either refuses the request with a 400 invalid_request or returns
// parameters that each occur once. Seeds: testdata/fuzz/FuzzDecodeForm.
func FuzzDecodeForm(f *testing.F) {
	f.Add("", "application/x-www-form-urlencoded", "grant_type=password&username=a%40b.c&password=x")
	f.Fuzz(func(t *testing.T, rawQuery, contentType, body string) {
		form, err := decodeForm(rawQuery, contentType, strings.NewReader(body))
		if err != nil {
			oerr := answerOf(err)
			if form != nil || oerr.status != http.StatusBadRequest || oerr.body.Error != "invalid_request" || oerr.body.ErrorDescription == "" {
				t.Fatalf("bad refusal: %+v %v", oerr, form)
			}
			return
		}
		if rawQuery != "" || len(body) > maxFormBytes {
			t.Fatalf("accepted query %q / %d-byte body", rawQuery, len(body))
		}
		for k, v := range form {
			if len(v) != 1 {
				t.Fatalf("parameter %q repeated: %v", k, v)
			}
		}
		// The accepted form is what url.ParseQuery makes of the body.
		want, err := url.ParseQuery(body)
		if err != nil || len(want) != len(form) {
			t.Fatalf("form %v differs from %v (%v)", form, want, err)
		}
	})
}
