package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/modules/audit"
	"github.com/acme/monolith/platform/config"
)

// TestRetentionIsBounded: 365 days by default; under a day or over ten
// years is refused, naming the variable.
func TestRetentionIsBounded(t *testing.T) {
	s, err := config.Parse[audit.Settings](config.SourceFrom(map[string]string{}))
	if err != nil || s.Retention != 365*24*time.Hour {
		t.Fatalf("default: %+v %v", s, err)
	}
	for _, v := range []string{"1h", "87601h", "a year"} {
		if _, err := config.Parse[audit.Settings](config.SourceFrom(map[string]string{"AUDIT_RETENTION": v})); err == nil || !strings.Contains(err.Error(), "AUDIT_RETENTION") {
			t.Errorf("AUDIT_RETENTION=%s: %v", v, err)
		}
	}
}
