package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrNoBinaries means neither PATH nor /usr/lib/postgresql/*/bin holds a
// usable postgres and initdb. Callers can match it with errors.Is to tell the
// operator the one thing that fixes it, which the message already says.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (postgres, initdb) found: install PostgreSQL (apt-get install postgresql) or set DATABASE_URL to an existing server")

// systemBinGlob is where Debian and Ubuntu install each PostgreSQL major
// version side by side; a server package does not put postgres on PATH.
const systemBinGlob = "/usr/lib/postgresql/*/bin"

// binaries is one consistent pair of PostgreSQL programs and the major
// version they create clusters for.
type binaries struct {
	postgres string
	initdb   string
	major    string // as written in PG_VERSION: "15", or "9.6" for old ones
}

// findBinaries looks in binDir alone when it is set; otherwise on pathEnv
// (a PATH value) and then in the highest version directory matching glob.
func findBinaries(binDir, pathEnv, glob string) (binaries, error) {
	if binDir != "" {
		b, ok := binariesIn(binDir)
		if !ok {
			return binaries{}, fmt.Errorf("pgembed: looked in %s: %w", binDir, ErrNoBinaries)
		}
		return withVersion(b)
	}
	var b binaries
	var okPath bool
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			continue
		}
		if p, err := exec.LookPath(filepath.Join(d, "postgres")); err == nil && b.postgres == "" {
			b.postgres = p
		}
		if p, err := exec.LookPath(filepath.Join(d, "initdb")); err == nil && b.initdb == "" {
			b.initdb = p
		}
		if b.postgres != "" && b.initdb != "" {
			okPath = true
			break
		}
	}
	if okPath {
		return withVersion(b)
	}
	dirs, _ := filepath.Glob(glob)
	// Highest version first: compare the version directory numerically so
	// that 10 sorts above 9.6.
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	for _, d := range dirs {
		if b, ok := binariesIn(d); ok {
			return withVersion(b)
		}
	}
	return binaries{}, fmt.Errorf("pgembed: looked on PATH and in %s: %w", glob, ErrNoBinaries)
}

func binariesIn(dir string) (binaries, bool) {
	b := binaries{postgres: filepath.Join(dir, "postgres"), initdb: filepath.Join(dir, "initdb")}
	for _, p := range []string{b.postgres, b.initdb} {
		if _, err := exec.LookPath(p); err != nil {
			return binaries{}, false
		}
	}
	return b, true
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// withVersion asks postgres for its version, which decides whether an
// existing cluster can be served at all. postgres answers --version before
// its refusal to run as root, so this works for every caller.
func withVersion(b binaries) (binaries, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, b.postgres, "--version").Output()
	if err != nil {
		return binaries{}, fmt.Errorf("pgembed: %s --version: %w", b.postgres, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return binaries{}, fmt.Errorf("pgembed: %s --version: unexpected answer %q", b.postgres, strings.TrimSpace(string(out)))
	}
	b.major = string(m[1])
	if n, _ := strconv.Atoi(b.major); n < 10 && len(m[2]) > 0 {
		b.major += "." + string(m[2])
	}
	return b, nil
}

// compareVersions orders dotted version strings numerically; non-numeric
// parts compare as zero so that odd directory names sort last.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
