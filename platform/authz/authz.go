// Package authz holds the permissions modules declare and the sets of
// them an account holds. A module declares its permissions through fx
// (Provide), the way it contributes routes; the platform builds one
// Catalogue of every module's, refusing a malformed or duplicated name at
// start. An operation requires permissions with authn.Resolver.Require,
// and a requirement nobody declared stops the server from starting, so a
// typo is found before any request (not as a 403 that only an admin
// passes).
package authz

import (
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"go.uber.org/fx"
)

// Permission is one thing an account may be allowed to do: a name of the
// form <module>:<action> ("users:write") and a description an
// administrator reads when composing roles.
type Permission struct {
	Name        string
	Description string
}

// MaxNameLen bounds a permission name (ASCII: bytes are characters).
const MaxNameLen = 64

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$`)

// ValidName reports whether name has the form a permission name must
// have: lower-case <module>:<action>, letters, digits, '_' and '-'.
func ValidName(name string) bool {
	return len(name) <= MaxNameLen && namePattern.MatchString(name)
}

// group is the value group declarations join.
const group = "permissions"

// declaration is a permission with the package that declared it, so a
// duplicate names both declarers.
type declaration struct {
	Permission
	by string
}

// Provide declares a module's permissions:
//
//	authz.Provide(
//		authz.Permission{Name: "notes:read", Description: "Read every note"},
//		authz.Permission{Name: "notes:write", Description: "Create, change and delete notes"},
//	)
func Provide(perms ...Permission) fx.Option {
	by := callerPackage()
	decls := make([]declaration, len(perms))
	for i, p := range perms {
		decls[i] = declaration{Permission: p, by: by}
	}
	return fx.Provide(fx.Annotate(func() []declaration { return decls }, fx.ResultTags(`group:"`+group+`,flatten"`)))
}

// callerPackage is the package calling Provide ("?" if unknown).
func callerPackage() string {
	pc, _, _, ok := runtime.Caller(2)
	if !ok {
		return "?"
	}
	fn := runtime.FuncForPC(pc)
	if fn == nil {
		return "?"
	}
	name := fn.Name()
	// pkg/path.Func or pkg/path.init.func1: the package ends at the first
	// dot after the last slash.
	slash := strings.LastIndex(name, "/")
	if dot := strings.Index(name[slash+1:], "."); dot >= 0 {
		return name[:slash+1+dot]
	}
	return name
}

// Catalogue is every permission the application's modules declared,
// sorted by name.
type Catalogue struct {
	perms []Permission
}

// CatalogueParams are the declarations of every module.
type CatalogueParams struct {
	fx.In
	Declared []declaration `group:"permissions"`
}

// NewCatalogue builds the catalogue from every module's declarations; a
// malformed name, a missing description or a name declared twice is an
// error naming the declarers, and the application does not start.
func NewCatalogue(p CatalogueParams) (*Catalogue, error) {
	return build(p.Declared)
}

// New builds a catalogue of perms directly (tests, tools).
func New(perms ...Permission) (*Catalogue, error) {
	decls := make([]declaration, len(perms))
	for i, p := range perms {
		decls[i] = declaration{Permission: p, by: "authz.New"}
	}
	return build(decls)
}

func build(decls []declaration) (*Catalogue, error) {
	seen := map[string]declaration{}
	c := &Catalogue{}
	for _, d := range decls {
		if !ValidName(d.Name) {
			return nil, fmt.Errorf("permission %q (declared by %s): a name is lower-case <module>:<action> (letters, digits, _ and -), at most %d characters",
				d.Name, d.by, MaxNameLen)
		}
		if strings.TrimSpace(d.Description) == "" {
			return nil, fmt.Errorf("permission %s (declared by %s) has no description: administrators read it when composing roles", d.Name, d.by)
		}
		if prev, ok := seen[d.Name]; ok {
			return nil, fmt.Errorf("permission %s is declared twice: by %s (%q) and by %s (%q)",
				d.Name, prev.by, prev.Description, d.by, d.Description)
		}
		seen[d.Name] = d
		c.perms = append(c.perms, d.Permission)
	}
	slices.SortFunc(c.perms, func(a, b Permission) int { return strings.Compare(a.Name, b.Name) })
	return c, nil
}

// All returns every permission, sorted by name.
func (c *Catalogue) All() []Permission {
	if c == nil {
		return nil
	}
	return slices.Clone(c.perms)
}

// Names returns every permission's name, sorted (never nil).
func (c *Catalogue) Names() []string {
	if c == nil {
		return []string{}
	}
	out := make([]string, len(c.perms))
	for i, p := range c.perms {
		out[i] = p.Name
	}
	return out
}

// Has reports whether name was declared.
func (c *Catalogue) Has(name string) bool {
	if c == nil {
		return false
	}
	_, ok := slices.BinarySearchFunc(c.perms, name, func(p Permission, n string) int { return strings.Compare(p.Name, n) })
	return ok
}

// Set is what an account holds: a set of permission names, or all of
// them. "All" is a flag rather than a list so that the built-in admin
// role also holds the permissions of modules added after it was granted.
// The zero Set holds nothing.
type Set struct {
	all   bool
	names []string // sorted, unique
}

// All is the set holding every permission, declared now or later.
func All() Set { return Set{all: true} }

// Of is the set of the given names.
func Of(names ...string) Set {
	s := Set{names: slices.Clone(names)}
	slices.Sort(s.names)
	s.names = slices.Compact(s.names)
	return s
}

// Union is the set holding what any of sets holds: an account's
// permissions are the union of its roles'.
func Union(sets ...Set) Set {
	var names []string
	for _, s := range sets {
		if s.all {
			return All()
		}
		names = append(names, s.names...)
	}
	return Of(names...)
}

// Intersect is the set holding what both a and b hold: an API key's
// effective permissions are its own and its owner's current ones.
func Intersect(a, b Set) Set {
	switch {
	case a.all:
		return b
	case b.all:
		return a
	}
	var names []string
	for _, n := range a.names {
		if b.Has(n) {
			names = append(names, n)
		}
	}
	return Of(names...)
}

// IsAll reports whether s holds every permission.
func (s Set) IsAll() bool { return s.all }

// Has reports whether s holds name.
func (s Set) Has(name string) bool {
	if s.all {
		return true
	}
	_, ok := slices.BinarySearch(s.names, name)
	return ok
}

// Covers reports whether s holds everything o holds; the first name o
// holds and s does not is returned when it does not (for an o that holds
// all, and an s that does not, the name is empty).
func (s Set) Covers(o Set) (bool, string) {
	if s.all {
		return true, ""
	}
	if o.all {
		return false, ""
	}
	for _, n := range o.names {
		if !s.Has(n) {
			return false, n
		}
	}
	return true, ""
}

// Names lists the declared names s holds, sorted: a set holding all
// lists every name in c, and a name no module declares any more (a role
// kept a permission of a removed module) is left out, since no operation
// requires it.
func (s Set) Names(c *Catalogue) []string {
	if s.all {
		return c.Names()
	}
	out := []string{}
	for _, n := range s.names {
		if c.Has(n) {
			out = append(out, n)
		}
	}
	return out
}
