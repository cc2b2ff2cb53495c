// Package apis is the table of the 2Checkout APIs the job reads: each
// entry names an API and opens a client of it from the common
// configuration. Adding an API is a package with a New(Config) function
// and one line in the table.
//
// The package does not import package config, so that config can
// validate the names of APIs against Names.
package apis

import (
	"fmt"
	"slices"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apiclient"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/legacy"
	"github.com/ledgerline/ledgerline/extract/rest"
)

// Config configures a client of any API; each API reads the fields it
// uses (see apiclient.Config).
type Config = apiclient.Config

// An API is one entry of the table.
type API struct {
	// Name is the API's name in jobs.yaml and in the rows it extracts.
	Name string
	// Open returns a client of the API for the account cfg describes.
	Open func(cfg Config) (extract.Source, error)
}

// table lists the APIs, the default first.
func table() []API {
	return []API{
		{"jsonrpc", open(jsonrpc.New)},
		{"rest", open(rest.New)},
		{"legacy", open(legacy.New)},
	}
}

// open adapts a client package's New to API.Open.
func open[C extract.Source](newClient func(Config) (C, error)) func(Config) (extract.Source, error) {
	return func(cfg Config) (extract.Source, error) {
		c, err := newClient(cfg)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Names returns the names of the APIs, the default first.
func Names() []string {
	var names []string
	for _, a := range table() {
		names = append(names, a.Name)
	}
	return names
}

// Open returns a client of the API named name for the account cfg
// describes.
func Open(name string, cfg Config) (extract.Source, error) {
	i := slices.IndexFunc(table(), func(a API) bool { return a.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("unknown api %q (want one of %v)", name, Names())
	}
	return table()[i].Open(cfg)
}
