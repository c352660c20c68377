package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parleydesk/parley/models"
)

// The allowed sites are exact origins: a scheme, a host and maybe a port.
func TestParseOrigins(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"https://shop.example.com":       "https://shop.example.com",
		"https://Shop.Example.com/":      "https://shop.example.com",
		"http://localhost:3000":          "http://localhost:3000",
		"https://a-b.example.co.uk:8443": "https://a-b.example.co.uk:8443",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"https://[2001:db8::1]":          "https://[2001:db8::1]",
		"https://[2001:db8::1]:444":      "https://[2001:db8::1]:444",
		"https://xn--bcher-kva.example":  "https://xn--bcher-kva.example",
	}
	for in, want := range good {
		got, bad := models.ParseOrigins(in)
		assert.Empty(t, bad, in)
		assert.Equal(t, []string{want}, got, in)
	}
	for _, in := range []string{
		"https://*", "https://*.example.com", "*", "http://*:8080", "https://exa*mple.com",
		"ftp://example.com", "example.com", "//example.com", "https:example.com", "https://",
		"https://example.com/path", "https://example.com?q=1", "https://example.com?", "https://example.com#top",
		"https://user@example.com", "https://example.com:", "https://example.com:0", "https://example.com:65536",
		"https://example.com:http", "https://exa_mple.com", "https://-example.com", "https://example-.com",
		"https://example..com", "https://example.com.", "https://bücher.example", "https://2001:db8::1",
		"https://[2001:db8::1%25eth0]", "https://[example.com]", "javascript:alert(1)",
	} {
		got, bad := models.ParseOrigins("https://ok.example\n" + in)
		assert.Nil(t, got, in)
		assert.Equal(t, in, bad, in)
	}
}
