// Package views renders Parley's HTML with templ. Every user-facing string
// goes through T, which translates it into the language carried by the
// request context (English, Brazilian Portuguese or French).
package views

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFiles embed.FS

// DefaultLanguage is used when neither the user nor the browser asks for one
// Parley ships.
const DefaultLanguage = "en"

var (
	bundle  = loadBundle()
	tags    = []language.Tag{language.English, language.BrazilianPortuguese, language.French}
	names   = []string{"en", "pt-BR", "fr"}
	matcher = language.NewMatcher(tags)
)

func loadBundle() *i18n.Bundle {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	entries, err := fs.ReadDir(localeFiles, "locales")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		data, err := localeFiles.ReadFile(path.Join("locales", e.Name()))
		if err != nil {
			panic(err)
		}
		if _, err := b.ParseMessageFileBytes(data, e.Name()); err != nil {
			panic(fmt.Sprintf("locale %s: %v", e.Name(), err))
		}
	}
	return b
}

// MatchLanguage picks the shipped language that best fits an Accept-Language
// header ("pt-PT" and "pt" get pt-BR, "fr-CA" gets fr); English otherwise.
func MatchLanguage(acceptLanguage string) string {
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return DefaultLanguage
	}
	_, i, conf := matcher.Match(prefs...)
	if conf == language.No {
		return DefaultLanguage
	}
	return names[i]
}

// Supported reports whether lang is one of the shipped languages.
func Supported(lang string) bool {
	for _, n := range names {
		if n == lang {
			return true
		}
	}
	return false
}

// LanguageName is a language's name in that language, for menus.
func LanguageName(lang string) string {
	switch lang {
	case "pt-BR":
		return "Português (Brasil)"
	case "fr":
		return "Français"
	default:
		return "English"
	}
}

type localeKey struct{}

// locale is one shipped language, shared by every request in it.
type locale struct {
	lang string
	loc  *i18n.Localizer
	// plain keeps the messages T rendered without data (most of a page's
	// strings: labels, buttons), by id. go-i18n looks up and executes a
	// message's template on every call, which was a twentieth of the CPU
	// of opening a conversation; the bundle never changes once loaded, so
	// the text of an id without data is always the same. Only ids the
	// bundle has are kept: the map is bounded by the locale files.
	plain sync.Map
	// withData keeps messages rendered with data the same way, by id and
	// data (dataKey): the attach bar's limits, a visitor's name, a count.
	// Data comes from users and grows without end, so the map is emptied
	// once it holds maxWithData entries.
	withData  sync.Map
	withCount atomic.Int64
}

// maxWithData bounds each locale's withData.
const maxWithData = 4096

// locales are the shipped languages' locales, made once.
var locales = func() map[string]*locale {
	m := map[string]*locale{}
	for _, n := range names {
		m[n] = &locale{lang: n, loc: i18n.NewLocalizer(bundle, n)}
	}
	return m
}()

// WithLanguage returns ctx carrying lang; T and Lang read it.
func WithLanguage(ctx context.Context, lang string) context.Context {
	l, ok := locales[lang]
	if !ok {
		l = locales[DefaultLanguage]
	}
	return context.WithValue(ctx, localeKey{}, l)
}

// Lang returns the language carried by ctx.
func Lang(ctx context.Context) string {
	if l, ok := ctx.Value(localeKey{}).(*locale); ok {
		return l.lang
	}
	return DefaultLanguage
}

// T translates message id into ctx's language. data fills placeholders
// ({{.Name}}); a "Count" entry also selects the plural form. A missing id
// renders as the id itself, which the locale tests catch.
func T(ctx context.Context, id string, data ...map[string]any) string {
	l, ok := ctx.Value(localeKey{}).(*locale)
	if !ok {
		l = locales[DefaultLanguage]
	}
	var key string
	if len(data) == 0 {
		if s, ok := l.plain.Load(id); ok {
			return s.(string)
		}
	} else if key = dataKey(id, data[0]); key != "" {
		if s, ok := l.withData.Load(key); ok {
			return s.(string)
		}
	}
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		cfg.TemplateData = data[0]
		if n, ok := data[0]["Count"]; ok {
			cfg.PluralCount = n
		}
	}
	s, err := l.loc.Localize(cfg)
	if err != nil {
		return id
	}
	switch {
	case len(data) == 0:
		l.plain.Store(id, s)
	case key != "":
		if l.withCount.Add(1) > maxWithData {
			l.withData.Clear()
			l.withCount.Store(1)
		}
		l.withData.Store(key, s)
	}
	return s
}

// dataKey is what identifies a message rendered with data: its id and each
// value by name, type and printed form (1 and "1" and 1.0 may render
// differently: plural rules). Values of other kinds than strings, numbers
// and booleans are not kept ("").
func dataKey(id string, data map[string]any) string {
	var b strings.Builder
	b.WriteString(id)
	for _, k := range slices.Sorted(maps.Keys(data)) {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		switch v := data[k].(type) {
		case string: // its length first: no text can pass for another key
			b.WriteString("s")
			b.WriteString(strconv.Itoa(len(v)))
			b.WriteByte(':')
			b.WriteString(v)
		case int:
			b.WriteString("i:")
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString("l:")
			b.WriteString(strconv.FormatInt(v, 10))
		case float64:
			b.WriteString("f:")
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		case bool:
			b.WriteString("b:")
			b.WriteString(strconv.FormatBool(v))
		default:
			return ""
		}
	}
	return b.String()
}

// messageIDs lists every id of a language, across its files (one per area,
// named <area>.<lang>.json); the tests compare languages.
func messageIDs(lang string) (map[string]string, error) {
	paths, err := fs.Glob(localeFiles, "locales/*."+lang+".json")
	if err != nil {
		return nil, err
	}
	raw := map[string]any{}
	for _, p := range paths {
		data, err := localeFiles.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(data, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for k, v := range part {
			if _, dup := raw[k]; dup {
				return nil, fmt.Errorf("%s: %q is defined twice", p, k)
			}
			raw[k] = v
		}
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case map[string]any:
			var parts []string
			for _, p := range v {
				if s, ok := p.(string); ok {
					parts = append(parts, s)
				}
			}
			out[k] = strings.Join(parts, " ")
		}
	}
	return out, nil
}
