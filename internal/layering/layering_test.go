package layering

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsFollowLayers lists every package of the module with the go
// command and fails on each import, production or test, that the rule in
// layering.go does not allow.
func TestImportsFollowLayers(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f",
		"{{.ImportPath}}|{{join .Imports \",\"}}|{{join .TestImports \",\"}},{{join .XTestImports \",\"}}",
		Module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rel := func(p string) (string, bool) {
		if p == Module {
			return "", true
		}
		r, ok := strings.CutPrefix(p, Module+"/")
		return r, ok
	}
	checked := 0
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		from, _ := rel(parts[0])
		if Layer(from) == "" {
			t.Errorf("package %s is in no layer: add it to the table in layering.go", parts[0])
			continue
		}
		for i, list := range parts[1:] {
			for imp := range strings.SplitSeq(list, ",") {
				to, ours := rel(imp)
				if imp == "" || !ours {
					continue
				}
				checked++
				if !Allowed(from, to, i == 1) {
					kind := "imports"
					if i == 1 {
						kind = "has a test that imports"
					}
					t.Errorf("%s %s %s: against the layering (see internal/layering)", from, kind, to)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no import of the module's own packages was checked: is go list reading the right module?")
	}
}

// TestAllowed checks the rule itself, including imports it must refuse.
func TestAllowed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		from, to string
		test     bool
		want     bool
	}{
		{"cmd/parley", "app", false, true},
		{"cmd/parley-testdb", "internal/dbtest", false, true},
		{"app", "models", false, true},
		{"app", "internal/pgembed", false, true},
		{"app", "app/live", false, true},
		{"app/live", "models", false, true},
		{"app/live", "internal/dbtest", true, true},
		{"jobs", "views", false, true},
		{"views", "models", false, true},
		{"internal/dbtest", "internal/pgembed", false, true},
		{"models", "internal/dbtest", true, true},
		{"jobs", "internal/smtptest", true, true},
		{"app", "internal/browsertest", true, true},
		{"models", "models", true, true},
		{"views", "models", true, true},

		{"models", "views", false, false},
		{"models", "app", false, false},
		{"models", "jobs", true, false},
		{"views", "jobs", false, false},
		{"views", "app", false, false},
		{"jobs", "app", false, false},
		{"app/live", "app", false, false},
		{"app/live", "views", false, false},
		{"app/live", "jobs", false, false},
		{"jobs", "app/live", false, false},
		{"app", "cmd/parley", false, false},
		{"app", "internal/dbtest", false, false},
		{"models", "internal/pgembed", false, false},
		{"jobs", "internal/pgembed", true, false},
		{"internal/dbtest", "app", false, false},
		{"newpkg", "models", false, false},
		{"models", "newpkg", false, false},
	} {
		if got := Allowed(c.from, c.to, c.test); got != c.want {
			t.Errorf("Allowed(%q, %q, test=%v) = %v, want %v", c.from, c.to, c.test, got, c.want)
		}
	}
}
