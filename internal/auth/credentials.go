package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/wsim/wsim/internal/iam"
)

// Credential is one access key of the credentials file.
type Credential struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// SessionToken, when set, must come with every request signed with the
	// key (X-Amz-Security-Token), as with temporary credentials.
	SessionToken string `json:"sessionToken,omitempty"`
	// Principal is the ARN of the IAM user or role the key belongs to; its
	// account is the account the key acts in.
	Principal string `json:"principal"`
	// Account is the principal's account; optional, and when given it must
	// be the one the principal ARN names.
	Account string `json:"account,omitempty"`
}

// CredentialsFile is the document --credentials names (docs/security.md).
type CredentialsFile struct {
	Credentials []Credential `json:"credentials"`
	// Policies are the identity policies of principals, by principal ARN. A
	// principal without an entry may do everything; one with an empty list
	// nothing.
	Policies map[string][]iam.Policy `json:"policies,omitempty"`
}

// principalARN accepts the ARNs of IAM users and roles and of STS assumed
// roles, the identities access keys belong to.
var principalARN = regexp.MustCompile(`^arn:aws[a-z-]*:(iam::[0-9]{12}:(user|role)/[\w+=,.@/-]+|iam::[0-9]{12}:root|sts::[0-9]{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+)$`)

// accountOf is the account an ARN names.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// ParseCredentials reads a credentials file's content and checks it: every
// key has a secret and a principal ARN, no key is listed twice, every
// policy is valid IAM grammar.
func ParseCredentials(b []byte) (*CredentialsFile, error) {
	var f CredentialsFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, c := range f.Credentials {
		switch {
		case !accessKey.MatchString(c.AccessKeyID):
			return nil, fmt.Errorf("credentials[%d]: accessKeyId %q must be 1-128 characters of A-Z, a-z, 0-9 and +/=._-", i, c.AccessKeyID)
		case seen[c.AccessKeyID]:
			return nil, fmt.Errorf("credentials[%d]: access key %s is listed twice", i, c.AccessKeyID)
		case c.SecretAccessKey == "":
			return nil, fmt.Errorf("credentials[%d] (%s): secretAccessKey is required", i, c.AccessKeyID)
		case !principalARN.MatchString(c.Principal):
			return nil, fmt.Errorf("credentials[%d] (%s): principal %q must be an IAM user or role ARN, e.g. arn:aws:iam::111122223333:role/ci", i, c.AccessKeyID, c.Principal)
		case c.Account != "" && c.Account != accountOf(c.Principal):
			return nil, fmt.Errorf("credentials[%d] (%s): account %s is not the principal's account %s", i, c.AccessKeyID, c.Account, accountOf(c.Principal))
		}
		seen[c.AccessKeyID] = true
		f.Credentials[i].Account = accountOf(c.Principal)
	}
	for p := range f.Policies {
		if !principalARN.MatchString(p) {
			return nil, fmt.Errorf("policies: %q is not an IAM user or role ARN", p)
		}
	}
	return &f, nil
}

// LoadCredentials reads the credentials file at path.
func LoadCredentials(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseCredentials(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return NewKeyring(f), nil
}

// ErrUnknownPrincipal is returned for a principal or access key that the
// credentials file does not have.
var ErrUnknownPrincipal = errors.New("no such principal or access key in the credentials file")

// Keyring holds the credentials and the policies of their principals; the
// policies can change at run time (SetPolicies), the keys cannot.
type Keyring struct {
	keys map[string]Credential

	mu       sync.RWMutex
	policies map[string][]iam.Policy
}

// NewKeyring returns a keyring of f's keys and policies.
func NewKeyring(f *CredentialsFile) *Keyring {
	k := &Keyring{keys: map[string]Credential{}, policies: map[string][]iam.Policy{}}
	for _, c := range f.Credentials {
		k.keys[c.AccessKeyID] = c
	}
	for p, ps := range f.Policies {
		k.policies[p] = slices.Clone(ps)
	}
	return k
}

// Lookup returns the credential of an access key.
func (k *Keyring) Lookup(accessKeyID string) (Credential, bool) {
	c, ok := k.keys[accessKeyID]
	return c, ok
}

// Principals lists the principals of the keyring's keys and of its
// policies, sorted.
func (k *Keyring) Principals() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	set := map[string]bool{}
	for _, c := range k.keys {
		set[c.Principal] = true
	}
	for p := range k.policies {
		set[p] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Resolve names a principal by its ARN or by one of its access keys.
func (k *Keyring) Resolve(principalOrKey string) (string, error) {
	if c, ok := k.keys[principalOrKey]; ok {
		return c.Principal, nil
	}
	for _, p := range k.Principals() {
		if p == principalOrKey {
			return p, nil
		}
	}
	return "", ErrUnknownPrincipal
}

// Policies returns the policies of a principal; ok is false when it has
// none set, which means full access.
func (k *Keyring) Policies(principal string) ([]iam.Policy, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ps, ok := k.policies[principal]
	return ps, ok
}

// SetPolicies replaces the policies of a principal; nil removes them, so
// that the principal may do everything again.
func (k *Keyring) SetPolicies(principal string, ps []iam.Policy) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ps == nil {
		delete(k.policies, principal)
		return
	}
	k.policies[principal] = slices.Clone(ps)
}

// AccessKeys lists the access keys of a principal, sorted.
func (k *Keyring) AccessKeys(principal string) []string {
	var out []string
	for id, c := range k.keys {
		if c.Principal == principal {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
