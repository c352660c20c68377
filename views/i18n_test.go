package views

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Every language must have every message, with the same placeholders, so no
// screen falls back to English or shows a raw id.
func TestLocalesComplete(t *testing.T) {
	t.Parallel()
	en, err := messageIDs("en")
	if err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	names := func(s string) string {
		var out []string
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		sort.Strings(out)
		return strings.Join(uniq(out), ",")
	}
	for _, lang := range []string{"pt-BR", "fr"} {
		other, err := messageIDs(lang)
		if err != nil {
			t.Fatal(err)
		}
		for id, text := range en {
			got, ok := other[id]
			if !ok {
				t.Errorf("%s: missing %q", lang, id)
				continue
			}
			if names(got) != names(text) {
				t.Errorf("%s: %q placeholders %q, English has %q", lang, id, names(got), names(text))
			}
		}
		for id := range other {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: %q is not in en.json", lang, id)
			}
		}
	}
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Every literal message id used in Go or templ code must exist in en.json.
func TestMessageIDsUsedExist(t *testing.T) {
	t.Parallel()
	en, err := messageIDs("en")
	if err != nil {
		t.Fatal(err)
	}
	validationCode := regexp.MustCompile(`(?:Invalid|\.Add)\(\s*"[a-z_]+"\s*,\s*"([a-z_]+)"`)
	call := regexp.MustCompile(`\bT\(\s*\w+\s*,\s*"([a-z_]+\.[a-z_0-9.]+)"`)
	root := ".."
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_templ.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".templ")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses unknown message id %q", path, m[1])
			}
		}
		// Domain validation codes are shown as "error.<code>".
		for _, m := range validationCode.FindAllStringSubmatch(string(b), -1) {
			if _, ok := en["error."+m[1]]; !ok {
				t.Errorf("%s uses validation code %q without an error.%s message", path, m[1], m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMatchLanguage(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                        "en",
		"pt-BR,pt;q=0.9":          "pt-BR",
		"pt-PT":                   "pt-BR",
		"fr-CA,fr;q=0.9,en;q=0.8": "fr",
		"de-DE,de;q=0.9":          "en",
		"de-DE,fr;q=0.5":          "fr",
		"garbage;;;":              "en",
	}
	for in, want := range cases {
		if got := MatchLanguage(in); got != want {
			t.Errorf("MatchLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTranslatePluralAndData(t *testing.T) {
	t.Parallel()
	ctx := WithLanguage(context.Background(), "fr")
	if got := T(ctx, "login.rate_limited", map[string]any{"Count": 1}); !strings.Contains(got, "1 minute.") {
		t.Errorf("singular: %q", got)
	}
	if got := T(ctx, "login.rate_limited", map[string]any{"Count": 3}); !strings.Contains(got, "3 minutes") {
		t.Errorf("plural: %q", got)
	}
	if got := T(WithLanguage(context.Background(), "pt-BR"), "nav.teams"); got != "Equipes" {
		t.Errorf("pt-BR: %q", got)
	}
}

// A message without data is kept per language after its first use: each
// language keeps its own text, asked again it is the same, and an id the
// bundle lacks is neither kept nor translated.
func TestTranslateKeepsPlainMessagesPerLanguage(t *testing.T) {
	t.Parallel()
	want := map[string]string{"en": "Teams", "pt-BR": "Equipes"}
	for range 2 {
		for lang, text := range want {
			if got := T(WithLanguage(context.Background(), lang), "nav.teams"); got != text {
				t.Errorf("%s: %q, want %q", lang, got, text)
			}
		}
	}
	if got := T(WithLanguage(context.Background(), "xx"), "nav.teams"); got != "Teams" {
		t.Errorf("an unshipped language is English: %q", got)
	}
	fr := WithLanguage(context.Background(), "fr")
	missing := strings.Join([]string{"no", "such", "id"}, ".") // not a literal: TestMessageIDsUsedExist
	if got := T(fr, missing); got != missing {
		t.Errorf("missing id: %q", got)
	}
	if _, kept := locales["fr"].plain.Load(missing); kept {
		t.Error("a missing id is not kept")
	}
	if got := T(fr, "login.rate_limited", map[string]any{"Count": 3}); !strings.Contains(got, "3 minutes") {
		t.Errorf("with data, after plain uses: %q", got)
	}
}

// A message with data is kept by its id and data: asked again with the same
// data it is the same text, other data is rendered anew (plural forms, a
// float against an int, a string that spells another key), and the kept
// texts are bounded.
func TestTranslateKeepsMessagesWithData(t *testing.T) {
	t.Parallel()
	ctx := WithLanguage(context.Background(), "fr")
	one := map[string]any{"Count": 1}
	for range 2 {
		if got := T(ctx, "login.rate_limited", one); !strings.Contains(got, "1 minute.") {
			t.Errorf("singular: %q", got)
		}
		if got := T(ctx, "login.rate_limited", map[string]any{"Count": 3}); !strings.Contains(got, "3 minutes") {
			t.Errorf("plural: %q", got)
		}
	}
	if _, kept := locales["fr"].withData.Load(dataKey("login.rate_limited", one)); !kept {
		t.Error("the text with data is kept")
	}
	if dataKey("x", map[string]any{"Count": 1}) == dataKey("x", map[string]any{"Count": 1.0}) ||
		dataKey("x", map[string]any{"Count": 1}) == dataKey("x", map[string]any{"Count": "1"}) {
		t.Error("values of different types share a key")
	}
	if dataKey("x", map[string]any{"A": "v\x00B=s1:w"}) == dataKey("x", map[string]any{"A": "v", "B": "w"}) {
		t.Error("a string spells another key")
	}
	if dataKey("x", map[string]any{"A": []int{1}}) != "" {
		t.Error("a value of another kind is not kept")
	}
	l := locales["en"]
	en := WithLanguage(context.Background(), "en")
	for i := range maxWithData + 10 {
		T(en, "login.rate_limited", map[string]any{"Count": i})
	}
	n := 0
	l.withData.Range(func(any, any) bool { n++; return true })
	if n > maxWithData {
		t.Errorf("%d texts kept, at most %d", n, maxWithData)
	}
	if got := T(en, "login.rate_limited", map[string]any{"Count": 3}); !strings.Contains(got, "3 minutes") {
		t.Errorf("after the map was emptied: %q", got)
	}
}
