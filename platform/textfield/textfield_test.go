package textfield_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/textfield"
)

func TestRuleCountsCharactersNotBytes(t *testing.T) {
	title := textfield.Rule{Field: "title", Max: 200, Required: true}
	body := textfield.Rule{Field: "body", Max: 10, Multiline: true}
	for _, c := range []struct {
		rule textfield.Rule
		v    string
		want *fault.Error
	}{
		{title, strings.Repeat("標", 200), nil}, // 600 bytes, 200 characters
		{title, strings.Repeat("é", 200), nil},
		{title, strings.Repeat("標", 201), textfield.ErrTooLong},
		{title, "  ", textfield.ErrBlank},
		{title, "a\nb", textfield.ErrControl},
		{title, "a\x00b", textfield.ErrControl},
		{body, "a\nb\tc\r\n", nil},
		{body, "a\x00", textfield.ErrControl},
		{body, "", nil},
	} {
		got := c.rule.Check(c.v)
		if (got == nil) != (c.want == nil) || (got != nil && (!errors.Is(got, c.want) || got.Field != c.rule.Field)) {
			t.Errorf("%s %q: %v, want %v", c.rule.Field, c.v, got, c.want)
		}
	}
}

func TestCollectReportsEveryField(t *testing.T) {
	if textfield.Collect(nil, nil) != nil {
		t.Fatal("no failure must be nil")
	}
	err := textfield.Collect(textfield.ErrBlank.On("a"), nil, textfield.ErrTooLong.On("b"))
	var m fault.Multi
	if !errors.As(err, &m) || len(m) != 2 {
		t.Fatalf("Collect = %v", err)
	}
}
