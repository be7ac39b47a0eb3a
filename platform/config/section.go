package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caarlos0/env/v11"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/buildinfo"
)

// Env is the environment the program runs in: Development or Production.
type Env string

// IsProduction reports whether production's rules apply.
func (e Env) IsProduction() bool { return e == Production }

// Var is one environment variable of a section, as .env.example, the
// docs and `app config` show it.
type Var struct {
	Name string
	// Default is the value used when the variable is unset or empty, as
	// written in .env.example; Shown, when set, is how the docs describe
	// a default that is derived (e.g. "dev: ./var/jwt-signing-key.pem").
	Default string
	Shown   string
	Doc     string
	Secret  bool
}

// Described is a settings section without its values: the variables it
// reads and what they mean. Each section joins the SectionsGroup value
// group, so the documentation and `app config` list every section of the
// application without the platform naming a module.
type Described struct {
	Name  string // "users", "http"...
	About string // one line: what the section configures
	Vars  []Var
	// platform sections come first, in the order the platform lists them.
	platform bool
	rank     int
}

// SectionsGroup is the fx value group of every section's Described.
const SectionsGroup = "config.sections"

// Provide declares a settings section owned by the caller: T is a struct
// whose fields carry `env:"NAME"` and optionally `envDefault:"..."` (where
// {service} stands for buildinfo.Service),
// `doc:"..."`, `secret:"true"`, `min:"..."`/`max:"..."` (numbers and
// durations) and `oneof:"a,b"`. fx gets T, parsed and validated from the
// Source when something first needs it (so a command validates only the
// sections its graph builds), and the section's Described in
// SectionsGroup. A pointer to T may implement Validate(Env) error for
// rules across fields; it may also fill derived values.
func Provide[T any](name, about string) fx.Option {
	d := Describe[T](name, about)
	register(d, func(src *Source) error { _, err := Parse[T](src); return err })
	return fx.Options(
		fx.Provide(func(src *Source) (T, error) { return Parse[T](src) }),
		fx.Provide(fx.Annotate(func() Described { return d }, fx.ResultTags(`group:"`+SectionsGroup+`"`))),
	)
}

var (
	registryMu sync.Mutex
	registry   []Described
	checks     []func(*Source) error
)

// register records a module's section as its package is initialised
// (modules declare their fx.Module in a package variable), so that
// `app config` and the generated files list it without building, let
// alone validating, the application.
func register(d Described, check func(*Source) error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(registry, d)
	checks = append(checks, check)
}

// Check reads every section, the platform's and the modules', and
// reports every invalid variable on one line: `serve` calls it before it
// builds anything, so an operator sees all the problems at once.
func Check(src *Source) error {
	var p Problems
	_, err := LoadSectionsFrom(src.Lookup, AllSections)
	p.merge(err)
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, check := range checks {
		p.merge(check(src))
	}
	return p.Err()
}

// Registered is every section of the program, ordered (Ordered): the
// platform's and each module's that declared one with Provide.
func Registered() ([]Described, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	return Ordered(append(PlatformSections(), registry...))
}

// Validator is implemented by a section (on its pointer) with rules
// beyond one variable's type and bounds.
type Validator interface {
	Validate(env Env) error
}

// Describe lists T's variables. A malformed tag is a programming error
// and panics when the section is declared.
func Describe[T any](name, about string) Described {
	d := Described{Name: name, About: about}
	for _, f := range fields(reflect.TypeFor[T]()) {
		d.Vars = append(d.Vars, Var{
			Name:    f.name,
			Default: defaultOf(f.tag),
			Shown:   f.tag.Get("shown"),
			Doc:     f.tag.Get("doc"),
			Secret:  f.tag.Get("secret") == "true",
		})
	}
	return d
}

type field struct {
	name  string
	index int
	typ   reflect.Type
	tag   reflect.StructTag
}

// fields are the struct's fields that name a variable.
func fields(t reflect.Type) []field {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: a section is a struct, not %s", t))
	}
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("env"), ",")
		if name == "" {
			continue
		}
		out = append(out, field{name: name, index: i, typ: sf.Type, tag: sf.Tag})
	}
	return out
}

// Parse reads T from src, checks each variable's type and bounds, then
// T's own rules. Every problem names its variable; all of them are
// reported at once, on one line.
func Parse[T any](src *Source) (T, error) {
	var v T
	fs := fields(reflect.TypeFor[T]())
	byField := map[string]string{}
	for _, f := range fs {
		byField[reflect.TypeFor[T]().Field(f.index).Name] = f.name
	}
	var p Problems
	err := env.ParseWithOptions(&v, env.Options{Environment: withServiceDefaults(src.vars, fs)})
	if err != nil {
		var agg env.AggregateError
		if !errors.As(err, &agg) {
			return v, fmt.Errorf("read settings: %w", err)
		}
		for _, e := range agg.Errors {
			var pe env.ParseError
			if errors.As(e, &pe) {
				name := byField[pe.Name]
				raw, _ := src.Lookup(name)
				p.Add(name, fmt.Sprintf("%q is not %s", raw, kindName(pe.Type)))
				continue
			}
			p.errs = append(p.errs, e)
		}
	}
	rv := reflect.ValueOf(&v).Elem()
	for _, f := range fs {
		if msg := checkBounds(rv.Field(f.index), f.tag); msg != "" {
			raw, _ := src.Lookup(f.name)
			if raw == "" {
				raw = defaultOf(f.tag)
			}
			p.Add(f.name, fmt.Sprintf("%q %s", raw, msg))
		}
	}
	if p.Err() == nil {
		if val, ok := any(&v).(Validator); ok {
			p.merge(val.Validate(src.Env()))
		}
	}
	return v, p.Err()
}

// ServicePlaceholder in an envDefault tag is replaced by the service's
// name, so a default derived from it (an issuer, an audience) is written
// as "{service}-api" rather than as a copy of the name.
const ServicePlaceholder = "{service}"

func defaultOf(tag reflect.StructTag) string {
	return strings.ReplaceAll(tag.Get("envDefault"), ServicePlaceholder, buildinfo.Service)
}

// withServiceDefaults gives caarlos0/env, which reads envDefault itself,
// the expanded default of each unset variable whose default names the
// service.
func withServiceDefaults(vars map[string]string, fs []field) map[string]string {
	var out map[string]string
	for _, f := range fs {
		if !strings.Contains(f.tag.Get("envDefault"), ServicePlaceholder) || vars[f.name] != "" {
			continue
		}
		if out == nil {
			out = maps.Clone(vars)
		}
		out[f.name] = defaultOf(f.tag)
	}
	if out == nil {
		return vars
	}
	return out
}

func kindName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 30s or 15m"
	case t.Kind() == reflect.Bool:
		return "a boolean (use true or false)"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return "a valid " + t.String()
}

// checkBounds applies the min, max and oneof tags; "" when v is within.
func checkBounds(v reflect.Value, tag reflect.StructTag) string {
	lo, hasLo := tag.Lookup("min")
	hi, hasHi := tag.Lookup("max")
	if allowed, ok := tag.Lookup("oneof"); ok && v.Kind() == reflect.String {
		if !strings.Contains(","+allowed+",", ","+v.String()+",") {
			return "is not one of " + strings.ReplaceAll(allowed, ",", ", ")
		}
	}
	if !hasLo && !hasHi {
		return ""
	}
	var n, l, h float64
	parse := func(s string) float64 {
		if v.Type() == reflect.TypeFor[time.Duration]() {
			d, err := time.ParseDuration(s)
			if err != nil {
				panic(fmt.Sprintf("config: bound %q is not a duration", s))
			}
			return float64(d)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			panic(fmt.Sprintf("config: bound %q is not a number", s))
		}
		return f
	}
	switch {
	case v.CanInt():
		n = float64(v.Int())
	case v.CanUint():
		n = float64(v.Uint())
	case v.CanFloat():
		n = v.Float()
	default:
		panic(fmt.Sprintf("config: min/max on a %s", v.Type()))
	}
	l, h = n, n
	if hasLo {
		l = parse(lo)
	}
	if hasHi {
		h = parse(hi)
	}
	if n >= l && n <= h {
		return ""
	}
	switch {
	case hasLo && hasHi:
		return fmt.Sprintf("is not between %s and %s", lo, hi)
	case hasLo:
		return "is less than " + lo
	default:
		return "is more than " + hi
	}
}

// Problems collects a section's invalid values, each naming its variable.
type Problems struct{ errs []error }

// Add records that the variable name is invalid, and why.
func (p *Problems) Add(name, msg string) { p.errs = append(p.errs, fmt.Errorf("%s: %s", name, msg)) }

func (p *Problems) merge(err error) {
	var inv invalid
	switch {
	case err == nil:
	case errors.As(err, &inv):
		p.errs = append(p.errs, inv...)
	default:
		p.errs = append(p.errs, err)
	}
}

// Err is every problem on one line, or nil.
func (p *Problems) Err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return invalid(p.errs)
}
