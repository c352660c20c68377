package models

import (
	"net/url"
	"regexp"
	"strings"
)

// tzRe accepts IANA zone names ("Europe/Paris", "America/Argentina/Salta",
// "UTC", "Etc/GMT+3").
var tzRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$`)

// Clean returns s with what a visitor's browser claims made safe to store
// and show: page and referrer only as absolute http(s) URLs (the desk never
// shows a javascript: "page"), a time zone only as an IANA name, a
// language only as a short tag. Anything else becomes empty.
func (s SessionInfo) Clean() SessionInfo {
	s.PageURL, s.Referrer = webURL(s.PageURL), webURL(s.Referrer)
	s.Timezone = strings.TrimSpace(s.Timezone)
	if len(s.Timezone) > 64 || !tzRe.MatchString(s.Timezone) {
		s.Timezone = ""
	}
	s.Language = strings.TrimSpace(s.Language)
	if len(s.Language) > 35 || strings.ContainsAny(s.Language, " <>\"';") {
		s.Language = ""
	}
	return s
}

// webURL keeps an absolute http(s) URL and drops anything else.
func webURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}
