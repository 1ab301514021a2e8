package control

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/iam"
)

// Actions of the policy endpoints.
const (
	ActionPolicyPut    = "policy.put"
	ActionPolicyDelete = "policy.delete"
)

// MaxPolicies bounds the policies one principal may have through the
// control API, as IAM bounds the managed policies of a role (20).
const MaxPolicies = 20

// WithPolicies serves the identity policies of the credentials file's
// principals under /_wsim/policies, changeable at run time. keys is nil
// when signatures are not verified (--auth friendly): the endpoints then
// answer 409, since no policy applies.
func WithPolicies(keys *auth.Keyring) Option {
	return func(h *Handler) {
		p := &policies{h: h, keys: keys}
		for pattern, f := range map[string]handlerFunc{
			"GET /_wsim/policies":             p.list,
			"GET /_wsim/policies/{who...}":    p.get,
			"PUT /_wsim/policies/{who...}":    p.put,
			"DELETE /_wsim/policies/{who...}": p.delete,
		} {
			h.mux.Handle(pattern, f)
		}
	}
}

type policies struct {
	h    *Handler
	keys *auth.Keyring
}

// policyView is a principal's policies as the control API shows them:
// Policies is null when none is set, which means full access.
type policyView struct {
	Principal  string       `json:"principal"`
	AccessKeys []string     `json:"accessKeys"`
	FullAccess bool         `json:"fullAccess"`
	Policies   []iam.Policy `json:"policies"`
}

func (p *policies) view(principal string) policyView {
	ps, ok := p.keys.Policies(principal)
	v := policyView{Principal: principal, AccessKeys: p.keys.AccessKeys(principal), FullAccess: !ok, Policies: ps}
	if v.AccessKeys == nil {
		v.AccessKeys = []string{}
	}
	if ok && ps == nil {
		v.Policies = []iam.Policy{}
	}
	return v
}

func (p *policies) enabled() error {
	if p.keys == nil {
		return &statusError{http.StatusConflict, errors.New("policies apply only when signatures are verified: start wsim with --auth sigv4 --credentials FILE")}
	}
	return nil
}

// resolve reads {who}: a principal ARN or one of its access keys.
func (p *policies) resolve(r *http.Request) (string, error) {
	principal, err := p.keys.Resolve(r.PathValue("who"))
	if err != nil {
		return "", &statusError{http.StatusNotFound, fmt.Errorf("%q: %w", r.PathValue("who"), err)}
	}
	return principal, nil
}

// list serves GET /_wsim/policies: every principal and its policies.
func (p *policies) list(w http.ResponseWriter, r *http.Request) error {
	if err := p.enabled(); err != nil {
		return err
	}
	views := []policyView{}
	for _, principal := range p.keys.Principals() {
		views = append(views, p.view(principal))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"principals": views})
}

// get serves GET /_wsim/policies/{principal or access key}.
func (p *policies) get(w http.ResponseWriter, r *http.Request) error {
	if err := p.enabled(); err != nil {
		return err
	}
	principal, err := p.resolve(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p.view(principal))
}

// put serves PUT /_wsim/policies/{principal or access key} with
// {"policies": [<IAM policy document>, ...]}: the principal's policies
// become those (an empty list denies everything).
func (p *policies) put(w http.ResponseWriter, r *http.Request) error {
	if err := p.enabled(); err != nil {
		return err
	}
	principal, err := p.resolve(r)
	if err != nil {
		return err
	}
	var body struct {
		Policies *[]iam.Policy `json:"policies"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if body.Policies == nil {
		return badRequest(errors.New(`"policies" is required: a list of IAM policy documents ([] denies everything; DELETE gives full access back)`))
	}
	if len(*body.Policies) > MaxPolicies {
		return badRequest(fmt.Errorf("a principal has at most %d policies, not %d", MaxPolicies, len(*body.Policies)))
	}
	ps := *body.Policies
	if ps == nil {
		ps = []iam.Policy{}
	}
	p.keys.SetPolicies(principal, ps)
	p.h.recordAction(r, ActionPolicyPut, slog.String("principal", principal), slog.Int("policies", len(ps)))
	return writeJSON(w, http.StatusOK, p.view(principal))
}

// delete serves DELETE /_wsim/policies/{principal or access key}: the
// principal has no policies set any more, so it may do everything.
func (p *policies) delete(w http.ResponseWriter, r *http.Request) error {
	if err := p.enabled(); err != nil {
		return err
	}
	principal, err := p.resolve(r)
	if err != nil {
		return err
	}
	p.keys.SetPolicies(principal, nil)
	p.h.recordAction(r, ActionPolicyDelete, slog.String("principal", principal))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
