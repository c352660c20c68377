package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// pipelined sends a page's independent reads in one round trip (a pgx
// batch on one connection of db's pool) and scans each answer with pgx,
// without database/sql's and GORM's per-row reflection. Each read is a
// statement with positional arguments and the function that takes its
// rows, in order. Reads only: db must be the pool (or a connection kept
// from it), never a transaction, whose connection database/sql does not
// hand out.
func pipelined(ctx context.Context, db *gorm.DB, reads ...pipelinedRead) error {
	var conn *sql.Conn
	switch p := db.Statement.ConnPool.(type) {
	case *sql.DB:
		c, err := p.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		conn = c
	case *sql.Conn:
		conn = p
	case *genericConn:
		conn = p.Conn
	default:
		return fmt.Errorf("models: pipelined reads on %T", p)
	}
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			return fmt.Errorf("models: pipelined reads on a %T connection", dc)
		}
		var b pgx.Batch
		for _, r := range reads {
			b.Queue(r.sql, r.args...)
		}
		res := pc.Conn().SendBatch(ctx, &b)
		for _, r := range reads {
			rows, err := res.Query()
			if err == nil {
				err = r.scan(rows)
			}
			if err != nil {
				return errors.Join(err, res.Close())
			}
		}
		return res.Close()
	})
}

// pipelinedRead is one statement of pipelined and what takes its rows.
type pipelinedRead struct {
	sql  string
	args []any
	scan func(pgx.Rows) error
}

// readInto is the pipelinedRead that collects its rows into *dst (scanRows).
func readInto[T any](dst *[]T, query string, args ...any) pipelinedRead {
	return pipelinedRead{sql: query, args: args, scan: func(rows pgx.Rows) (err error) {
		*dst, err = scanRows[T](rows)
		return err
	}}
}

// scanRows reads each row into a T as GORM would: a column goes to the
// field GORM names it by (its column tag, or the field's name in snake
// case: LastMessageAt for last_message_at; embedded structs' fields too,
// the outer one winning a name both have); a column without a field is
// skipped, and so is a field without a column (relations); NULL leaves a
// field that cannot hold it at its zero value. The mapping is worked out
// once per type and column list.
func scanRows[T any](rows pgx.Rows) ([]T, error) {
	defer rows.Close()
	cols := columnFields(reflect.TypeFor[T](), rows.FieldDescriptions())
	var out []T
	targets := make([]any, len(cols))
	// A field that cannot hold NULL (a string, a time) is read through a
	// pointer to one, which NULL leaves nil.
	via := make([]reflect.Value, len(cols))
	for i, c := range cols {
		if c.viaPtr {
			via[i] = reflect.New(reflect.PointerTo(c.typ))
		}
	}
	for rows.Next() {
		out = append(out, *new(T))
		v := reflect.ValueOf(&out[len(out)-1]).Elem()
		for i, c := range cols {
			switch {
			case c.path == nil:
				targets[i] = nil // pgx skips the column
			case c.viaPtr:
				via[i].Elem().SetZero()
				targets[i] = via[i].Interface()
			default:
				targets[i] = v.FieldByIndex(c.path).Addr().Interface()
			}
		}
		if err := rows.Scan(targets...); err != nil {
			return nil, err
		}
		for i, c := range cols {
			if c.viaPtr && !via[i].Elem().IsNil() {
				v.FieldByIndex(c.path).Set(via[i].Elem().Elem())
			}
		}
	}
	return out, rows.Err()
}

// columnField is where one column goes in a struct.
type columnField struct {
	path   []int // nil: nowhere
	typ    reflect.Type
	viaPtr bool // the field cannot hold NULL itself
}

type columnFieldsKey struct {
	t    reflect.Type
	cols string
}

var columnFieldsCache sync.Map // columnFieldsKey → []columnField

var scannerType = reflect.TypeFor[sql.Scanner]()

// columnFields is, for each column, its field in t.
func columnFields(t reflect.Type, cols []pgconn.FieldDescription) []columnField {
	var key strings.Builder
	for _, c := range cols {
		key.WriteString(c.Name)
		key.WriteByte(0)
	}
	k := columnFieldsKey{t, key.String()}
	if p, ok := columnFieldsCache.Load(k); ok {
		return p.([]columnField)
	}
	byName := map[string]columnField{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("gorm")
			if !f.IsExported() || tag == "-" {
				continue
			}
			path := append(slices.Clone(index), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, path)
				continue
			}
			name := schema.NamingStrategy{}.ColumnName("", f.Name)
			for part := range strings.SplitSeq(tag, ";") {
				if c, ok := strings.CutPrefix(part, "column:"); ok {
					name = c
				}
			}
			if had, taken := byName[name]; taken && len(had.path) <= len(path) {
				continue // the outer struct's field wins, as in Go
			}
			nullable := f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice ||
				f.Type.Kind() == reflect.Map || reflect.PointerTo(f.Type).Implements(scannerType)
			byName[name] = columnField{path: path, typ: f.Type, viaPtr: !nullable}
		}
	}
	walk(t, nil)
	out := make([]columnField, len(cols))
	for i, c := range cols {
		out[i] = byName[c.Name]
	}
	columnFieldsCache.Store(k, out)
	return out
}
