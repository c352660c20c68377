package models_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

func TestSessionInfoClean(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want models.SessionInfo }{
		{models.SessionInfo{PageURL: " https://shop.test/a?b=1 ", Referrer: "http://ref.test/", Timezone: "America/Argentina/Salta", Language: "pt-BR"},
			models.SessionInfo{PageURL: "https://shop.test/a?b=1", Referrer: "http://ref.test/", Timezone: "America/Argentina/Salta", Language: "pt-BR"}},
		{models.SessionInfo{PageURL: "javascript:alert(1)", Referrer: "/relative", Timezone: "Etc/GMT+3", Language: "fr"},
			models.SessionInfo{Timezone: "Etc/GMT+3", Language: "fr"}},
		{models.SessionInfo{PageURL: "https://", Timezone: "../etc/passwd", Language: "<b>"}, models.SessionInfo{}},
		{models.SessionInfo{Timezone: "Europe/" + string(make([]byte, 70)), Language: "a b"}, models.SessionInfo{}},
		{models.SessionInfo{UserAgent: "Mozilla/5.0", Browser: "Firefox 1", OS: "Linux"}, models.SessionInfo{UserAgent: "Mozilla/5.0", Browser: "Firefox 1", OS: "Linux"}},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, tc.in.Clean(), "%+v", tc.in)
	}
}
