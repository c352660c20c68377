package migrations

import (
	"context"
	"database/sql"
)

// UpToDate exposes upToDate to the external test package (which may import
// internal/dbtest, itself an importer of this package).
var UpToDate = upToDate

// DownOne rolls the newest Parley migration back.
func DownOne(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	_, err = p.Down(ctx)
	return err
}
