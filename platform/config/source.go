package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/joho/godotenv"
)

// EnvFileVar names a file of variables to read in any environment;
// without it, development reads DotEnv from the working directory if it
// exists and production reads no file.
const EnvFileVar = "APP_ENV_FILE"

// DotEnv is the development file of variables (`cp .env.example .env`).
const DotEnv = ".env"

// Where a value comes from, as `app config` prints it.
const (
	FromEnv     = "env"
	FromDefault = "default"
)

// Source is the environment settings are read from: the process
// environment over, in development, a .env file. Real variables always
// win over the file's.
type Source struct {
	vars   map[string]string
	origin map[string]string // a variable set by the file: its path
}

// NewSource reads the process environment and the file it selects.
func NewSource() (*Source, error) { return LoadSource(os.Environ(), ".") }

// LoadSource reads environ (KEY=value lines) and the file they select,
// relative to dir.
func LoadSource(environ []string, dir string) (*Source, error) {
	s := &Source{vars: map[string]string{}, origin: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			s.vars[k] = v
		}
	}
	path, required := s.vars[EnvFileVar], true
	if path == "" {
		if s.Env().IsProduction() {
			return s, nil
		}
		path, required = DotEnv, false
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	file, err := godotenv.Read(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("%s: read %s: %w", EnvFileVar, path, err)
	}
	name := filepath.Base(path)
	// A development .env cannot turn the process into production: that
	// would be production reading a file no setting named.
	if v := file["APP_ENV"]; !required && s.vars["APP_ENV"] == "" && Env(v).IsProduction() {
		return nil, fmt.Errorf("%s sets APP_ENV=%s: production reads no file unless %s names it; set APP_ENV in the environment", path, v, EnvFileVar)
	}
	if _, ok := file[EnvFileVar]; ok {
		return nil, fmt.Errorf("%s sets %s: set it in the environment, not in a file", path, EnvFileVar)
	}
	for k, v := range file {
		if _, set := s.vars[k]; !set {
			s.vars[k] = v
			s.origin[k] = name
		}
	}
	return s, nil
}

// SourceFrom is a Source holding exactly vars (tests).
func SourceFrom(vars map[string]string) *Source {
	s := &Source{vars: map[string]string{}, origin: map[string]string{}}
	for k, v := range vars {
		s.vars[k] = v
	}
	return s
}

// With returns a copy of s with vars set over it.
func (s *Source) With(vars map[string]string) *Source {
	c := SourceFrom(s.vars)
	for k, v := range s.origin {
		c.origin[k] = v
	}
	for k, v := range vars {
		c.vars[k] = v
		delete(c.origin, k)
	}
	return c
}

// Lookup is os.LookupEnv over the source.
func (s *Source) Lookup(name string) (string, bool) {
	v, ok := s.vars[name]
	return v, ok
}

// Origin says where name's value comes from: FromEnv, the file's name,
// or FromDefault when it is unset or empty.
func (s *Source) Origin(name string) string {
	if v, ok := s.vars[name]; !ok || v == "" {
		return FromDefault
	}
	if f, ok := s.origin[name]; ok {
		return f
	}
	return FromEnv
}

// Env is APP_ENV, Development when unset.
func (s *Source) Env() Env {
	if v := s.vars["APP_ENV"]; v != "" {
		return Env(v)
	}
	return Development
}
