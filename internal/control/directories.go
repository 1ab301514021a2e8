package control

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wsim/wsim/internal/records"
	"github.com/wsim/wsim/internal/resources/directories"
)

// The actions of the Directory Service stand-in.
const (
	ActionDirectoryDeclare   = "directory.declare"
	ActionDirectoryUndeclare = "directory.undeclare"
)

// directoryRoutes serves the Directory Service stand-in under
// /_wsim/directories.
func (h *Handler) directoryRoutes() {
	for pattern, f := range map[string]handlerFunc{
		"GET /_wsim/directories":         h.listDirectories,
		"POST /_wsim/directories":        h.declareDirectory,
		"DELETE /_wsim/directories/{id}": h.undeclareDirectory,
	} {
		h.mux.Handle(pattern, f)
	}
}

// directoryView is a declared Directory Service directory as the control
// API shows it.
type directoryView struct {
	Account          string    `json:"account"`
	Region           string    `json:"region"`
	DirectoryID      string    `json:"directoryId"`
	Name             string    `json:"name"`
	Type             string    `json:"type"`
	Stage            string    `json:"stage"`
	DNSIPAddresses   []string  `json:"dnsIpAddresses"`
	SubnetIDs        []string  `json:"subnetIds"`
	CustomerUserName string    `json:"customerUserName"`
	Users            []string  `json:"users"`
	Declared         time.Time `json:"declared"`
}

func newDirectoryView(d *records.DSDirectory) directoryView {
	users := d.Users
	if users == nil {
		users = []string{}
	}
	return directoryView{
		Account: d.Account, Region: d.Region, DirectoryID: d.ID, Name: d.DomainName, Type: d.Type, Stage: d.Stage,
		DNSIPAddresses: d.DNSIPAddresses, SubnetIDs: d.SubnetIDs, CustomerUserName: d.CustomerUserName, Users: users,
		Declared: d.Created,
	}
}

func directoryStatus(err error) error {
	switch {
	case errors.Is(err, directories.ErrInvalidDeclaration):
		return badRequest(err)
	case errors.Is(err, directories.ErrNotDeclared):
		return &statusError{http.StatusNotFound, err}
	case errors.Is(err, directories.ErrStillRegistered):
		return &statusError{http.StatusConflict, err}
	}
	return err
}

// scopeQuery reads the account and region parameters, refusing any other.
func scopeQuery(r *http.Request) (account, region string, err error) {
	q := r.URL.Query()
	for k := range q {
		if k != "account" && k != "region" {
			return "", "", badRequest(fmt.Errorf("unknown parameter %q: use account and region", k))
		}
	}
	return q.Get("account"), q.Get("region"), nil
}

// listDirectories serves GET /_wsim/directories: the declared Directory
// Service directories, of one account and Region or of all.
func (h *Handler) listDirectories(w http.ResponseWriter, r *http.Request) error {
	account, region, err := scopeQuery(r)
	if err != nil {
		return err
	}
	ds, err := directories.Declared(r.Context(), h.svc.Records(), account, region)
	if err != nil {
		return err
	}
	views := make([]directoryView, 0, len(ds))
	for _, d := range ds {
		views = append(views, newDirectoryView(d))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"mode": h.svc.Records().DirectoryMode(), "directories": views})
}

// declareDirectory serves POST /_wsim/directories: declares a Directory
// Service directory and its users, or replaces its declaration.
func (h *Handler) declareDirectory(w http.ResponseWriter, r *http.Request) error {
	var dec directories.Declaration
	if err := readJSON(r, &dec); err != nil {
		return err
	}
	now, err := h.svc.Clock().Now(r.Context())
	if err != nil {
		return err
	}
	d, created, err := directories.Declare(r.Context(), h.svc.Records(), dec, now)
	if err != nil {
		return directoryStatus(err)
	}
	h.recordAction(r, ActionDirectoryDeclare, slog.String("account", d.Account), slog.String("region", d.Region),
		slog.String("directory", d.ID), slog.Int("users", len(d.Users)), slog.Bool("created", created))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, newDirectoryView(d))
}

// undeclareDirectory serves DELETE /_wsim/directories/{id}?account=&region=.
func (h *Handler) undeclareDirectory(w http.ResponseWriter, r *http.Request) error {
	account, region, err := scopeQuery(r)
	if err != nil {
		return err
	}
	if account == "" || region == "" {
		return badRequest(errors.New("account and region are required"))
	}
	now, err := h.svc.Clock().Now(r.Context())
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := directories.Undeclare(r.Context(), h.svc.Records(), account, region, id, now); err != nil {
		return directoryStatus(err)
	}
	h.recordAction(r, ActionDirectoryUndeclare, slog.String("account", account), slog.String("region", region), slog.String("directory", id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
