// Package layering holds Parley's import rule, so that a test (see
// layering_test.go) can fail the build of the suite when a package imports
// against it. The rule is data rather than prose in a document because prose
// drifts: cmd → app → {app/live, jobs, views, models, storage}; app/live →
// models; jobs → {views, models, storage}; views → models; models and
// storage import no package of ours.
package layering

import "strings"

// Module is the module path every package below is relative to.
const Module = "github.com/parleydesk/parley"

// allowed lists, per layer, the layers its production code may import.
// A package belongs to the longest layer that prefixes its path; a package
// in no layer is an error, so a new package is placed on purpose.
var allowed = map[string][]string{
	"cmd":                  {"app", "jobs", "views", "models", "migrations", "static", "storage", "internal/pgembed", "internal/dbtest", "internal/benchdb", "internal/benchresult", "internal/filetest"},
	"app":                  {"app/live", "jobs", "views", "models", "migrations", "static", "storage", "internal/pgembed"},
	"app/live":             {"models"},
	"jobs":                 {"views", "models", "storage"},
	"storage":              nil,
	"internal/filetest":    {"storage"},
	"views":                {"models"},
	"models":               nil,
	"migrations":           nil,
	"static":               nil,
	"internal/pgembed":     nil,
	"internal/dbtest":      {"internal/pgembed", "migrations"},
	"internal/benchdb":     {"internal/pgembed", "migrations"},
	"internal/benchresult": {},
	"internal/smtptest":    nil,
	"internal/browsertest": nil,
	"internal/wait":        nil,
	"internal/factory":     {"jobs", "models"},
	"internal/layering":    nil,
}

// testHelpers may be imported by the tests of any package (and by nothing
// else but cmd/parley-testdb, which stops dbtest's shared server).
var testHelpers = map[string]bool{
	"internal/dbtest":      true,
	"internal/smtptest":    true,
	"internal/browsertest": true,
	"internal/wait":        true,
	"internal/factory":     true,
	"internal/filetest":    true,
}

// Layer returns the layer of a package path relative to Module ("app",
// "cmd/parley", "internal/dbtest"), or "" when it has none.
func Layer(pkg string) string {
	best := ""
	for l := range allowed {
		if (pkg == l || strings.HasPrefix(pkg, l+"/")) && len(l) > len(best) {
			best = l
		}
	}
	return best
}

// Allowed reports whether package from may import package to (both relative
// to Module). test is true for an import made by from's _test.go files,
// which may also use the test helpers and the package under test.
func Allowed(from, to string, test bool) bool {
	lf, lt := Layer(from), Layer(to)
	if lf == "" || lt == "" {
		return false
	}
	if lf == lt {
		return true
	}
	if test && (testHelpers[lt] || Allowed(from, to, false)) {
		return true
	}
	for _, a := range allowed[lf] {
		if a == lt {
			return true
		}
	}
	return false
}
