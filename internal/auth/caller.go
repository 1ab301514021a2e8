// Package auth identifies the caller of a request: the account and Region
// that own everything the request touches.
//
// The account and Region come from the SigV4 credential scope of the
// Authorization header. In the friendly mode (FromRequest) nothing is
// verified: the caller is derived from the access key, an isolation boundary
// between test tenants, not a security boundary. A Verifier (sigv4.go) checks
// every signature against a credentials file (credentials.go) and names the
// caller's principal, whose policies package iam evaluates.
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
	// Principal is the ARN of the IAM identity the access key belongs to,
	// set only when a Verifier checked the signature.
	Principal string
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
	sc, err := parseScope(credential, service)
	if err != nil {
		return Caller{}, err
	}
	c := Caller{AccessKey: sc.accessKey, Region: sc.region, Account: d.Account}
	if accountID.MatchString(sc.accessKey) {
		c.Account = sc.accessKey
	}
	return c, nil
}

// MaxRegionLength bounds the Region of a credential scope. AWS's longest
// Region names have 14 characters (ap-southeast-5, us-isob-east-1); 25
// leaves room for new ones while a 10 KB "Region" never becomes a namespace.
const MaxRegionLength = 25

// scope is a parsed credential scope: <key>/<yyyymmdd>/<region>/<service>/aws4_request.
type scope struct {
	accessKey, date, region, service string
}

func (s scope) String() string {
	return s.date + "/" + s.region + "/" + s.service + "/aws4_request"
}

// parseScope reads a Credential value, which must be scoped to service. A
// scope of the wrong form is IncompleteSignatureException; a Region that is
// not a Region's name, or another service, InvalidSignatureException, in
// AWS's words.
func parseScope(credential, service string) (scope, error) {
	fields := strings.Split(credential, "/")
	if len(fields) != 5 || fields[4] != "aws4_request" || !accessKey.MatchString(fields[0]) ||
		!date.MatchString(fields[1]) || fields[2] == "" {
		return scope{}, incomplete("Credential must have the form <access key id>/<yyyymmdd>/<region>/" + service + "/aws4_request.")
	}
	if len(fields[2]) > MaxRegionLength || !region.MatchString(fields[2]) {
		return scope{}, invalidSignature("Credential should be scoped to a valid region, not '" + clip(fields[2]) + "'.")
	}
	if fields[3] != service {
		return scope{}, invalidSignature("Credential should be scoped to correct service: '" + service + "'.")
	}
	return scope{accessKey: fields[0], date: fields[1], region: fields[2], service: fields[3]}, nil
}

// clip bounds what an error echoes of the request.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// InvalidSignatureStatus is the HTTP status of InvalidSignatureException:
// 403, as AWS answers a scope for another service or Region.
const InvalidSignatureStatus = http.StatusForbidden

func invalidSignature(msg string) error {
	return &api.Error{Code: "InvalidSignatureException", Status: InvalidSignatureStatus, Message: msg}
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
