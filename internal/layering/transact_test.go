package layering

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writerFile is the one production file that may open a models.Tx: the
// writer, which inserts the follow-up jobs of the events the transaction
// wrote before it commits.
const writerFile = "jobs/writer.go"

// TestOnlyTheWriterTransacts parses every production Go file of the module
// and fails on each use of models.Transact outside jobs/writer.go. Event-
// recording operations take a models.Tx, which only Transact makes; were
// anything else to call it, that code could record events whose follow-up
// jobs are never inserted. Tests may call it.
func TestOnlyTheWriterTransacts(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f",
		"{{.ImportPath}}|{{.Dir}}|{{join .GoFiles \",\"}},{{join .CgoFiles \",\"}},{{join .IgnoredGoFiles \",\"}}",
		Module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs [][]string
	root := ""
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		if parts[0] == Module+"/models" {
			root = filepath.Dir(parts[1])
		}
		pkgs = append(pkgs, parts)
	}
	files := 0
	found := false
	for _, parts := range pkgs {
		for name := range strings.SplitSeq(parts[2], ",") {
			if name == "" {
				continue
			}
			path := filepath.Join(parts[1], name)
			rel, err := filepath.Rel(root, path)
			if err != nil || root == "" {
				rel = path
			}
			rel = filepath.ToSlash(rel)
			uses := transactUses(t, path, parts[0] == Module+"/models")
			files++
			if rel == writerFile {
				found = uses > 0
				continue
			}
			if uses > 0 {
				t.Errorf("%s uses models.Transact %d time(s): only %s may (run the change through jobs.Writer)", rel, uses, writerFile)
			}
		}
	}
	if files == 0 {
		t.Fatal("no Go file was checked: is go list reading the right module?")
	}
	if !found {
		t.Errorf("%s does not call models.Transact: is this check still looking at the right thing?", writerFile)
	}
}

// transactUses counts the references to models.Transact in the Go file at
// path: through the file's name for the models import, or, inside package
// models itself, to Transact unqualified. A reference that is not a call
// (taking the function as a value) counts too.
func transactUses(t *testing.T, path string, inModels bool) int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	names := map[string]bool{}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p != Module+"/models" {
			continue
		}
		name := "models"
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "." {
			t.Errorf("%s dot-imports models: this check cannot follow it", path)
		}
		names[name] = true
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		switch x := node.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && names[id.Name] && x.Sel.Name == "Transact" {
				n++
			}
		case *ast.FuncDecl:
			// The definition itself is no use of it.
			if inModels && x.Recv == nil && x.Name.Name == "Transact" {
				ast.Inspect(x.Body, func(m ast.Node) bool {
					if id, ok := m.(*ast.Ident); ok && id.Name == "Transact" {
						n++
					}
					return true
				})
				return false
			}
		case *ast.Ident:
			if inModels && x.Name == "Transact" {
				n++
			}
		}
		return true
	})
	return n
}
