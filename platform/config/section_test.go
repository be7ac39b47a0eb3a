package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/platform/config"
)

type sample struct {
	Name    string        `env:"SAMPLE_NAME" envDefault:"fleet" doc:"the name"`
	Count   int           `env:"SAMPLE_COUNT" envDefault:"3" min:"1" max:"10" doc:"how many"`
	Every   time.Duration `env:"SAMPLE_EVERY" envDefault:"1m" min:"1s" max:"1h" doc:"how often"`
	On      bool          `env:"SAMPLE_ON" envDefault:"true" doc:"on or off"`
	Mode    string        `env:"SAMPLE_MODE" envDefault:"fast" oneof:"fast,slow" doc:"the mode"`
	Token   string        `env:"SAMPLE_TOKEN" secret:"true" doc:"a secret"`
	Derived int           // no variable: filled by Validate
}

func (s *sample) Validate(env config.Env) error {
	var p config.Problems
	if env.IsProduction() && s.Token == "" {
		p.Add("SAMPLE_TOKEN", "must be set in production")
	}
	s.Derived = 2 * s.Count
	return p.Err()
}

// TestSectionParsesDefaultsAndValues: the tags give the defaults, set
// values win, empty counts as unset, and Validate runs last.
func TestSectionParsesDefaultsAndValues(t *testing.T) {
	s, err := config.Parse[sample](config.SourceFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "fleet" || s.Count != 3 || s.Every != time.Minute || !s.On || s.Mode != "fast" || s.Derived != 6 {
		t.Fatalf("defaults: %+v", s)
	}
	s, err = config.Parse[sample](config.SourceFrom(map[string]string{"SAMPLE_COUNT": "7", "SAMPLE_ON": "false", "SAMPLE_NAME": "", "SAMPLE_MODE": "slow"}))
	if err != nil || s.Count != 7 || s.On || s.Name != "fleet" || s.Mode != "slow" || s.Derived != 14 {
		t.Fatalf("set values: %+v %v", s, err)
	}
}

// TestSectionErrorsNameTheVariable: a bad type, a value out of bounds or
// out of its set, and a rule of Validate each name the variable; all are
// reported at once, on one line, and never as the Go field name.
func TestSectionErrorsNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"SAMPLE_COUNT: \"many\" is not an integer":                                                           {"SAMPLE_COUNT": "many"},
		"SAMPLE_COUNT: \"11\" is not between 1 and 10":                                                       {"SAMPLE_COUNT": "11"},
		"SAMPLE_EVERY: \"soon\" is not a duration":                                                           {"SAMPLE_EVERY": "soon"},
		"SAMPLE_EVERY: \"-1s\" is not between 1s and 1h":                                                     {"SAMPLE_EVERY": "-1s"},
		"SAMPLE_ON: \"maybe\" is not a boolean":                                                              {"SAMPLE_ON": "maybe"},
		"SAMPLE_MODE: \"warp\" is not one of fast, slow":                                                     {"SAMPLE_MODE": "warp"},
		"SAMPLE_TOKEN: must be set in production":                                                            {"APP_ENV": "production"},
		"SAMPLE_ON: \"x\" is not a boolean (use true or false); SAMPLE_COUNT: \"0\" is not between 1 and 10": {"SAMPLE_COUNT": "0", "SAMPLE_ON": "x"},
	}
	for want, kv := range cases {
		t.Run(want, func(t *testing.T) {
			_, err := config.Parse[sample](config.SourceFrom(kv))
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "Count") {
				t.Fatalf("err = %v, want it to contain %q on one line", err, want)
			}
		})
	}
	if _, err := config.Parse[sample](config.SourceFrom(map[string]string{"APP_ENV": "production", "SAMPLE_TOKEN": "t"})); err != nil {
		t.Fatalf("control: a valid production section is refused: %v", err)
	}
}

// TestSectionDescribesItsVariables: the description is the tags, and a
// variable declared by two sections is refused.
func TestSectionDescribesItsVariables(t *testing.T) {
	d := config.Describe[sample]("sample", "a sample")
	if len(d.Vars) != 6 || d.Vars[1] != (config.Var{Name: "SAMPLE_COUNT", Default: "3", Doc: "how many"}) || !d.Vars[5].Secret {
		t.Fatalf("described: %+v", d.Vars)
	}
	if _, err := config.Ordered([]config.Described{d, config.Describe[sample]("other", "")}); err == nil || !strings.Contains(err.Error(), "SAMPLE_NAME is declared by both") {
		t.Fatalf("duplicate variables: %v", err)
	}
	all, err := config.Registered()
	if err != nil || len(all) == 0 || all[0].Name != "app" {
		t.Fatalf("registered: %v %v", all, err)
	}
}

// TestDotEnv: development reads .env from the working directory, real
// variables win over it, production ignores it, and APP_ENV_FILE names a
// file to read anywhere (missing: a start error naming the variable).
func TestDotEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(".env", "SAMPLE_NAME=from-file\nSAMPLE_COUNT=5\n# a comment\nexport SAMPLE_MODE=slow\n")
	src, err := config.LoadSource([]string{"SAMPLE_COUNT=9"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := config.Parse[sample](src)
	if err != nil || s.Name != "from-file" || s.Count != 9 || s.Mode != "slow" {
		t.Fatalf("development with .env: %+v %v", s, err)
	}
	if src.Origin("SAMPLE_NAME") != ".env" || src.Origin("SAMPLE_COUNT") != config.FromEnv || src.Origin("SAMPLE_EVERY") != config.FromDefault {
		t.Fatalf("origins: %s %s %s", src.Origin("SAMPLE_NAME"), src.Origin("SAMPLE_COUNT"), src.Origin("SAMPLE_EVERY"))
	}

	src, err = config.LoadSource([]string{"APP_ENV=production", "SAMPLE_TOKEN=t"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, set := src.Lookup("SAMPLE_NAME"); set {
		t.Fatalf("production read .env: SAMPLE_NAME=%q", v)
	}

	write("prod.env", "SAMPLE_NAME=from-named-file\n")
	src, err = config.LoadSource([]string{"APP_ENV=production", "APP_ENV_FILE=prod.env"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := src.Lookup("SAMPLE_NAME"); v != "from-named-file" || src.Origin("SAMPLE_NAME") != "prod.env" {
		t.Fatalf("APP_ENV_FILE in production: %q from %s", v, src.Origin("SAMPLE_NAME"))
	}

	// A development .env cannot switch the process to production (it would
	// be production reading a file no setting named), nor name another file.
	write(".env", "APP_ENV=production\nSAMPLE_NAME=from-file\n")
	if _, err := config.LoadSource(nil, dir); err == nil || !strings.Contains(err.Error(), "APP_ENV=production") {
		t.Fatalf(".env setting APP_ENV=production: %v", err)
	}
	if _, err := config.LoadSource([]string{"APP_ENV=production"}, dir); err != nil {
		t.Fatalf("control: production from the environment reads no .env: %v", err)
	}
	write(".env", "APP_ENV_FILE=prod.env\n")
	if _, err := config.LoadSource(nil, dir); err == nil || !strings.Contains(err.Error(), "APP_ENV_FILE") {
		t.Fatalf(".env naming another file: %v", err)
	}
	write(".env", "APP_ENV=development\nSAMPLE_NAME=from-file\n")
	if _, err := config.LoadSource(nil, dir); err != nil {
		t.Fatalf("control: .env saying development: %v", err)
	}

	_, err = config.LoadSource([]string{"APP_ENV_FILE=missing.env"}, dir)
	if err == nil || !strings.HasPrefix(err.Error(), "APP_ENV_FILE: ") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing APP_ENV_FILE: %v", err)
	}
	// Without .env, development reads the environment alone.
	if _, err := config.LoadSource(nil, t.TempDir()); err != nil {
		t.Fatalf("no .env: %v", err)
	}
}
