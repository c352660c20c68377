package models_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

func TestParseItemRefFor(t *testing.T) {
	t.Parallel()
	support := &models.User{ID: 1, CustomerSupport: true}
	other := &models.User{ID: 2}
	cases := []struct {
		u    *models.User
		ref  string
		kind string
		n    int64
		ok   bool
	}{
		{support, "1042", models.ItemTicket, 1042, true},
		{other, "#1042", models.ItemTask, 1042, true},
		{other, "T-7", models.ItemTicket, 7, true},
		{support, "k87", models.ItemTask, 87, true},
		{support, "nope", "", 0, false},
	}
	for _, tc := range cases {
		kind, n, ok := models.ParseItemRefFor(tc.u, tc.ref)
		require.Equal(t, []any{tc.kind, tc.n, tc.ok}, []any{kind, n, ok}, tc.ref)
	}
}
