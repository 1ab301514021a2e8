package control

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/wsim/wsim/internal/service"
)

// resetRequest is the body of POST /_wsim/reset and /moto-api/reset; an
// empty body or {} resets everything.
type resetRequest struct {
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
}

// resetView is the answer of POST /_wsim/reset.
type resetView struct {
	// Scope is "all", "account" or "region" (one account in one Region).
	Scope   string `json:"scope"`
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	// Removed counts the records deleted, by kind; see service.ResetResult.
	Removed map[string]int `json:"removed"`
	// Unshared counts the images of other accounts that lost a grant to
	// the reset account.
	Unshared int `json:"unshared"`
	// Clock is "reset" (back to real time, running) or "kept".
	Clock string `json:"clock"`
	// FaultRules counts the fault rules removed: all of them with a full
	// reset, none otherwise.
	FaultRules int `json:"faultRules"`
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// doReset runs the reset a request asks for and logs it.
func (h *Handler) doReset(r *http.Request) (resetView, error) {
	var req resetRequest
	if err := readJSON(r, &req); err != nil {
		return resetView{}, err
	}
	switch {
	case req.Account == "" && req.Region != "":
		return resetView{}, badRequest(fmt.Errorf("a reset of Region %q needs its account too: {\"account\": \"111122223333\", \"region\": %q}", req.Region, req.Region))
	case req.Account != "" && !accountID.MatchString(req.Account):
		return resetView{}, badRequest(fmt.Errorf("account %q is not a 12-digit AWS account id", req.Account))
	}
	sel := service.Selection{Account: req.Account, Region: req.Region}
	res, err := h.svc.Reset(r.Context(), sel)
	if err != nil {
		return resetView{}, err
	}
	v := resetView{Scope: "region", Account: req.Account, Region: req.Region, Removed: res.Removed,
		Unshared: res.Unshared, Clock: "kept", FaultRules: res.FaultRules}
	switch {
	case sel.All():
		v.Scope, v.Clock = "all", "reset"
	case req.Region == "":
		v.Scope = "account"
	}
	h.recordAction(r, ActionReset, slog.String("scope", v.Scope), slog.String("account", v.Account),
		slog.String("region", v.Region), slog.Any("removed", v.Removed), slog.Int("unshared", v.Unshared),
		slog.String("clock", v.Clock), slog.Int("fault_rules", v.FaultRules))
	return v, nil
}

// reset serves POST /_wsim/reset.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) error {
	v, err := h.doReset(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// motoReset serves POST /moto-api/reset, where moto's server mode (and its
// test decorator, with an empty body) resets everything; it answers as moto
// does. It takes the same bodies as POST /_wsim/reset.
func (h *Handler) motoReset(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.doReset(r); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(`{"status": "ok"}`))
	return nil
}
