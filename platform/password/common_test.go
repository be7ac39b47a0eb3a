package password

import (
	"errors"
	"testing"
)

func TestCommonPasswordsAreRejected(t *testing.T) {
	if n := CommonCount(); n < 10000 {
		t.Fatalf("common-password list has %d entries, want >= 10000", n)
	}
	for _, pw := range []string{"password", "12345678", "qwertyuiop", "iloveyou", "password1", "Password123", "sunshine", "football1"} {
		if err := Check("password", pw); err == nil || !errors.Is(err, ErrCommon) {
			t.Errorf("%q accepted (err %v)", pw, err)
		}
	}
	// Control: an uncommon passphrase of the same length class passes.
	for _, pw := range []string{"violet tram 93 gulls", "Zq8#mL2!vR7p"} {
		if err := Check("password", pw); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
}
