package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parleydesk/parley/models"
)

// An item's history names the customer of a linked conversation only to
// support staff; everything else reads the same for everyone.
func TestItemActivityRedact(t *testing.T) {
	t.Parallel()
	support := &models.User{CustomerSupport: true}
	agent := &models.User{}
	cases := []struct {
		name     string
		viewer   *models.User
		in       models.ItemActivity
		old, new string
		hidden   bool
	}{
		{"support sees the customer", support, models.ItemActivity{Field: "linked", NewValue: "Ann"}, "", "Ann", false},
		{"agent does not", agent, models.ItemActivity{Field: "linked", NewValue: "Ann"}, "", "", true},
		{"nor on unlink", agent, models.ItemActivity{Field: "unlinked", OldValue: "Ann"}, "", "", true},
		{"nor signed out", nil, models.ItemActivity{Field: "linked", NewValue: "Ann"}, "", "", true},
		{"a teammate chat has no customer", agent, models.ItemActivity{Field: "linked"}, "", "", false},
		{"other fields untouched", agent, models.ItemActivity{Field: models.FieldStatus, OldValue: "todo", NewValue: "done"}, "todo", "done", false},
	}
	for _, tc := range cases {
		a := tc.in
		a.Redact(tc.viewer)
		assert.Equal(t, tc.old, a.OldValue, tc.name)
		assert.Equal(t, tc.new, a.NewValue, tc.name)
		assert.Equal(t, tc.hidden, a.CustomerHidden, tc.name)
	}
	assert.True(t, models.CanSeeCustomerData(support))
	assert.False(t, models.CanSeeCustomerData(agent))
	assert.False(t, models.CanSeeCustomerData(nil))
}
