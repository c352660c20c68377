package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// traced keeps what GORM hands its logger for each statement.
type traced struct {
	logger.Interface
	sqls []string
}

func (t *traced) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	t.sqls = append(t.sqls, sql)
}

// A Scan no longer writes its arguments into the statement's text for the
// logger (models/gorm_scan.go): nothing reads it, and it cost regular
// expressions over every statement.
func TestScanRecordsNoStatementText(t *testing.T) {
	t.Parallel()
	db := setup(t)
	rec := &traced{Interface: logger.Discard}
	var n int
	require.NoError(t, db.Session(&gorm.Session{Logger: rec}).Raw("SELECT CAST(? AS int) + 1", 41).Scan(&n).Error)
	require.Equal(t, 42, n)
	require.Equal(t, []string{""}, rec.sqls)
}
