package config

import (
	"reflect"
	"slices"

	"gopkg.in/yaml.v3"
)

// Destination is where a job writes its tables. Type names the kind of
// destination, and the one field whose kind tag is that type holds the
// kind's own keys; the fields of the other kinds are nil. In jobs.yaml the
// keys of the kind sit beside type in one mapping:
//
//	destination: {type: bigquery, project: acme, dataset: ledger}
//
// Adding a kind is a struct that validates itself, a field here, and its
// entry in the table of load/destinations, which opens it.
type Destination struct {
	Type     string               `yaml:"type"`
	Local    *LocalDestination    `yaml:"-" kind:"local"`
	BigQuery *BigQueryDestination `yaml:"-" kind:"bigquery"`
}

// LocalDestination is a warehouse of Parquet files in a local directory.
type LocalDestination struct {
	// Path is the warehouse directory.
	Path string `yaml:"path"`
}

// BigQueryDestination is a BigQuery dataset.
type BigQueryDestination struct {
	// Project, Dataset and Location address the dataset; Endpoint is for
	// an emulator.
	Project  string `yaml:"project"`
	Dataset  string `yaml:"dataset"`
	Location string `yaml:"location"`
	Endpoint string `yaml:"endpoint"`
	// StagingDataset holds the staging tables; empty means Dataset.
	StagingDataset string `yaml:"staging_dataset"`
}

// DestinationTypes returns the destination types, in field order.
func DestinationTypes() []string {
	var types []string
	for _, k := range kinds() {
		types = append(types, k.key)
	}
	return types
}

// kinds returns the fields of Destination that hold a kind's keys, keyed
// by their kind tag.
func kinds() []field {
	t := reflect.TypeFor[Destination]()
	var fs []field
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("kind"); k != "" {
			fs = append(fs, field{k, i})
		}
	}
	return fs
}

// destination reads the mapping n into d: the type first, then the other
// keys into a new struct of that type's kind, which then validates itself.
// A key of another kind is not allowed; a key of no kind is unknown. When
// the type is missing or unknown, only unknown keys are reported.
func (c *checker) destination(d *Destination, n *yaml.Node, l *loc) {
	if n.Kind != yaml.MappingNode {
		c.fail(l, "want a mapping, got %s", describe(n))
		return
	}
	v := reflect.ValueOf(d).Elem()
	own := slots(v, n, l)
	c.register(own)
	// A new struct of each kind, to read the keys of the type into.
	type kind struct {
		index int           // the field of Destination
		ptr   reflect.Value // the new struct
		slots []slot
	}
	byType := map[string]kind{}
	all := slices.Clone(own)
	for _, k := range kinds() {
		p := reflect.New(v.Field(k.index).Type().Elem())
		byType[k.key] = kind{k.index, p, slots(p.Elem(), n, l)}
		all = append(all, byType[k.key].slots...)
	}
	var others []slot // the keys present that are not Destination's own
	for _, s := range c.keys(n, l, all) {
		if slices.ContainsFunc(own, func(o slot) bool { return o.l == s.l }) {
			c.decode(s.v, s.l)
		} else {
			others = append(others, s)
		}
	}
	c.required(&d.Type)
	if !c.oneOf(&d.Type, "destination", DestinationTypes()...) {
		return
	}
	mine := byType[d.Type]
	c.register(mine.slots)
	var allowed []string
	for _, s := range slices.Concat(own, mine.slots) {
		allowed = append(allowed, s.key)
	}
	for _, s := range others {
		if i := slices.IndexFunc(mine.slots, func(m slot) bool { return m.key == s.key }); i >= 0 {
			c.decode(mine.slots[i].v, mine.slots[i].l)
		} else {
			c.errorAt(s.l.key, s.l.path, "not allowed with destination type %s (want %s)", d.Type, oneOf(allowed))
		}
	}
	v.Field(mine.index).Set(mine.ptr)
	c.validate(mine.ptr.Elem())
}
