package schemas

import "github.com/apache/arrow-go/v18/arrow"

// ArrowType returns the Arrow type that stores a column of type t.
func (t Type) ArrowType() arrow.DataType {
	switch t {
	case String:
		return arrow.BinaryTypes.String
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Decimal:
		return &arrow.Decimal128Type{Precision: 18, Scale: 6}
	case Timestamp:
		// A time zone makes Parquet mark the column isAdjustedToUTC=true, so
		// BigQuery loads it as TIMESTAMP rather than DATETIME.
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Rate:
		return &arrow.Decimal128Type{Precision: 18, Scale: 9}
	}
	panic("schemas: unknown type " + t.String())
}

// ArrowSchema returns the table's Arrow schema, with each column's
// description as field metadata.
func (t Table) ArrowSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(t.Columns))
	for i, c := range t.Columns {
		fields[i] = arrow.Field{
			Name:     c.Name,
			Type:     c.Type.ArrowType(),
			Nullable: c.Nullable,
			Metadata: arrow.NewMetadata([]string{"description"}, []string{c.Description}),
		}
	}
	return arrow.NewSchema(fields, nil)
}
