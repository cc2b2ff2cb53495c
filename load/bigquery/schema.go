package bigquery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	bq "cloud.google.com/go/bigquery"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// Schema returns the BigQuery schema of t: one field per column, in the
// contract's order, REQUIRED unless the column is nullable, with the
// column's description. Money is NUMERIC(18,6), rates NUMERIC(18,9).
func Schema(t schemas.Table) bq.Schema {
	s := make(bq.Schema, len(t.Columns))
	for i, c := range t.Columns {
		s[i] = field(c)
	}
	return s
}

func field(c schemas.Column) *bq.FieldSchema {
	f := &bq.FieldSchema{Name: c.Name, Description: c.Description, Required: !c.Nullable}
	switch c.Type {
	case schemas.String:
		f.Type = bq.StringFieldType
	case schemas.Int64:
		f.Type = bq.IntegerFieldType
	case schemas.Bool:
		f.Type = bq.BooleanFieldType
	case schemas.Decimal, schemas.Rate:
		f.Type = bq.NumericFieldType
		f.Precision, f.Scale = money.Precision, int64(c.Type.Scale())
	case schemas.Timestamp:
		f.Type = bq.TimestampFieldType
	case schemas.Date:
		f.Type = bq.DateFieldType
	default:
		panic(fmt.Sprintf("bigquery: column %s has unknown type %v", c.Name, c.Type))
	}
	return f
}

// TableMetadata returns the metadata a missing target table is created
// with: the contract's schema and description, partitioned by day on the
// partition column, clustered by the clustering columns.
func TableMetadata(t schemas.Table) *bq.TableMetadata {
	md := &bq.TableMetadata{
		Description:      t.Description,
		Schema:           Schema(t),
		TimePartitioning: &bq.TimePartitioning{Type: bq.DayPartitioningType, Field: t.Partition},
	}
	if len(t.Clustering) > 0 {
		md.Clustering = &bq.Clustering{Fields: slices.Clone(t.Clustering)}
	}
	return md
}

// IncompatibleError says why an existing table cannot hold the contract's
// table and cannot be changed in place to do so.
type IncompatibleError struct {
	Table  string // dataset.table
	Column string // the column at fault; empty for the table as a whole
	Reason string
}

func (e *IncompatibleError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("bigquery: table %s is incompatible with the contract: %s", e.Table, e.Reason)
	}
	return fmt.Sprintf("bigquery: table %s is incompatible with the contract: column %s: %s", e.Table, e.Column, e.Reason)
}

// typeName normalizes the legacy and standard SQL names of a field type.
func typeName(t bq.FieldType) string {
	switch s := strings.ToUpper(string(t)); s {
	case "INT64":
		return "INTEGER"
	case "BOOL":
		return "BOOLEAN"
	case "FLOAT64":
		return "FLOAT"
	case "STRUCT":
		return "RECORD"
	default:
		return s
	}
}

// describe writes a field's type as SQL does: INT64, NUMERIC(18,6), ...
func describe(f *bq.FieldSchema) string {
	var s string
	switch typeName(f.Type) {
	case "INTEGER":
		s = "INT64"
	case "BOOLEAN":
		s = "BOOL"
	default:
		s = typeName(f.Type)
	}
	if f.Precision > 0 {
		s += fmt.Sprintf("(%d,%d)", f.Precision, f.Scale)
	}
	if f.Repeated {
		s = "ARRAY<" + s + ">"
	}
	return s
}

func mode(f *bq.FieldSchema) string {
	switch {
	case f.Repeated:
		return "REPEATED"
	case f.Required:
		return "REQUIRED"
	}
	return "NULLABLE"
}

// Plan compares the metadata of an existing table (called name in
// messages) with the contract's table t. It returns the update that brings
// the table in line with the contract in place, nil if none is needed, or
// an error joining an *IncompatibleError for every change BigQuery cannot
// make in place.
//
// In place: a nullable column of the contract missing from the table is
// added (after the table's columns); a REQUIRED column the contract makes
// nullable is relaxed; column and table descriptions and the clustering
// follow the contract. Not in place: a column whose type or precision
// differs, a new REQUIRED column, a NULLABLE column the contract makes
// REQUIRED, a REQUIRED column the contract does not have (inserts could not
// fill it), or different partitioning. Columns of the table that the
// contract does not have and that are NULLABLE are left alone.
func Plan(name string, md *bq.TableMetadata, t schemas.Table) (*bq.TableMetadataToUpdate, error) {
	p := planner{name: name}
	schema, changed := p.columns(md.Schema, Schema(t))
	p.partitioning(md.TimePartitioning, t.Partition)
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	var upd bq.TableMetadataToUpdate
	if changed {
		upd.Schema = schema
	}
	var haveClustering []string
	if md.Clustering != nil {
		haveClustering = md.Clustering.Fields
	}
	if !slices.Equal(haveClustering, t.Clustering) {
		upd.Clustering = &bq.Clustering{Fields: slices.Clone(t.Clustering)}
		changed = true
	}
	if md.Description != t.Description {
		upd.Description = t.Description
		changed = true
	}
	if !changed {
		return nil, nil
	}
	return &upd, nil
}

// planner collects the changes Plan finds BigQuery cannot make in place.
type planner struct {
	name string // the table, in messages
	errs []error
}

func (p *planner) bad(column, format string, args ...any) {
	p.errs = append(p.errs, &IncompatibleError{Table: p.name, Column: column, Reason: fmt.Sprintf(format, args...)})
}

// columns returns the schema that brings the table's columns, have, in
// line with the contract's, want, and whether it differs from have.
func (p *planner) columns(have, want bq.Schema) (bq.Schema, bool) {
	schema := make(bq.Schema, 0, len(have)+len(want))
	changed := false
	for _, h := range have {
		i := slices.IndexFunc(want, func(f *bq.FieldSchema) bool { return strings.EqualFold(f.Name, h.Name) })
		if i < 0 {
			if h.Required {
				p.bad(h.Name, "is REQUIRED in the table but not in the contract, so inserts cannot fill it")
			}
			schema = append(schema, h)
			continue
		}
		f, c := p.column(h, want[i])
		schema = append(schema, f)
		changed = changed || c
	}
	for _, w := range want {
		if slices.ContainsFunc(have, func(f *bq.FieldSchema) bool { return strings.EqualFold(f.Name, w.Name) }) {
			continue
		}
		if w.Required {
			p.bad(w.Name, "is new and REQUIRED; only NULLABLE columns can be added to an existing table")
			continue
		}
		schema = append(schema, w)
		changed = true
	}
	return schema, changed
}

// column returns the field have of the table brought in line with the
// contract's w, and whether it changed.
func (p *planner) column(have, w *bq.FieldSchema) (*bq.FieldSchema, bool) {
	f := *have
	changed := false
	switch {
	case have.Repeated || typeName(have.Type) != typeName(w.Type):
		p.bad(w.Name, "is %s %s in the table, the contract has %s", mode(have), describe(have), describe(w))
	case typeName(w.Type) == "NUMERIC" && have.Precision != 0 && (have.Precision != w.Precision || have.Scale != w.Scale):
		p.bad(w.Name, "is %s in the table, the contract has %s", describe(have), describe(w))
	}
	switch {
	case have.Required == w.Required:
	case w.Required:
		p.bad(w.Name, "is NULLABLE in the table, the contract makes it REQUIRED; BigQuery cannot make a column REQUIRED in place")
	default:
		f.Required = false // relaxed in place
		changed = true
	}
	if f.Description != w.Description {
		f.Description = w.Description
		changed = true
	}
	return &f, changed
}

// partitioning checks the table's partitioning against the contract's
// partition column.
func (p *planner) partitioning(tp *bq.TimePartitioning, column string) {
	if tp != nil && tp.Type == bq.DayPartitioningType && strings.EqualFold(tp.Field, column) {
		return
	}
	got := "not partitioned by a column"
	if tp != nil && tp.Field != "" {
		got = fmt.Sprintf("partitioned by %s (%s)", tp.Field, tp.Type)
	} else if tp != nil {
		got = fmt.Sprintf("partitioned by ingestion time (%s)", tp.Type)
	}
	p.bad("", "it is %s, the contract partitions it by %s (DAY); partitioning cannot change in place", got, column)
}

// EnsureTables checks the target tables of ts against the contract,
// creating missing tables and updating existing ones in place (see Plan).
func (w *Warehouse) EnsureTables(ctx context.Context, ts ...schemas.Table) error {
	for _, t := range ts {
		if _, err := w.ensure(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// ensure returns the metadata of t's target table once it matches the
// contract. A table checked once is not checked again by this warehouse.
func (w *Warehouse) ensure(ctx context.Context, t schemas.Table) (*bq.TableMetadata, error) {
	if err := checkNames(t); err != nil {
		return nil, err
	}
	w.mu.Lock()
	md := w.tables[t.Name]
	w.mu.Unlock()
	if md != nil {
		return md, nil
	}
	if err := w.ensureDataset(ctx, w.cfg.Dataset); err != nil {
		return nil, err
	}
	tbl := w.table(t.Name)
	name := w.cfg.Dataset + "." + t.Name
	md, err := tbl.Metadata(ctx)
	if isNotFound(err) {
		err = tbl.Create(ctx, TableMetadata(t))
		if err != nil && !isStatus(err, http.StatusConflict) { // 409: created meanwhile
			return nil, fmt.Errorf("bigquery: creating table %s: %w", name, err)
		}
		md, err = tbl.Metadata(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("bigquery: table %s: %w", name, err)
	}
	upd, err := Plan(name, md, t)
	if err != nil {
		return nil, err
	}
	if upd != nil {
		if md, err = tbl.Update(ctx, *upd, md.ETag); err != nil {
			return nil, fmt.Errorf("bigquery: updating table %s to the contract: %w", name, err)
		}
	}
	w.mu.Lock()
	w.tables[t.Name] = md
	w.mu.Unlock()
	return md, nil
}

// ensureDataset creates the dataset called name in the configured location
// if it does not exist.
func (w *Warehouse) ensureDataset(ctx context.Context, name string) error {
	w.mu.Lock()
	ok := w.datasets[name]
	w.mu.Unlock()
	if ok {
		return nil
	}
	ds := w.client.Dataset(name)
	_, err := ds.Metadata(ctx)
	if isNotFound(err) {
		err = ds.Create(ctx, &bq.DatasetMetadata{Location: w.cfg.Location})
		if isStatus(err, http.StatusConflict) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("bigquery: dataset %s: %w", name, err)
	}
	w.mu.Lock()
	w.datasets[name] = true
	w.mu.Unlock()
	return nil
}
