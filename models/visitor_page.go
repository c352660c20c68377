package models

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxVisitorPageTitle caps the page title a widget reports (in runes).
const MaxVisitorPageTitle = 200

// CheckVisitorPage validates the page a widget reports as the visitor's
// current page (issue 10 item 5): an absolute http(s) URL without spaces
// or markup characters, at most MaxLinkURL bytes (ValidateLinkURL), on one
// of origins (the sites the widget may run on, and Parley's own demo) when
// any are given; the title is cut to MaxVisitorPageTitle runes with
// control characters dropped. Problems are a *ValidationError on "url".
// The desk escapes both when it shows them.
func CheckVisitorPage(rawURL, title string, origins []string) (string, string, error) {
	u, err := ValidateLinkURL("url", rawURL)
	if err != nil {
		return "", "", err
	}
	if u == "" {
		return "", "", Invalid("url", "link_url_invalid", nil)
	}
	if len(origins) > 0 {
		p, _ := url.Parse(u)
		origin := strings.ToLower(p.Scheme + "://" + p.Host)
		ok := false
		for _, o := range origins {
			if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
				ok = true
				break
			}
		}
		if !ok {
			return "", "", Invalid("url", "link_url_invalid", nil)
		}
	}
	title = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, title)
	title = strings.Join(strings.Fields(title), " ")
	if utf8.RuneCountInString(title) > MaxVisitorPageTitle {
		title = string([]rune(title)[:MaxVisitorPageTitle-1]) + "…"
	}
	return u, title, nil
}
