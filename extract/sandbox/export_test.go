package sandbox

import (
	"encoding/json"
	"net/http"
)

// The sandbox's encoders and legacy wire types, for the round-trip tests
// of package sandbox_test, which read them back through the real clients
// and transform.
type (
	Request              = request
	LegacySale           = legacySale
	LegacyListResponse   = legacyListResponse
	LegacyPageInfo       = legacyPageInfo
	LegacySaleSummary    = legacySaleSummary
	LegacyDetailResponse = legacyDetailResponse
)

func WritePage[T any](w http.ResponseWriter, id json.RawMessage, page, limit, count int, items []T) {
	writePage(w, id, page, limit, count, items)
}

func WriteRESTItems[T any](w http.ResponseWriter, page, limit, count int, items []T) {
	writeRESTItems(w, http.StatusOK, page, limit, count, items)
}

func WriteResult(w http.ResponseWriter, id json.RawMessage, result any) { writeResult(w, id, result) }

func WriteLegacy(w http.ResponseWriter, resp any) { writeLegacy(w, resp) }

// The sandbox's own wire records, which TestRoundTrip6 checks extract's
// decoding against.
type (
	WireOrder        = wireOrder
	WireSubscription = wireSubscription
)
