// Package sts answers the one AWS Security Token Service call that scripts,
// SDK credential chains and Terraform's AWS provider make of whatever
// endpoint they are pointed at: GetCallerIdentity, "who am I?". wsim serves
// it on the API port, in STS's own AWS query protocol (form-encoded
// parameters in, XML out), so that a client sent to wsim with one
// AWS_ENDPOINT_URL learns the account its WorkSpaces calls act for.
//
// The caller is read from the SigV4 credential scope as for WorkSpaces
// (package auth), with the signing name "sts", and verified with --auth
// sigv4. Every other STS action is
// answered with STS's InvalidAction error. Nothing here knows about the
// WorkSpaces API.
package sts

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
)

// APIVersion is the STS API version, the Version parameter of its requests.
const APIVersion = "2011-06-15"

// Namespace is the XML namespace of STS responses.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// ContentType is the media type of STS responses.
const ContentType = "text/xml"

// FormContentType is the media type of query-protocol request bodies.
const FormContentType = "application/x-www-form-urlencoded"

// OpGetCallerIdentity is the one action answered.
const OpGetCallerIdentity = "GetCallerIdentity"

// UserName is the IAM user every caller is: the ARN GetCallerIdentity
// answers is arn:<partition>:iam::<account>:user/wsim.
const UserName = "wsim"

// Request is an AWS query-protocol request: its Action and every parameter.
type Request struct {
	Action string
	Params url.Values
}

// Read returns the query-protocol request r carries, and false when r is
// not one: a GET whose query string has an Action, or a POST whose
// Content-Type is application/x-www-form-urlencoded and whose body (of at
// most limit bytes) or query string has one. Read consumes the body of a
// POST; a request it refuses is none of STS's business, and its body must
// not be needed afterwards.
func Read(r *http.Request, limit int64) (Request, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Request{}, false
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != FormContentType {
			return Request{}, false
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil || int64(len(raw)) > limit {
			return Request{}, false
		}
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return Request{}, false
		}
		for k, vs := range q { // as AWS does, the query string counts too
			if _, ok := form[k]; !ok {
				form[k] = vs
			}
		}
		q = form
	default:
		return Request{}, false
	}
	action := q.Get("Action")
	if action == "" {
		return Request{}, false
	}
	return Request{Action: action, Params: q}, true
}

// Response is what Serve answers: the HTTP status and XML body, with the
// action answered (empty when it is not one of STS's known here) and the
// error code (empty on success), for logs and metrics.
type Response struct {
	Status    int
	Body      []byte
	Operation string
	Code      string
}

// Serve answers req for the caller that auth.FromRequestFor read with the
// signing name auth.STSSigningName, or the error it refused the signature
// with. requestID goes in the body, as STS sends it.
func Serve(req Request, caller auth.Caller, callerErr error, requestID string) Response {
	if callerErr != nil {
		return signatureError(callerErr, requestID)
	}
	version := req.Params.Get("Version")
	if version == "" {
		version = APIVersion // a curl user may leave it out; an SDK always sends it
	}
	if req.Action != OpGetCallerIdentity {
		return errorResponse(http.StatusBadRequest, "", "InvalidAction",
			"Could not find operation "+clip(req.Action)+" for version "+clip(version), requestID)
	}
	if version != APIVersion {
		return errorResponse(http.StatusBadRequest, OpGetCallerIdentity, "InvalidAction",
			"Could not find operation "+OpGetCallerIdentity+" for version "+clip(version), requestID)
	}
	arn, userID := Identity(caller)
	out := getCallerIdentityResponse{
		Xmlns:    Namespace,
		Result:   getCallerIdentityResult{Arn: arn, UserID: userID, Account: caller.Account},
		Metadata: responseMetadata{RequestID: requestID},
	}
	return Response{Status: http.StatusOK, Body: marshal(out), Operation: OpGetCallerIdentity}
}

// Identity is the ARN and user id GetCallerIdentity answers for c: its
// principal when a signature was verified (the credentials file's ARN),
// else the IAM user wsim of c's account, in the partition of c's Region;
// the user id is AIDAWSIM<account>.
func Identity(c auth.Caller) (arn, userID string) {
	if c.Principal != "" {
		return c.Principal, "AIDAWSIM" + c.Account
	}
	return "arn:" + Partition(c.Region) + ":iam::" + c.Account + ":user/" + UserName, "AIDAWSIM" + c.Account
}

// Partition is the AWS partition of a Region: aws-cn for China, aws-us-gov
// for GovCloud, aws otherwise.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// signatureError is an error of package auth in STS's words.
func signatureError(err error, requestID string) Response {
	var apiErr api.APIError
	if !errors.As(err, &apiErr) {
		return errorResponse(http.StatusInternalServerError, "", "InternalFailure",
			"The request processing has failed because of an unknown error, exception or failure.", requestID)
	}
	code := strings.TrimSuffix(apiErr.ErrorCode(), "Exception")
	status := apiErr.HTTPStatus()
	switch code {
	case "InvalidSignature":
		code = "SignatureDoesNotMatch" // what STS calls a signature or scope it refuses
	case "UnrecognizedClient":
		// STS's name for an unknown access key or a wrong session token.
		code, status = "InvalidClientTokenId", http.StatusForbidden
	case "MissingAuthenticationToken":
		status = http.StatusForbidden
	}
	msg := apiErr.Error()
	if e, ok := apiErr.(*api.Error); ok {
		msg = e.Message
	}
	return errorResponse(status, "", code, msg, requestID)
}

func errorResponse(status int, operation, code, message, requestID string) Response {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	out := errorDocument{
		Xmlns:     Namespace,
		Error:     errorDetail{Type: typ, Code: code, Message: message},
		RequestID: requestID,
	}
	return Response{Status: status, Body: marshal(out), Operation: operation, Code: code}
}

// clip bounds what an error echoes of the request, so that error bodies
// stay small whatever the request.
func clip(s string) string {
	const max = 128
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}

func marshal(v any) []byte {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		panic(err) // fixed structures of strings always encode
	}
	return buf.Bytes()
}

type getCallerIdentityResponse struct {
	XMLName  xml.Name                `xml:"GetCallerIdentityResponse"`
	Xmlns    string                  `xml:"xmlns,attr"`
	Result   getCallerIdentityResult `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata        `xml:"ResponseMetadata"`
}

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type errorDocument struct {
	XMLName   xml.Name    `xml:"ErrorResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Error     errorDetail `xml:"Error"`
	RequestID string      `xml:"RequestId"`
}

type errorDetail struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}
