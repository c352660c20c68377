package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// pipelined sends a page's independent reads in one round trip (a pgx
// batch on one connection of db's pool) and scans each answer with pgx,
// without database/sql's and GORM's per-row reflection. Each read is a
// statement with positional arguments and the function that takes its
// rows, in order. Inside a transaction opened by Transaction the batch runs
// on its held connection; inside any other, whose connection database/sql
// does not hand out, the reads run one after the other on it, scanned the
// same way.
func pipelined(ctx context.Context, db *gorm.DB, reads ...pipelinedRead) error {
	if len(reads) == 0 {
		return nil
	}
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
	case *sql.Tx:
		if c := heldConn(p); c != nil {
			conn = c
			break
		}
		for _, r := range reads {
			if err := r.scanSQL(p.QueryContext(ctx, r.sql, r.args...)); err != nil {
				return err
			}
		}
		return nil
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
				err = r.scan(pgxRows{rows})
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
	scan func(rows) error
}

func (r pipelinedRead) scanSQL(rs *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	return r.scan(sqlRows{rs})
}

// rows are a statement's answer, from pgx or database/sql.
type rows interface {
	Columns() []string
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Columns() []string {
	fs := r.FieldDescriptions()
	cols := make([]string, len(fs))
	for i, f := range fs {
		cols[i] = f.Name
	}
	return cols
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Columns() []string {
	cols, _ := r.Rows.Columns() // an error here is the one Next and Err report
	return cols
}

func (r sqlRows) Close() { _ = r.Rows.Close() }

// readInto is the pipelinedRead that collects its rows into *dst (scanRows).
func readInto[T any](dst *[]T, query string, args ...any) pipelinedRead {
	return pipelinedRead{sql: query, args: args, scan: func(rs rows) (err error) {
		*dst, err = scanRows[T](rs)
		return err
	}}
}

// scanRows reads each row into a T as GORM would: a column goes to the
// field GORM names it by (its column tag, or the field's name in snake
// case: LastMessageAt for last_message_at; embedded structs' fields too,
// after their embeddedPrefix, the outer one winning a name both have), and
// a nested column
// ("AuthorUser__name", as people_join.go selects them) to that field of
// the struct a pointer field points to, made only if one of its columns is
// not NULL; a column without a field is skipped, and so is a field without
// a column (relations not selected); NULL leaves a field that cannot hold
// it at its zero value. The mapping is worked out once per type and
// column list.
func scanRows[T any](rows rows) ([]T, error) {
	defer rows.Close()
	cols := columnFields(reflect.TypeFor[T](), rows.Columns())
	if _, native := rows.(pgxRows); !native {
		// database/sql hands lib/pq's arrays their text form, which they
		// parse themselves.
		cols = slices.Clone(cols)
		for i := range cols {
			cols[i].asSlice = nil
		}
	}
	var (
		out     []T
		skipped any // the columns without a field
	)
	targets := make([]any, len(cols))
	// A field that cannot hold NULL (a string, a time), and any field of
	// a relation, is read through a pointer to one, which NULL leaves nil.
	via := make([]reflect.Value, len(cols))
	for i, c := range cols {
		switch {
		case c.asSlice != nil:
			via[i] = reflect.New(c.asSlice)
		case c.viaPtr:
			via[i] = reflect.New(reflect.PointerTo(c.typ))
		}
	}
	for rows.Next() {
		out = append(out, *new(T))
		v := reflect.ValueOf(&out[len(out)-1]).Elem()
		for i, c := range cols {
			switch {
			case c.path == nil:
				targets[i] = &skipped
			case c.asSlice != nil:
				via[i].Elem().SetZero()
				targets[i] = via[i].Interface()
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
			if (!c.viaPtr && c.asSlice == nil) || via[i].Elem().IsNil() {
				continue
			}
			dst := v
			if c.rel != nil {
				r := v.FieldByIndex(c.rel)
				if r.IsNil() {
					r.Set(reflect.New(r.Type().Elem()))
				}
				dst = r.Elem()
			}
			if c.asSlice != nil {
				dst.FieldByIndex(c.path).Set(via[i].Elem().Convert(c.typ))
				continue
			}
			dst.FieldByIndex(c.path).Set(via[i].Elem().Elem())
		}
	}
	return out, rows.Err()
}

// columnField is where one column goes in a struct.
type columnField struct {
	rel    []int // the pointer field of the relation it belongs to (nil: none)
	path   []int // its field (in the relation's struct, for a relation's); nil: none
	typ    reflect.Type
	viaPtr bool // read through a pointer (the field cannot hold NULL, or is a relation's)
	// asSlice, for an array type of lib/pq's (pq.StringArray …), is the
	// plain slice pgx reads the column into: pgx would hand such a
	// sql.Scanner the array's binary form, which lib/pq cannot parse.
	asSlice reflect.Type
}

type columnFieldsKey struct {
	t    reflect.Type
	cols string
}

var columnFieldsCache sync.Map // columnFieldsKey → []columnField

var scannerType = reflect.TypeFor[sql.Scanner]()

// columnFields is, for each column, its field in t.
func columnFields(t reflect.Type, cols []string) []columnField {
	var key strings.Builder
	for _, c := range cols {
		key.WriteString(c)
		key.WriteByte(0)
	}
	k := columnFieldsKey{t, key.String()}
	if p, ok := columnFieldsCache.Load(k); ok {
		return p.([]columnField)
	}
	top := fieldsByColumn(t)
	out := make([]columnField, len(cols))
	for i, c := range cols {
		rel, col, nested := strings.Cut(c, "__")
		if !nested {
			out[i] = top[c]
			continue
		}
		f, ok := t.FieldByName(rel)
		if !ok || f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Struct {
			continue
		}
		if in, ok := fieldsByColumn(f.Type.Elem())[col]; ok {
			in.rel, in.viaPtr = f.Index, true
			out[i] = in
		}
	}
	columnFieldsCache.Store(k, out)
	return out
}

// fieldsByColumn maps the column names of t's fields (as GORM names them)
// to where they are.
func fieldsByColumn(t reflect.Type) map[string]columnField {
	byName := map[string]columnField{}
	var walk func(t reflect.Type, index []int, prefix string)
	walk = func(t reflect.Type, index []int, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("gorm")
			if !f.IsExported() || tag == "-" {
				continue
			}
			path := append(slices.Clone(index), i)
			name := schema.NamingStrategy{}.ColumnName("", f.Name)
			embedded, inner := f.Anonymous, ""
			for part := range strings.SplitSeq(tag, ";") {
				if c, ok := strings.CutPrefix(part, "column:"); ok {
					name = c
				}
				if part == "embedded" {
					embedded = true
				}
				if p, ok := strings.CutPrefix(part, "embeddedPrefix:"); ok {
					inner = p
				}
			}
			if embedded && f.Type.Kind() == reflect.Struct {
				walk(f.Type, path, prefix+inner) // its columns, as GORM's embedded struct (with its prefix)
				continue
			}
			name = prefix + name
			if had, taken := byName[name]; taken && len(had.path) <= len(path) {
				continue // the outer struct's field wins, as in Go
			}
			scanner := reflect.PointerTo(f.Type).Implements(scannerType)
			nullable := f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice ||
				f.Type.Kind() == reflect.Map || scanner
			cf := columnField{path: path, typ: f.Type, viaPtr: !nullable}
			if scanner && f.Type.Kind() == reflect.Slice && f.Type.Name() != "" {
				cf.asSlice = reflect.SliceOf(f.Type.Elem())
			}
			byName[name] = cf
		}
	}
	walk(t, nil, "")
	return byName
}

// readNamed is readInto for a statement written with named arguments
// (@name, as GORM takes them), so a pipelined read shares its SQL with
// GORM's readings of it.
func readNamed[T any](dst *[]T, query string, args map[string]any) pipelinedRead {
	q, pos := positional(query, args)
	return readInto(dst, q, pos...)
}

// positional rewrites query's named arguments (@name) as $1, $2, … in order
// of first use, with their values; a slice becomes a list of its elements,
// ($3,$4,$5), as GORM writes it (for IN). A quoted literal or identifier,
// and a name args does not hold, are left as written.
func positional(query string, args map[string]any) (string, []any) {
	var (
		b     strings.Builder
		vals  []any
		index = map[string]int{}
		quote byte
	)
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '@':
			j := i + 1
			for j < len(query) && (query[j] == '_' || 'a' <= query[j] && query[j] <= 'z' || 'A' <= query[j] && query[j] <= 'Z' || '0' <= query[j] && query[j] <= '9') {
				j++
			}
			name := query[i+1 : j]
			if v, ok := args[name]; ok && name != "" {
				if a, ok := v.(arrayArg); ok {
					v = a.v // one array, as pgx sends a slice
				} else if list, ok := listArg(v); ok {
					// As GORM writes a slice: a parenthesised list.
					b.WriteByte('(')
					for k, e := range list {
						if k > 0 {
							b.WriteByte(',')
						}
						vals = append(vals, e)
						b.WriteString("$" + strconv.Itoa(len(vals)))
					}
					b.WriteByte(')')
					i = j - 1
					continue
				}
				n, seen := index[name]
				if !seen {
					vals = append(vals, v)
					n = len(vals)
					index[name] = n
				}
				b.WriteString("$" + strconv.Itoa(n))
				i = j - 1
				continue
			}
		}
		b.WriteByte(ch)
	}
	return b.String(), vals
}

// asArray passes slice v to a pipelined read's named argument as one array
// parameter (CAST(@ids AS bigint[])), which pgx sends natively, where a
// bare slice is a list as GORM writes it (for IN).
func asArray(v any) any { return arrayArg{v} }

type arrayArg struct{ v any }

// listArg is v's elements if GORM writes v as a list: a slice other than
// bytes that is not a driver.Valuer (pq.Int64Array goes as one array).
func listArg(v any) ([]any, bool) {
	if _, valuer := v.(driver.Valuer); valuer {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}
