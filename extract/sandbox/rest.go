package sandbox

import "net/http"

// RESTPath is the path the REST API is served under.
const RESTPath = "/rest/6.0/"

func (m *Merchant) restHandler() http.Handler { return http.NotFoundHandler() }
