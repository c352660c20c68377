package models

import (
	"context"

	"gorm.io/gorm/logger"
)

// GORM's DB.Scan records each statement it runs with the arguments
// written into the SQL text (logger.ExplainSQL: regular expressions over
// the whole statement) for the logger, whatever the logger's level: the
// one we give GORM discards everything, and the text went unread. It was
// the largest single source of garbage at parley-bench -rate 200 (15% of
// the bytes the server allocated) on the reads every message runs
// (LiveRows, the conversation lookups, the message insert). The recorder
// now records no text. It is set once, before any statement runs.
func init() {
	logger.RecorderParamsFilter = func(context.Context, string, ...any) (string, []any) { return "", nil }
}
