package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/smithy-go"

	"github.com/wsim/wsim/e2e/process"
)

// The credentials file of the sigv4 tests: an administrator, a reader
// without workspaces:ImportCustomWorkspaceImage, a role whose Deny beats its
// Allow on protected images, and temporary credentials with a session token.
const (
	adminKey, adminSecret = "AKIAWSIMADMIN0000001", "admin-secret"
	readerKey             = "AKIAWSIMREADER000001"
	ciKey                 = "AKIAWSIMCI0000000001"
	tempKey, tempToken    = "ASIAWSIMTEMP00000001", "session-token-1"
	authAccount           = "111122223333"
	readerARN             = "arn:aws:iam::111122223333:role/reader"
	ciARN                 = "arn:aws:iam::111122223333:role/ci"
)

const credentialsFile = `{
  "credentials": [
    {"accessKeyId": "` + adminKey + `", "secretAccessKey": "` + adminSecret + `", "principal": "arn:aws:iam::111122223333:user/admin"},
    {"accessKeyId": "` + readerKey + `", "secretAccessKey": "reader-secret", "principal": "` + readerARN + `"},
    {"accessKeyId": "` + ciKey + `", "secretAccessKey": "ci-secret", "principal": "` + ciARN + `"},
    {"accessKeyId": "` + tempKey + `", "secretAccessKey": "temp-secret", "sessionToken": "` + tempToken + `", "principal": "arn:aws:sts::111122223333:assumed-role/dev/alice"}
  ],
  "policies": {
    "` + readerARN + `": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "workspaces:Describe*", "Resource": "*"}}],
    "` + ciARN + `": [{"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "workspaces:*", "Resource": "*"},
      {"Sid": "KeepProtected", "Effect": "Deny", "Action": ["workspaces:DeleteWorkspaceImage", "workspaces:DeleteTags"], "Resource": "arn:aws:workspaces:*:*:workspaceimage/*",
       "Condition": {"StringEquals": {"aws:ResourceTag/protected": "yes"}}},
      {"Effect": "Deny", "Action": "workspaces:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}
    ]}]
  }
}`

func startSigV4(t *testing.T) *process.Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, []byte(credentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	return process.Start(t, "--auth", "sigv4", "--credentials", path)
}

func signedClient(srv *process.Server, t *testing.T, key, secret, token, region string) *workspaces.Client {
	return srv.Client(t, authAccount, region, func(o *workspaces.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, token)
	})
}

// signedRequest is a DescribeWorkspaceImages request signed by
// aws-sdk-go-v2's signer at the time at; tamper changes it after signing.
func signedRequest(t *testing.T, url, key, secret string, at time.Time, tamper func(*http.Request, *string)) (int, awsErrorBody) {
	t.Helper()
	body := `{"MaxResults":5}`
	req, err := http.NewRequest("POST", url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", process.ContentType)
	req.Header.Set("X-Amz-Target", "WorkspacesService.DescribeWorkspaceImages")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "workspaces", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(req, &body)
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e awsErrorBody
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &e)
	return resp.StatusCode, e
}

func TestSigV4Signatures(t *testing.T) {
	srv := startSigV4(t)
	if !strings.Contains(srv.Logs(), "auth=sigv4") || strings.Contains(srv.Logs(), "signatures are not verified") {
		t.Errorf("the start-up log does not say signatures are verified:\n%s", srv.Logs())
	}

	t.Run("aws-sdk-go-v2 signatures are accepted", func(t *testing.T) {
		c := signedClient(srv, t, adminKey, adminSecret, "", "us-east-1")
		id := importImage(t, c, importInput("signed"))
		out, err := c.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}})
		if err != nil || len(out.Images) != 1 {
			t.Fatalf("DescribeWorkspaceImages = %v, %v", out, err)
		}
		// The account is the principal's, whatever the key looks like.
		other := signedClient(srv, t, tempKey, "temp-secret", tempToken, "us-east-1")
		if out, err := other.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{ImageIds: []string{id}}); err != nil || len(out.Images) != 1 {
			t.Errorf("the same account through temporary credentials = %v, %v", out, err)
		}
	})
	t.Run("STS answers the principal of the file", func(t *testing.T) {
		c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(ciKey, "ci-secret", "")})
		out, err := c.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(out.Arn) != ciARN || aws.ToString(out.Account) != authAccount {
			t.Fatalf("GetCallerIdentity = %+v, %v", out, err)
		}
		bad := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(ciKey, "wrong", "")})
		_, err = bad.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "SignatureDoesNotMatch" {
			t.Errorf("GetCallerIdentity with a wrong secret = %v, want SignatureDoesNotMatch", err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := signedClient(srv, t, adminKey, "not-the-secret", "", "us-east-1").DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
		wantAPIError(t, err, "InvalidSignatureException", 403, "The request signature we calculated does not match the signature you provided.")
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := signedClient(srv, t, "AKIAWSIMNOBODY000001", adminSecret, "", "us-east-1").DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
		wantAPIError(t, err, "UnrecognizedClientException", 400, "The security token included in the request is invalid.")
	})
	t.Run("session token missing", func(t *testing.T) {
		_, err := signedClient(srv, t, tempKey, "temp-secret", "", "us-east-1").DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
		wantAPIError(t, err, "UnrecognizedClientException", 400)
	})

	now := time.Now()
	raw := []struct {
		name   string
		at     time.Time
		tamper func(*http.Request, *string)
		status int
		code   string
		msg    string
	}{
		{"raw signed request", now, nil, 200, "", ""},
		{"body changed after signing", now, func(_ *http.Request, body *string) { *body = `{"MaxResults":6}` }, 403, "InvalidSignatureException", "does not match"},
		{"signed header changed", now, func(r *http.Request, _ *string) {
			r.Header.Set("X-Amz-Target", "WorkspacesService.DescribeWorkspaceBundles")
		}, 403, "InvalidSignatureException", "does not match"},
		{"X-Amz-Date 20 minutes old", now.Add(-20 * time.Minute), nil, 403, "InvalidSignatureException", "Signature expired: "},
		{"X-Amz-Date 20 minutes ahead", now.Add(20 * time.Minute), nil, 403, "InvalidSignatureException", "Signature not yet current: "},
		{"a 10 KB Region in the scope", now, func(r *http.Request, _ *string) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/us-"+strings.Repeat("x", 10<<10)+"-1/", 1))
		}, 403, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'us-xxx"},
		{"missing Authorization", now, func(r *http.Request, _ *string) { r.Header.Del("Authorization") }, 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"malformed Authorization", now, func(r *http.Request, _ *string) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+adminKey)
		}, 400, "IncompleteSignatureException", ""},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			status, e := signedRequest(t, srv.URL, adminKey, adminSecret, tt.at, tt.tamper)
			if status != tt.status || e.Type != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("got %d %s %q, want %d %s containing %q", status, e.Type, e.Message, tt.status, tt.code, tt.msg)
			}
		})
	}
}

func TestSigV4Policies(t *testing.T) {
	srv := startSigV4(t)
	admin := signedClient(srv, t, adminKey, adminSecret, "", "us-east-1")
	reader := signedClient(srv, t, readerKey, "reader-secret", "", "us-east-1")
	ci := signedClient(srv, t, ciKey, "ci-secret", "", "us-east-1")

	t.Run("a role without ImportCustomWorkspaceImage", func(t *testing.T) {
		_, err := reader.ImportCustomWorkspaceImage(ctx(t), importInput("denied"))
		wantAPIError(t, err, "AccessDeniedException", 400,
			"User: "+readerARN+" is not authorized to perform: workspaces:ImportCustomWorkspaceImage on resource: arn:aws:workspaces:us-east-1:111122223333:workspaceimage/* because no identity-based policy allows the workspaces:ImportCustomWorkspaceImage action")
		if _, err := reader.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
			t.Errorf("the reader may describe: %v", err)
		}
	})
	t.Run("Deny beats Allow, by tag", func(t *testing.T) {
		protected := importImage(t, admin, importInput("protected", tag("protected", "yes")))
		free := importImage(t, admin, importInput("free", tag("protected", "no")))
		_, err := ci.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(protected), TagKeys: []string{"protected"}})
		wantAPIError(t, err, "AccessDeniedException", 400,
			"User: "+ciARN+" is not authorized to perform: workspaces:DeleteTags on resource: arn:aws:workspaces:us-east-1:111122223333:workspaceimage/"+protected+" with an explicit deny in an identity-based policy")
		if _, err := ci.DeleteTags(ctx(t), &workspaces.DeleteTagsInput{ResourceId: aws.String(free), TagKeys: []string{"protected"}}); err != nil {
			t.Errorf("DeleteTags on an unprotected image: %v", err)
		}
	})
	t.Run("aws:RequestedRegion", func(t *testing.T) {
		_, err := signedClient(srv, t, ciKey, "ci-secret", "", "ap-southeast-2").DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
		wantAPIError(t, err, "AccessDeniedException", 400, "workspaces:DescribeWorkspaceImages on resource: arn:aws:workspaces:ap-southeast-2:111122223333:workspaceimage/* with an explicit deny")
		if _, err := signedClient(srv, t, ciKey, "ci-secret", "", "eu-west-1").DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{}); err != nil {
			t.Errorf("eu-west-1 is allowed: %v", err)
		}
	})
	t.Run("policies changed through the control API", func(t *testing.T) {
		put := func(who, doc string, want int) {
			t.Helper()
			status, _, body := srv.Do(t, "PUT", "/_wsim/policies/"+who, strings.NewReader(doc), map[string]string{"Content-Type": "application/json"})
			if status != want {
				t.Fatalf("PUT /_wsim/policies/%s = %d %s, want %d", who, status, body, want)
			}
		}
		put(readerKey, `{"policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["workspaces:Describe*","workspaces:ImportCustomWorkspaceImage"],"Resource":"*"}}]}`, 200)
		importImage(t, reader, importInput("allowed-now"))
		put(readerARN, `{"policies":[]}`, 200)
		_, err := reader.DescribeWorkspaceImages(ctx(t), &workspaces.DescribeWorkspaceImagesInput{})
		wantAPIError(t, err, "AccessDeniedException", 400, "because no identity-based policy allows the workspaces:DescribeWorkspaceImages action")
		put(readerARN, `{"policies":[{"Statement":{"Effect":"Perhaps","Action":"*","Resource":"*"}}]}`, 400)
		put("arn:aws:iam::111122223333:role/nobody", `{"policies":[]}`, 404)

		status, _, body := srv.Do(t, "GET", "/_wsim/policies/"+readerARN, nil, nil)
		var view struct {
			Principal  string            `json:"principal"`
			AccessKeys []string          `json:"accessKeys"`
			FullAccess bool              `json:"fullAccess"`
			Policies   []json.RawMessage `json:"policies"`
		}
		if json.Unmarshal(body, &view); status != 200 || view.Principal != readerARN || len(view.AccessKeys) != 1 || view.FullAccess || len(view.Policies) != 0 {
			t.Errorf("GET = %d %s", status, body)
		}
		if status, _, body := srv.Do(t, "DELETE", "/_wsim/policies/"+readerARN, nil, map[string]string{"Content-Type": "application/json"}); status != 204 {
			t.Fatalf("DELETE = %d %s", status, body)
		}
		if _, err := reader.ModifyAccount(ctx(t), &workspaces.ModifyAccountInput{}); err != nil {
			var apiErr smithy.APIError
			if errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException" {
				t.Errorf("a principal without policies is denied: %v", err)
			}
		}
		if !strings.Contains(srv.Logs(), "action=policy.put") {
			t.Errorf("policy changes are not logged as control actions:\n%s", srv.Logs())
		}
	})
}

// The friendly mode says at start-up that nothing is verified, refuses the
// policy endpoints, and still validates the Region of the credential scope:
// a 10 KB or malformed Region never becomes a namespace.
func TestFriendlyMode(t *testing.T) {
	srv := process.Start(t)
	for _, region := range []string{"us-" + strings.Repeat("x", 10<<10) + "-1", "us-east-1&x=1", "US-EAST-1"} {
		auth := "AWS4-HMAC-SHA256 Credential=" + authAccount + "/20261202/" + region + "/workspaces/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
		status, hdr, body := srv.Raw(t, "WorkspacesService.DescribeWorkspaceImages", "{}", map[string]string{"Authorization": auth})
		e := wantRawError(t, status, hdr, body, 403, "InvalidSignatureException", "Credential should be scoped to a valid region")
		if len(e.Message) > 200 {
			t.Errorf("the refusal echoes %d bytes", len(e.Message))
		}
	}
	if !strings.Contains(srv.Logs(), "request signatures are not verified (--auth friendly)") {
		t.Errorf("the start-up log does not warn that signatures are not verified:\n%s", srv.Logs())
	}
	if status, _, body := srv.Do(t, "GET", "/_wsim/policies", nil, nil); status != 409 {
		t.Errorf("GET /_wsim/policies in the friendly mode = %d %s, want 409", status, body)
	}
}
