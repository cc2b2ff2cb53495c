package extracttest_test

import (
	"testing"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/legacy"
	"github.com/ledgerline/ledgerline/extract/rest"
)

// The sources under test, built from a setup.

func newJSONRPC(t *testing.T, s *extracttest.Setup) extract.Source {
	c, err := jsonrpc.New(jsonrpc.Config{
		Account: s.Account, Endpoint: s.JSONRPCURL(), MerchantCode: s.MerchantCode, SecretKey: s.SecretKey,
		PageSize: s.PageSize, MaxPasses: s.MaxPasses, Transport: s.Transport, Now: s.Now, Logger: s.Logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newREST(t *testing.T, s *extracttest.Setup) extract.Source {
	c, err := rest.New(rest.Config{
		Account: s.Account, Endpoint: s.RESTURL(), MerchantCode: s.MerchantCode, SecretKey: s.SecretKey,
		PageSize: s.PageSize, MaxPasses: s.MaxPasses, Transport: s.Transport, Now: s.Now, Logger: s.Logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newLegacy(t *testing.T, s *extracttest.Setup) extract.Source {
	c, err := legacy.New(legacy.Config{
		Account: s.Account, Endpoint: s.LegacyURL(), User: s.LegacyUser, Password: s.SecretKey, Currency: "USD",
		PageSize: s.PageSize, MaxPasses: s.MaxPasses, Transport: s.Transport, Logger: s.Logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
