package models

import "strings"

// uaBrowsers are the browsers ParseUserAgent recognises, in the order they
// must be tried: Edge, Opera and Samsung Internet also claim "Chrome/", and
// Chrome also claims "Safari/".
var uaBrowsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPT/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
	{"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"MSIE ", "Internet Explorer"}, {"Trident/", "Internet Explorer"},
}

// ParseUserAgent names the browser (with its major version) and the
// operating system (with its version where the header gives one) from a
// User-Agent header, for the session details agents read: the major
// browsers and systems, and "" for anything else (shown as unknown).
// Versions keep only digits and dots, so nothing of the header but the
// names above is ever shown.
func ParseUserAgent(ua string) (browser, os string) {
	for _, b := range uaBrowsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			browser = withVersion(b.name, major(uaVersion(ua[i+len(b.token):])))
			if b.token == "Trident/" {
				browser = b.name // Trident's own version is not IE's
			}
			break
		}
	}
	if browser == "" && strings.Contains(ua, "Safari/") && strings.Contains(ua, "AppleWebKit/") {
		v := ""
		if i := strings.Index(ua, "Version/"); i >= 0 {
			v = major(uaVersion(ua[i+len("Version/"):]))
		}
		browser = withVersion("Safari", v)
	}
	switch {
	case strings.Contains(ua, "Windows NT "):
		os = withVersion("Windows", uaVersion(ua[strings.Index(ua, "Windows NT ")+len("Windows NT "):]))
	case strings.Contains(ua, "Windows"):
		os = "Windows"
	case strings.Contains(ua, "iPhone OS "):
		os = withVersion("iOS", dots(uaVersion(ua[strings.Index(ua, "iPhone OS ")+len("iPhone OS "):])))
	case strings.Contains(ua, "iPad") && strings.Contains(ua, "CPU OS "):
		os = withVersion("iPadOS", dots(uaVersion(ua[strings.Index(ua, "CPU OS ")+len("CPU OS "):])))
	case strings.Contains(ua, "Mac OS X"):
		rest := strings.TrimPrefix(ua[strings.Index(ua, "Mac OS X")+len("Mac OS X"):], " ")
		os = withVersion("macOS", dots(uaVersion(rest)))
	case strings.Contains(ua, "Android"):
		rest := strings.TrimPrefix(ua[strings.Index(ua, "Android")+len("Android"):], " ")
		os = withVersion("Android", uaVersion(rest))
	case strings.Contains(ua, "CrOS"):
		os = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		os = "Linux"
	}
	return browser, os
}

// uaVersion is the run of digits, dots and underscores s starts with.
func uaVersion(s string) string {
	n := 0
	for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '.' || s[n] == '_') {
		n++
	}
	return strings.Trim(s[:n], "._")
}

func major(v string) string {
	if i := strings.IndexAny(v, "._"); i >= 0 {
		return v[:i]
	}
	return v
}

func dots(v string) string { return strings.ReplaceAll(v, "_", ".") }

func withVersion(name, v string) string {
	if v == "" {
		return name
	}
	return name + " " + v
}
