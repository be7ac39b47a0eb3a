package migrator

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Acknowledgement is the comment that lets a migration file contain
// destructive statements. It must give a reason, e.g.
//
//	-- destructive: users.nickname unused since v1.4, backfilled copy in profiles
const Acknowledgement = "-- destructive:"

// minReasonLen keeps "-- destructive: ok" from passing as a reason.
const minReasonLen = 10

// Finding is one destructive statement in a file without acknowledgement.
type Finding struct {
	File      string
	Rule      string
	Statement string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s", f.File, f.Rule, f.Statement)
}

// A rule matches one action of a statement (an ALTER TABLE's actions are
// checked one by one), upper-cased, with identifiers' quotes kept.
type rule struct {
	name  string
	match func(action string) bool
}

func re(expr string) func(string) bool { return regexp.MustCompile(expr).MatchString }

// rules are the changes that lose data or break the previous release's
// pods, which keep running during a rolling update.
var rules = []rule{
	{"drop_table", re(`^DROP TABLE\b`)},
	// Inside ALTER TABLE; "DROP CONSTRAINT" and "DROP INDEX" lose no data.
	{"drop_column", re(`^DROP (COLUMN\b|")`)},
	{"drop_schema", re(`^DROP SCHEMA\b`)},
	{"truncate", re(`^TRUNCATE\b`)},
	{"set_not_null", re(`\bALTER( COLUMN)? \S+ SET NOT NULL\b`)},
	{"add_not_null_without_default", func(a string) bool {
		return regexp.MustCompile(`\bADD( COLUMN)?\b`).MatchString(a) && !regexp.MustCompile(`\bADD (CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK|INDEX)\b`).MatchString(a) &&
			strings.Contains(a, " NOT NULL") && !strings.Contains(a, " DEFAULT ")
	}},
	{"change_type", re(`\bALTER( COLUMN)? \S+ (SET DATA )?TYPE\b`)},
	{"rename", re(`\bRENAME\b`)},
}

// LintFile returns the destructive statements of one Postgres migration
// file, or nothing when the file carries an acknowledgement with a reason.
func LintFile(name string, content []byte) []Finding {
	text := string(content)
	for _, line := range strings.Split(text, "\n") {
		if reason, ok := strings.CutPrefix(strings.TrimSpace(line), Acknowledgement); ok && len(strings.TrimSpace(reason)) >= minReasonLen {
			return nil
		}
	}
	var out []Finding
	for _, stmt := range statements(text) {
		norm := strings.ToUpper(strings.Join(strings.Fields(stmt), " "))
		prefix := ""
		if p, ok := alterPrefix(norm); ok {
			prefix = p
		}
		for _, action := range actions(norm, prefix) {
			for _, r := range rules {
				if r.match(action) {
					out = append(out, Finding{File: name, Rule: r.name, Statement: oneLine(stmt)})
					break
				}
			}
		}
	}
	return out
}

// LintDir lints every .sql file under root. Every file is checked, not only
// new ones: files never change once applied, so an acknowledged file stays
// acknowledged and the lint needs no git history (docs/operations.md).
func LintDir(fsys fs.FS, root string) ([]Finding, error) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	var out []Finding
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, LintFile(path.Join(root, e.Name()), b)...)
	}
	return out, nil
}

var alterTable = regexp.MustCompile(`^ALTER TABLE (IF EXISTS )?(ONLY )?\S+ `)

func alterPrefix(stmt string) (string, bool) {
	m := alterTable.FindString(stmt)
	return m, m != ""
}

// actions splits "ALTER TABLE t a, b" into "a" and "b" (commas inside
// parentheses or quotes do not split); other statements are one action.
func actions(stmt, prefix string) []string {
	if prefix == "" {
		return []string{stmt}
	}
	var out []string
	for _, a := range split(strings.TrimPrefix(stmt, prefix), ',') {
		out = append(out, strings.TrimSpace(a))
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// statements splits SQL on semicolons outside quotes, parentheses and
// comments, dropping comments.
func statements(sql string) []string {
	var b strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		if i := commentStart(line); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	var out []string
	for _, s := range split(b.String(), ';') {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// commentStart finds "--" outside quotes.
func commentStart(line string) int {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '-' && strings.HasPrefix(line[i:], "--"):
			return i
		}
	}
	return -1
}

func split(s string, sep rune) []string {
	var out []string
	var quote rune
	depth, start := 0, 0
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '(':
			depth++
		case r == ')':
			depth--
		case r == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
