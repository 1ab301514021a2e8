package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
)

// Algorithm is the one signing algorithm verified.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxClockSkew is how far a request's X-Amz-Date may be from real time, as
// AWS allows.
const MaxClockSkew = 15 * time.Minute

// amzDateFormat is the ISO 8601 basic format of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

// Verifier checks SigV4 signatures against a keyring.
type Verifier struct {
	Keys *Keyring
	// Now is real time (never the service clock, which tests move: the
	// signature's date is the client's real time).
	Now func() time.Time
}

// Verify checks r's signature, made for service over body, and returns the
// caller it proves: the key's account and principal, the scope's Region.
// Failures are AWS's errors: MissingAuthenticationTokenException without a
// signature, IncompleteSignatureException for a malformed one,
// UnrecognizedClientException for an unknown key or a wrong session token,
// InvalidSignatureException for a signature that does not match, an
// expired date or a scope for another service or Region.
func (v *Verifier) Verify(r *http.Request, body []byte, service string) (Caller, error) {
	sig, err := readSignature(r)
	if err != nil {
		return Caller{}, err
	}
	sc, err := parseScope(sig.credential, service)
	if err != nil {
		return Caller{}, err
	}
	cred, ok := v.Keys.Lookup(sc.accessKey)
	if !ok {
		return Caller{}, unrecognized()
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if sig.presigned {
		token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(cred.SessionToken)) != 1 {
		return Caller{}, unrecognized()
	}
	signed, err := time.Parse(amzDateFormat, sig.date)
	if err != nil {
		return Caller{}, incomplete("Date must be in ISO-8601 'basic format'. Got '" + clip(sig.date) + "'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	if sig.date[:8] != sc.date {
		return Caller{}, invalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			sc.date + "' != '" + sig.date[:8] + "', from '" + sig.date + "'.")
	}
	now := v.Now().UTC()
	switch {
	case sig.presigned:
		if now.After(signed.Add(time.Duration(sig.expires) * time.Second)) {
			return Caller{}, invalidSignature("Signature expired: " + sig.date + " is now earlier than " +
				now.Add(-time.Duration(sig.expires)*time.Second).Format(amzDateFormat) + " (" + now.Format(amzDateFormat) +
				" - " + strconv.Itoa(sig.expires) + " sec.)")
		}
	case signed.Before(now.Add(-MaxClockSkew)):
		return Caller{}, invalidSignature("Signature expired: " + sig.date + " is now earlier than " +
			now.Add(-MaxClockSkew).Format(amzDateFormat) + " (" + now.Format(amzDateFormat) + " - 15 min.)")
	case signed.After(now.Add(MaxClockSkew)):
		return Caller{}, invalidSignature("Signature not yet current: " + sig.date + " is still later than " +
			now.Add(MaxClockSkew).Format(amzDateFormat) + " (" + now.Format(amzDateFormat) + " + 15 min.)")
	}
	canonical := canonicalRequest(r, sig, body)
	stringToSign := Algorithm + "\n" + sig.date + "\n" + sc.String() + "\n" + hexSHA256([]byte(canonical))
	want := hex.EncodeToString(hmacSHA256(signingKey(cred.SecretAccessKey, sc), stringToSign))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig.signature))) {
		return Caller{}, invalidSignature("The request signature we calculated does not match the signature you provided. " +
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n" +
			"The Canonical String for this request should have been\n'" + canonical + "'\n\n" +
			"The String-to-Sign should have been\n'" + stringToSign + "'\n")
	}
	return Caller{Account: cred.Account, Region: sc.region, AccessKey: cred.AccessKeyID, Principal: cred.Principal}, nil
}

// signature is what a request says of its signature, from the
// Authorization header or the presigned query string.
type signature struct {
	credential    string
	signedHeaders []string
	signature     string
	date          string
	presigned     bool
	expires       int
}

func readSignature(r *http.Request) (signature, error) {
	h := r.Header.Get("Authorization")
	q := r.URL.Query()
	if h == "" && q.Get("X-Amz-Algorithm") != "" {
		return readPresigned(q)
	}
	if h == "" {
		return signature{}, &api.Error{Code: "MissingAuthenticationTokenException", Status: http.StatusBadRequest,
			Message: "Missing Authentication Token"}
	}
	algo, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || algo != Algorithm {
		return signature{}, incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm.")
	}
	var s signature
	var signed string
	for _, part := range strings.Split(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			s.credential = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			s.signature = val
		}
	}
	if s.credential == "" || signed == "" || s.signature == "" {
		return signature{}, incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	s.signedHeaders = strings.Split(signed, ";")
	s.date = r.Header.Get("X-Amz-Date")
	if s.date == "" {
		return signature{}, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if !slices.Contains(s.signedHeaders, "host") {
		return signature{}, incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return s, nil
}

func readPresigned(q url.Values) (signature, error) {
	if q.Get("X-Amz-Algorithm") != Algorithm {
		return signature{}, incomplete("X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'")
	}
	s := signature{presigned: true, credential: q.Get("X-Amz-Credential"), signature: q.Get("X-Amz-Signature"), date: q.Get("X-Amz-Date")}
	signed := q.Get("X-Amz-SignedHeaders")
	if s.credential == "" || signed == "" || s.signature == "" || s.date == "" {
		return signature{}, incomplete("AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date'.")
	}
	s.signedHeaders = strings.Split(signed, ";")
	s.expires = int(MaxClockSkew / time.Second)
	if e := q.Get("X-Amz-Expires"); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil || n < 1 || n > 604800 {
			return signature{}, incomplete("X-Amz-Expires must be an integer between 1 and 604800 (seven days).")
		}
		s.expires = n
	}
	return s, nil
}

// canonicalRequest is SigV4's canonical request of r: method, path, query
// string, the signed headers and the hash of the body actually received
// (so that a body changed after signing never matches).
func canonicalRequest(r *http.Request, sig signature, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	// Every AWS service but S3 signs the path encoded once more.
	b.WriteString(escape(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query(), sig.presigned))
	b.WriteByte('\n')
	for _, name := range sig.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(sig.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(hexSHA256(body))
	return b.String()
}

func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if len(r.Header.Values("Content-Length")) == 0 && r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
	}
	vals := r.Header.Values(name)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func canonicalQuery(q url.Values, presigned bool) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, kv{escape(k, true), escape(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// escape percent-encodes every byte but the unreserved characters of RFC
// 3986 (and /, unless encodeSlash), as SigV4 does.
func escape(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func signingKey(secret string, sc scope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), sc.date)
	k = hmacSHA256(k, sc.region)
	k = hmacSHA256(k, sc.service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func unrecognized() error {
	return &api.Error{Code: "UnrecognizedClientException", Status: http.StatusBadRequest,
		Message: "The security token included in the request is invalid."}
}
