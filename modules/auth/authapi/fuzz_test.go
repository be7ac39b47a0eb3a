package authapi

import (
	"encoding/base64"
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

// FuzzBasicCredentials: decoding a client's HTTP Basic header never
// panics; it either refuses with invalid_client, ignores the header (not
// Basic, or the empty pair), or returns the form-unescaped pair it holds.
func FuzzBasicCredentials(f *testing.F) {
	f.Add("Basic d2ViOg==")
	f.Add("Basic " + "YmFja2VuZDpzM2NyJTNBdA==")
	f.Add("Basic Og==")
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, ok, err := basicCredentials(h)
		if err != nil {
			if e := answerOf(err); e.status != http.StatusUnauthorized || e.body.Error != "invalid_client" || e.challenge == "" || ok {
				t.Fatalf("bad refusal of %q: %+v", h, e)
			}
			return
		}
		if !ok {
			if id != "" || secret != "" {
				t.Fatalf("ignored %q but returned %q:%q", h, id, secret)
			}
			return
		}
		if id == "" && secret == "" {
			t.Fatalf("the empty pair of %q was not ignored", h)
		}
		// Encoding what was returned, as RFC 6749 §2.3.1 asks, and
		// decoding it again gives the same pair.
		again := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		if id2, secret2, ok2, err2 := basicCredentials(again); err2 != nil || !ok2 || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q:%q gave %q:%q %v %v", id, secret, id2, secret2, ok2, err2)
		}
	})
}
