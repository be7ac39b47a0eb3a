package scaffold

import (
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestModulesFromTwoBranchesMerge registers one module on each of two
// branches of a git repository holding the real module list and the real
// .gitattributes, then merges: git must produce a list with both modules
// and no conflict, gofmt-clean. The control merges the same branches
// without .gitattributes and must conflict, which shows the union driver
// is what makes the difference.
func TestModulesFromTwoBranchesMerge(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	list, err := os.ReadFile(filepath.Join("..", "..", ListFile))
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := os.ReadFile(filepath.Join("..", "..", ".gitattributes"))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := os.OpenRoot(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = repo.Close() }()
	modPath, err := ModulePath(repo)
	if err != nil {
		t.Fatal(err)
	}

	merge := func(t *testing.T, attrs []byte) (string, error) {
		t.Helper()
		dir := t.TempDir()
		git := func(args ...string) (string, error) {
			cmd := exec.Command("git", args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
				"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		must := func(args ...string) {
			t.Helper()
			if out, err := git(args...); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		write(t, dir, ListFile, string(list))
		if attrs != nil {
			write(t, dir, ".gitattributes", string(attrs))
		}
		must("init", "-q", "-b", "main")
		must("add", "-A")
		must("commit", "-qm", "base")
		for _, name := range []string{"invoices", "tickets"} {
			n, err := Derive(name, "", modPath, realIdents(t))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Register(list, n)
			if err != nil {
				t.Fatal(err)
			}
			must("checkout", "-q", "-b", name, "main")
			write(t, dir, ListFile, string(out))
			must("commit", "-qam", "add "+name)
		}
		must("checkout", "-q", "invoices")
		out, err := git("merge", "--no-edit", "tickets")
		if err != nil {
			return out, err
		}
		b, err := os.ReadFile(filepath.Join(dir, ListFile))
		return string(b), err
	}

	got, err := merge(t, attrs)
	if err != nil {
		t.Fatalf("merging two branches that each added a module: %v\n%s", err, got)
	}
	for _, want := range []string{
		`import "` + modPath + `/modules/invoices"`, `import "` + modPath + `/modules/tickets"`,
		"\tinvoices.Module,\n\ttickets.Module,\n}",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("merged list lacks %q:\n%s", want, got)
		}
	}
	if formatted, err := format.Source([]byte(got)); err != nil || string(formatted) != got {
		t.Errorf("merged list is not gofmt-clean (%v):\n%s", err, got)
	}
	for _, name := range []string{"invoices", "tickets"} {
		n, _ := Derive(name, "", modPath, realIdents(t))
		if _, err := Register([]byte(got), n); err == nil {
			t.Errorf("the merged list does not register %s", name)
		}
	}

	if out, err := merge(t, nil); err == nil || !strings.Contains(out, "CONFLICT") {
		t.Fatalf("control: without .gitattributes the merge should conflict: %v\n%s", err, out)
	}
}
