package views

import (
	"regexp"
	"strings"
	"testing"
)

// One word per idea in each language, across every locale file: French
// says "attribuer" (never "assigner") and "statut" (never "état"); tasks
// (tickets and tasks) and background jobs never share a word.
func TestTerminologyIsConsistent(t *testing.T) {
	t.Parallel()
	fr, err := messageIDs("fr")
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]*regexp.Regexp{
		`"assigner" (use "attribuer")`: regexp.MustCompile(`(?i)\bassign`),
		`"état" (use "statut")`:        regexp.MustCompile(`(?i)(^|[^\p{L}])état([^\p{L}]|$)`),
	}
	for id, text := range fr {
		for what, re := range banned {
			if re.MatchString(text) {
				t.Errorf("fr %q says %s: %q", id, what, text)
			}
		}
	}
	for _, lang := range []string{"en", "pt-BR", "fr"} {
		m, err := messageIDs(lang)
		if err != nil {
			t.Fatal(err)
		}
		task := strings.ToLower(strings.Fields(m["items.tasks"])[0])
		task = strings.TrimSuffix(strings.TrimSuffix(task, "s"), "e") // tarefa(s), tâche(s), task(s)
		if jobs := strings.ToLower(m["nav.jobs"]); strings.Contains(jobs, task) {
			t.Errorf("%s: background jobs %q share a word with tasks %q", lang, m["nav.jobs"], m["items.tasks"])
		}
	}
}
