package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSONMap is a jsonb column holding an object.
type JSONMap map[string]any

// Value encodes m for the database.
func (m JSONMap) Value() (driver.Value, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// Scan decodes a jsonb value.
func (m *JSONMap) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*m = JSONMap{}
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("JSONMap: cannot scan %T", src)
	}
	return json.Unmarshal(b, m)
}
