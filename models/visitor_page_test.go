package models_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parleydesk/parley/models"
)

func TestCheckVisitorPage(t *testing.T) {
	t.Parallel()
	origins := []string{"https://shop.example", "http://localhost:8080/"}
	u, title, err := models.CheckVisitorPage(" https://shop.example/a?b=1#c ", "  Shop\x00 \t<i>home</i>  ", origins)
	assert.NoError(t, err)
	assert.Equal(t, "https://shop.example/a?b=1#c", u)
	assert.Equal(t, "Shop <i>home</i>", title, "kept as text: the desk escapes it")
	_, _, err = models.CheckVisitorPage("http://LOCALHOST:8080/x", "", origins)
	assert.NoError(t, err, "origins compare without case")
	_, title, err = models.CheckVisitorPage("https://shop.example/", strings.Repeat("é", 300), nil)
	assert.NoError(t, err)
	assert.Equal(t, models.MaxVisitorPageTitle, len([]rune(title)))
	for _, bad := range []string{"", "javascript:alert(1)", "data:text/html,x", "//shop.example/", "ftp://shop.example/",
		"https://evil.example/", "https://shop.example.evil.example/", "https://shop.example@evil.example/",
		"https://shop.example/" + strings.Repeat("a", 2100), "https://shop.example/<x>", "https://shop.example/a b"} {
		_, _, err := models.CheckVisitorPage(bad, "", origins)
		assert.Equal(t, "link_url_invalid", fieldCodeOr(err), bad)
	}
}

func fieldCodeOr(err error) string {
	ve, ok := err.(*models.ValidationError)
	if !ok || len(ve.Errors) == 0 {
		return ""
	}
	if ve.Errors[0].Code == "link_url_too_long" {
		return "link_url_invalid"
	}
	return ve.Errors[0].Code
}
