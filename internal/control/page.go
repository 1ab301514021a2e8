package control

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wsim/wsim/internal/dashboard"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/webui"
)

// dashboardQuery reads the query of the dashboard and of its event stream:
// account and region narrow both the pipelines and the catalogue; kind,
// state, id, order and nextToken are the pipelines' (as on /_wsim/pipelines,
// but newest first unless order says otherwise); resourceKind and
// resourceNextToken are the catalogue's (kind and nextToken on
// /_wsim/resources); limit is the page size of both. Unknown parameters are
// refused, so that a typo never silently shows everything.
func dashboardQuery(q url.Values) (dashboard.PipelineFilter, dashboard.CatalogFilter, error) {
	for k := range q {
		switch k {
		case "account", "region", "kind", "state", "id", "limit", "nextToken", "order", "resourceKind", "resourceNextToken":
		default:
			return dashboard.PipelineFilter{}, dashboard.CatalogFilter{}, badRequest(fmt.Errorf(
				"unknown parameter %q: use account, region, kind, state, id, order, limit, nextToken, resourceKind and resourceNextToken", k))
		}
	}
	pf := dashboard.PipelineFilter{
		Account: q.Get("account"), Region: q.Get("region"), Kind: pipeline.Kind(q.Get("kind")),
		Phase: q.Get("state"), ID: q.Get("id"), NextToken: q.Get("nextToken"), Order: q.Get("order"),
	}
	if pf.Order == "" {
		pf.Order = dashboard.OrderNewest
	}
	cf := dashboard.CatalogFilter{
		Account: pf.Account, Region: pf.Region, Kind: q.Get("resourceKind"), NextToken: q.Get("resourceNextToken"),
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pf, cf, badRequest(fmt.Errorf("limit %q is not a number between 1 and %d", v, dashboard.MaxPipelineLimit))
		}
		pf.Limit, cf.Limit = n, n
	}
	return pf, cf, nil
}

// page computes what the dashboard shows for the query, at the service
// time. A refused filter or an unreachable store becomes the page's
// Problem, with the status it is answered with, so that the page keeps its
// controls.
func (h *Handler) page(ctx context.Context, q url.Values) (webui.Page, int) {
	p := webui.Page{Profile: h.svc.Profile().Name, CatalogKinds: h.svc.CatalogKinds()}
	status := http.StatusOK
	fail := func(err error) {
		if status == http.StatusOK {
			status, p.Problem = errorStatus(err), err.Error()
		}
	}
	pf, cf, err := dashboardQuery(q)
	p.Filter, p.CatalogFilter = pf, cf
	if err != nil {
		fail(err)
	}
	if st, err := h.svc.Clock().State(ctx); err != nil {
		fail(err)
	} else {
		p.Frozen = st.Frozen
	}
	if p.Problem == "" {
		if p.Pipelines, err = h.svc.Pipelines(ctx, pf); err != nil {
			fail(err)
		}
	}
	if p.Problem == "" {
		if p.Catalog, err = h.svc.Catalog(ctx, cf); err != nil {
			fail(err)
		}
	}
	if p.Pipelines.Now.IsZero() {
		// Still show the time of a page that could not list anything.
		p.Pipelines.Now, _ = h.svc.Clock().Now(ctx)
	}
	if p.Rules, err = h.svc.FaultRules(ctx); err != nil {
		fail(err)
	}
	return p, status
}

// dashboard renders the page of package webui, with the URL of its event
// stream for the same filter.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	p, status := h.page(r.Context(), r.URL.Query())
	if status != http.StatusBadRequest {
		p.Events = "/_wsim/events"
		if q := r.URL.Query(); len(q) > 0 {
			p.Events += "?" + q.Encode()
		}
	}
	var buf bytes.Buffer
	if err := webui.Render(&buf, p); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("render the dashboard: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
