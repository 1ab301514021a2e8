package control

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wsim/wsim/internal/dashboard"
)

// catalogFilter reads the query of /_wsim/resources. Unknown parameters are
// refused, so that a typo never silently shows everything.
func catalogFilter(q url.Values) (dashboard.CatalogFilter, error) {
	for k := range q {
		switch k {
		case "account", "region", "kind", "limit", "nextToken":
		default:
			return dashboard.CatalogFilter{}, badRequest(fmt.Errorf("unknown parameter %q: use account, region, kind, limit and nextToken", k))
		}
	}
	f := dashboard.CatalogFilter{Account: q.Get("account"), Region: q.Get("region"), Kind: q.Get("kind"), NextToken: q.Get("nextToken")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, badRequest(fmt.Errorf("limit %q is not a number between 1 and %d", v, dashboard.MaxCatalogLimit))
		}
		f.Limit = n
	}
	return f, nil
}

// resources serves the catalogue: every resource of every account and
// Region, newest first.
func (h *Handler) resources(w http.ResponseWriter, r *http.Request) error {
	f, err := catalogFilter(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.svc.Catalog(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}
