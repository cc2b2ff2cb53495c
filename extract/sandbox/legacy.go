package sandbox

import "net/http"

// LegacyPath is the path the legacy Admin API is served under.
const LegacyPath = "/api/"

// DefaultLegacyUser is the legacy API user unless Config.LegacyUser is set.
const DefaultLegacyUser = "api-user"

func (m *Merchant) legacyHandler() http.Handler { return http.NotFoundHandler() }
