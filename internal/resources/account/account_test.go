package account_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/service"
	"github.com/wsim/wsim/internal/service/servicetest"
)

// newTestService is the service harness with a frozen service clock that
// tests move with advance.
func newTestService(t *testing.T, cfg service.Config) (*service.Service, context.Context) {
	t.Helper()
	h := servicetest.New(t, func(c *service.Config) {
		if cfg.BYOL != "" {
			c.BYOL = cfg.BYOL
		}
	})
	h.Freeze()
	return h.Svc, servicetest.As("111122223333", "us-east-1")
}

func advance(t *testing.T, s *service.Service, ctx context.Context, d time.Duration) {
	t.Helper()
	if _, err := s.Clock().Advance(ctx, d); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr api.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func listRanges(t *testing.T, s *service.Service, ctx context.Context, constraint string, max int32) []string {
	t.Helper()
	var all []string
	var tok *string
	for pages := 0; ; pages++ {
		out, err := servicetest.Call(s, api.OpListAvailableManagementCidrRanges, ctx, &api.ListAvailableManagementCidrRangesInput{
			ManagementCidrRangeConstraint: api.String(constraint), MaxResults: api.Int32(max), NextToken: tok,
		})
		if err != nil {
			t.Fatalf("ListAvailableManagementCidrRanges(%s): %v", constraint, err)
		}
		if len(out.ManagementCidrRanges) > int(max) {
			t.Fatalf("page of %d ranges, MaxResults %d", len(out.ManagementCidrRanges), max)
		}
		all = append(all, out.ManagementCidrRanges...)
		if out.NextToken == nil {
			return all
		}
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		tok = out.NextToken
	}
}

func TestAvailableManagementRanges(t *testing.T) {
	s, ctx := newTestService(t, service.Config{})
	tests := []struct {
		constraint string
		max        int32
		want       int
		first      string
	}{
		{"172.16.0.0/12", 3, 16, "172.16.0.0/16"},
		{"172.20.5.9/14", 5, 4, "172.20.0.0/16"}, // host bits are ignored
		{"10.0.0.0/8", 5, 255, "10.1.0.0/16"},    // 10.0.0.0/16 is the account's own
		{"192.168.0.0/16", 1, 1, "192.168.0.0/16"},
		{"8.0.0.0/8", 5, 0, ""},
		{"0.0.0.0/0", 5, 255 + 64 + 16 + 1, "10.1.0.0/16"},
	}
	for _, tc := range tests {
		got := listRanges(t, s, ctx, tc.constraint, tc.max)
		if len(got) != tc.want {
			t.Errorf("%s: %d ranges, want %d", tc.constraint, len(got), tc.want)
		}
		seen := map[string]bool{}
		for _, r := range got {
			if seen[r] {
				t.Errorf("%s: %s listed twice", tc.constraint, r)
			}
			seen[r] = true
		}
		if tc.want > 0 && got[0] != tc.first {
			t.Errorf("%s: first range %s, want %s", tc.constraint, got[0], tc.first)
		}
	}
	_, err := servicetest.Call(s, api.OpListAvailableManagementCidrRanges, ctx, &api.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: api.String("10.1.0.0/24")})
	wantCode(t, err, "InvalidParameterValuesException")
}

// requireBYOL is the answer to a BYOL import, which needs an account
// enabled for BYOL.
func requireBYOL(s *service.Service, ctx context.Context) error {
	_, err := servicetest.Call(s, api.OpImportWorkspaceImage, ctx, &api.ImportWorkspaceImageInput{
		Ec2ImageId: api.String("ami-0123456789abcdef0"), IngestionProcess: api.String(api.WorkspaceImageIngestionProcessByolRegularWsp),
		ImageName: api.String(fmt.Sprintf("byol-%d", time.Now().UnixNano())), ImageDescription: api.String("test image"),
	})
	return err
}

func TestStrictBYOLEnablement(t *testing.T) {
	s, ctx := newTestService(t, service.Config{BYOL: service.BYOLStrict})
	wantCode(t, requireBYOL(s, ctx), "AccessDeniedException")
	_, err := servicetest.Call(s, api.OpListAvailableManagementCidrRanges, ctx, &api.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: api.String("10.0.0.0/8")})
	wantCode(t, err, "AccessDeniedException")

	for _, bad := range []string{"8.8.0.0/16", "192.0.0.0/16"} {
		_, err = servicetest.Call(s, api.OpModifyAccount, ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String(bad)})
		wantCode(t, err, "InvalidParameterValuesException")
	}
	_, err = servicetest.Call(s, api.OpModifyAccount, ctx, &api.ModifyAccountInput{DedicatedTenancyManagementCidrRange: api.String("10.9.0.0/16")})
	wantCode(t, err, "InvalidParameterValuesException")

	if _, err := servicetest.Call(s, api.OpModifyAccount, ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String("10.9.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	_, err = servicetest.Call(s, api.OpModifyAccount, ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String("10.8.0.0/16")})
	wantCode(t, err, "InvalidResourceStateException")
	acct, err := servicetest.Call(s, api.OpDescribeAccount, ctx, &api.DescribeAccountInput{})
	if err != nil || *acct.DedicatedTenancySupport != "DISABLED" || acct.DedicatedTenancyManagementCidrRange != nil {
		t.Fatalf("DescribeAccount while PENDING = %+v, %v", acct, err)
	}
	wantCode(t, requireBYOL(s, ctx), "AccessDeniedException")

	advance(t, s, ctx, time.Minute)
	if err := requireBYOL(s, ctx); err != nil {
		t.Fatalf("requireBYOL after COMPLETED: %v", err)
	}
	acct, _ = servicetest.Call(s, api.OpDescribeAccount, ctx, &api.DescribeAccountInput{})
	if *acct.DedicatedTenancySupport != "ENABLED" || *acct.DedicatedTenancyManagementCidrRange != "10.9.0.0/16" {
		t.Fatalf("DescribeAccount after COMPLETED = %+v", acct)
	}
	_, err = servicetest.Call(s, api.OpModifyAccount, ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String("10.9.0.0/16")})
	wantCode(t, err, "InvalidResourceStateException")
	if got := listRanges(t, s, ctx, "10.9.0.0/16", 5); len(got) != 0 {
		t.Errorf("the account's own range is listed as available: %v", got)
	}
}

func TestAccountModificationHistoryNewestFirst(t *testing.T) {
	s, ctx := newTestService(t, service.Config{})
	var want []string
	for i := 1; i <= 23; i++ {
		cidr := fmt.Sprintf("172.%d.0.0/16", 16+i%16)
		if i > 16 {
			cidr = fmt.Sprintf("10.%d.0.0/16", i)
		}
		if _, err := servicetest.Call(s, api.OpModifyAccount, ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String(cidr)}); err != nil {
			t.Fatalf("ModifyAccount %d (%s): %v", i, cidr, err)
		}
		want = append([]string{cidr}, want...)
		advance(t, s, ctx, time.Minute)
	}
	var got []string
	var tok *string
	for {
		out, err := servicetest.Call(s, api.OpDescribeAccountModifications, ctx, &api.DescribeAccountModificationsInput{NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.AccountModifications {
			got = append(got, *m.DedicatedTenancyManagementCidrRange)
			if *m.ModificationState != "COMPLETED" {
				t.Errorf("modification %s is %s", *m.DedicatedTenancyManagementCidrRange, *m.ModificationState)
			}
		}
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history = %v, want newest first %v", got, want)
	}
}
