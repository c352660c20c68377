package views

import "strings"

// joinNames lists names for a sentence ("Ana, Bo").
func joinNames(names []string) string { return strings.Join(names, ", ") }
