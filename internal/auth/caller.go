// Package auth identifies the caller of a request: the account and Region
// that own everything the request touches.
//
// The account and Region come from the SigV4 credential scope of the
// Authorization header. Signatures are not verified yet, so nothing here is a
// security boundary; it is an isolation boundary between test tenants.
package auth

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/wsim/wsim/internal/api"
)

// Caller is who a request acts for.
type Caller struct {
	Account   string
	Region    string
	AccessKey string
}

// Defaults are used for what a request does not say: the account of an access
// key that is not a 12-digit account id, and the caller of an unsigned request.
type Defaults struct {
	Account string
	Region  string
}

// SigningName is the service name SigV4 scopes of WorkSpaces requests must
// carry.
const SigningName = "workspaces"

// STSSigningName is the service name of the scopes of STS requests, which
// wsim answers on the same port (package sts).
const STSSigningName = "sts"

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	region    = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]{1,2}$`)
	date      = regexp.MustCompile(`^[0-9]{8}$`)
	accessKey = regexp.MustCompile(`^[A-Za-z0-9+/=._-]{1,128}$`)
)

// FromRequest reads the caller from r. A request without an Authorization
// header acts as the default caller; a malformed one is refused with the
// error AWS gives (IncompleteSignatureException), and a scope for another
// service with InvalidSignatureException.
func FromRequest(r *http.Request, d Defaults) (Caller, error) {
	return FromRequestFor(r, d, SigningName)
}

// FromRequestFor is FromRequest for a request to the service whose SigV4
// signing name is service: its credential scope must name that service.
func FromRequestFor(r *http.Request, d Defaults, service string) (Caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Caller{Account: d.Account, Region: d.Region}, nil
	}
	algo, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || algo != "AWS4-HMAC-SHA256" {
		return Caller{}, incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm.")
	}
	var credential string
	var haveSigned, haveSignature bool
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			haveSigned = v != ""
		case "Signature":
			haveSignature = v != ""
		}
	}
	if credential == "" || !haveSigned || !haveSignature {
		return Caller{}, incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	fields := strings.Split(credential, "/")
	if len(fields) != 5 || fields[4] != "aws4_request" || !accessKey.MatchString(fields[0]) ||
		!date.MatchString(fields[1]) || !region.MatchString(fields[2]) {
		return Caller{}, incomplete("Credential must have the form <access key id>/<yyyymmdd>/<region>/" + service + "/aws4_request.")
	}
	if fields[3] != service {
		return Caller{}, &api.Error{Code: "InvalidSignatureException", Status: 403,
			Message: "Credential should be scoped to correct service: '" + service + "'."}
	}
	c := Caller{AccessKey: fields[0], Region: fields[2], Account: d.Account}
	if accountID.MatchString(fields[0]) {
		c.Account = fields[0]
	}
	return c, nil
}

func incomplete(msg string) error {
	return &api.Error{Code: "IncompleteSignatureException", Status: 400, Message: msg}
}

type ctxKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the caller that the server put in ctx.
func FromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(ctxKey{}).(Caller)
	return c, ok
}
