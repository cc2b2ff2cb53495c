// Package schemas is the table contract: the one definition of every output
// table. Each table is a Go row struct whose fields carry the column name and
// description in tags; the column types, modes, Arrow schema and (later)
// BigQuery schema are all derived from it, so no column name is spelled twice.
//
// Field types map to column types as follows; a pointer field is NULLABLE,
// any other field is REQUIRED:
//
//	string        STRING
//	int64         INT64
//	bool          BOOL
//	money.Amount  NUMERIC / DECIMAL(18,6)
//	money.Rate    NUMERIC / DECIMAL(18,9)
//	time.Time     TIMESTAMP (UTC, microseconds)
//	civil.Date    DATE
package schemas

import (
	"fmt"
	"reflect"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
)

// Type is a column's logical type.
type Type int

// The column types of the contract.
const (
	String Type = iota + 1
	Int64
	Bool
	Decimal // DECIMAL(18,6): money
	Timestamp
	Date
	Rate // DECIMAL(18,9): rates
)

func (t Type) String() string {
	switch t {
	case String:
		return "STRING"
	case Int64:
		return "INT64"
	case Bool:
		return "BOOL"
	case Decimal:
		return "NUMERIC"
	case Timestamp:
		return "TIMESTAMP"
	case Date:
		return "DATE"
	case Rate:
		return "NUMERIC(18,9)"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Scale returns the decimal places of a Decimal or Rate column, 0 for any
// other type.
func (t Type) Scale() int32 {
	switch t {
	case Decimal:
		return money.Scale
	case Rate:
		return money.RateScale
	}
	return 0
}

// Column is one column of a table.
type Column struct {
	Name        string
	Type        Type
	Nullable    bool
	Description string
	// Field is the index of the row struct field that holds the column.
	Field int
}

// Table is one output table.
type Table struct {
	Name        string
	Description string
	Columns     []Column
	// Partition is the DATE column the table is partitioned by (DAY).
	Partition string
	// Clustering lists the clustering columns, in order.
	Clustering []string
	// Key lists the columns that identify a row.
	Key []string
	// Row is the row struct type.
	Row reflect.Type
}

// Column returns the column called name.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

var (
	amountType = reflect.TypeFor[money.Amount]()
	rateType   = reflect.TypeFor[money.Rate]()
	timeType   = reflect.TypeFor[time.Time]()
	dateType   = reflect.TypeFor[civil.Date]()
)

// newTable derives the columns of row type R and checks that the partition,
// clustering and key columns exist. It panics on a malformed definition: the
// contract is code, and a mistake in it is a programming error caught by the
// package's tests.
func newTable[R any](name, desc, partition string, clustering, key []string) Table {
	rt := reflect.TypeFor[R]()
	t := Table{Name: name, Description: desc, Partition: partition, Clustering: clustering, Key: key, Row: rt}
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		colName := f.Tag.Get("col")
		if colName == "" {
			panic(fmt.Sprintf("schemas: %s.%s has no col tag", rt.Name(), f.Name))
		}
		ft, nullable := f.Type, false
		if ft.Kind() == reflect.Pointer {
			ft, nullable = ft.Elem(), true
		}
		var ct Type
		switch {
		case ft == amountType:
			ct = Decimal
		case ft == rateType:
			ct = Rate
		case ft == timeType:
			ct = Timestamp
		case ft == dateType:
			ct = Date
		case ft.Kind() == reflect.String:
			ct = String
		case ft.Kind() == reflect.Int64:
			ct = Int64
		case ft.Kind() == reflect.Bool:
			ct = Bool
		default:
			panic(fmt.Sprintf("schemas: %s.%s has unsupported type %s", rt.Name(), f.Name, f.Type))
		}
		t.Columns = append(t.Columns, Column{Name: colName, Type: ct, Nullable: nullable, Description: f.Tag.Get("desc"), Field: i})
	}
	for _, c := range append(append([]string{partition}, clustering...), key...) {
		if _, ok := t.Column(c); !ok {
			panic(fmt.Sprintf("schemas: %s names unknown column %q", name, c))
		}
	}
	if c, _ := t.Column(partition); c.Type != Date || c.Nullable {
		panic(fmt.Sprintf("schemas: %s partition column %q must be a required DATE", name, partition))
	}
	return t
}

// Orders is the orders table: one row per order.
func Orders() Table {
	return newTable[Order]("orders", "One row per 2Checkout order.", "order_date",
		[]string{"merchant_code", "currency"}, []string{"merchant_code", "ref_no"})
}

// OrderItems is the order_items table: one row per order line.
func OrderItems() Table {
	return newTable[OrderItem]("order_items", "One row per order line.", "order_date",
		[]string{"merchant_code", "product_code"}, []string{"merchant_code", "ref_no", "line_no"})
}

// SubscriptionHistory is the subscription_history table: one row per
// version of a subscription (type 2). The current versions are the
// partition valid_to = OpenValidTo(), which every run rewrites; a closed
// version is in the partition of the day it was closed, written once.
func SubscriptionHistory() Table {
	return newTable[Subscription]("subscription_history", "One row per version of a subscription, valid from valid_from until the day before valid_to (9999-12-31: current).", "valid_to",
		[]string{"merchant_code", "product_code"}, []string{"merchant_code", "subscription_reference", "valid_from"})
}

// SubscriptionReads is the subscription_reads table: one row per run and
// business date that read subscriptions.
func SubscriptionReads() Table {
	return newTable[SubscriptionRead]("subscription_reads", "How each run read the subscriptions: in full, or the changes since a day.", "business_date",
		[]string{"merchant_code"}, []string{"merchant_code", "business_date"})
}

// Chargebacks is the chargebacks table: one row per disputed order.
func Chargebacks() Table {
	return newTable[Chargeback]("chargebacks", "One row per disputed order, with the fee it costs.", "opened_on",
		[]string{"merchant_code", "resolution"}, []string{"merchant_code", "ref_no"})
}

// ChargebackRates is the chargeback_rates table: one row per account-month.
func ChargebackRates() Table {
	return newTable[ChargebackRate]("chargeback_rates", "Monthly chargeback rate per account and the fee it sets for the next month.", "month",
		[]string{"merchant_code"}, []string{"merchant_code", "month"})
}

// RejectedRows is the rejected_rows table: one row per quarantined record.
func RejectedRows() Table {
	return newTable[RejectedRow]("rejected_rows", "Raw records that failed validation, with the reason.", "run_date",
		[]string{"merchant_code", "stream"}, []string{"run_id", "stream", "position"})
}

// Runs is the etl_runs table: one row per run, appended.
func Runs() Table {
	return newTable[Run]("etl_runs", "One row per run of a job on an account: what it did, or why it failed.", "started_on",
		[]string{"job", "merchant_code"}, []string{"run_id"})
}

// ReportDeliveries is the report_deliveries table: one row per report sent
// to a list of recipients.
func ReportDeliveries() Table {
	return newTable[ReportDelivery]("report_deliveries", "One row per report sent to a list of recipients, with the figures it stated.", "month",
		[]string{"merchant_code", "report"}, []string{"merchant_code", "message_id"})
}

// All returns every table the job writes.
func All() []Table {
	return []Table{Orders(), OrderItems(), SubscriptionHistory(), SubscriptionReads(), Chargebacks(), ChargebackRates(), RejectedRows(), Runs(), ReportDeliveries()}
}

// Lookup returns the table called name.
func Lookup(name string) (Table, bool) {
	for _, t := range All() {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}
