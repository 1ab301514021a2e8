package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/auth"
	"github.com/wsim/wsim/internal/pipeline"
	"github.com/wsim/wsim/internal/store"
)

// newTestService is a service on a memory store with the quick profile and
// a frozen service clock that tests move with Advance.
func newTestService(t *testing.T, cfg Config) (*Service, context.Context) {
	t.Helper()
	st, err := store.Open(context.Background(), "memory", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if cfg.Profile.Name == "" {
		cfg.Profile, _ = pipeline.LookupProfile(pipeline.ProfileQuick)
	}
	s := New(cfg, st)
	ctx := auth.WithCaller(context.Background(), auth.Caller{Account: "111122223333", Region: "us-east-1"})
	if _, err := s.Clock().Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	return s, ctx
}

func advance(t *testing.T, s *Service, ctx context.Context, d time.Duration) {
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

func listRanges(t *testing.T, s *Service, ctx context.Context, constraint string, max int32) []string {
	t.Helper()
	var all []string
	var tok *string
	for pages := 0; ; pages++ {
		out, err := s.ListAvailableManagementCidrRanges(ctx, &api.ListAvailableManagementCidrRangesInput{
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
	s, ctx := newTestService(t, Config{})
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
	_, err := s.ListAvailableManagementCidrRanges(ctx, &api.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: api.String("10.1.0.0/24")})
	wantCode(t, err, "InvalidParameterValuesException")
}

func TestStrictBYOLEnablement(t *testing.T) {
	s, ctx := newTestService(t, Config{BYOL: BYOLStrict})
	req, err := s.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.requireBYOL(ctx, req), "AccessDeniedException")
	_, err = s.ListAvailableManagementCidrRanges(ctx, &api.ListAvailableManagementCidrRangesInput{ManagementCidrRangeConstraint: api.String("10.0.0.0/8")})
	wantCode(t, err, "AccessDeniedException")

	for _, bad := range []string{"8.8.0.0/16", "192.0.0.0/16"} {
		_, err = s.ModifyAccount(ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String(bad)})
		wantCode(t, err, "InvalidParameterValuesException")
	}
	_, err = s.ModifyAccount(ctx, &api.ModifyAccountInput{DedicatedTenancyManagementCidrRange: api.String("10.9.0.0/16")})
	wantCode(t, err, "InvalidParameterValuesException")

	if _, err := s.ModifyAccount(ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String("10.9.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.ModifyAccount(ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String("10.8.0.0/16")})
	wantCode(t, err, "InvalidResourceStateException")
	acct, err := s.DescribeAccount(ctx, &api.DescribeAccountInput{})
	if err != nil || *acct.DedicatedTenancySupport != "DISABLED" || acct.DedicatedTenancyManagementCidrRange != nil {
		t.Fatalf("DescribeAccount while PENDING = %+v, %v", acct, err)
	}
	wantCode(t, s.requireBYOL(ctx, req), "AccessDeniedException")

	advance(t, s, ctx, time.Minute)
	req, _ = s.begin(ctx)
	if err := s.requireBYOL(ctx, req); err != nil {
		t.Fatalf("requireBYOL after COMPLETED: %v", err)
	}
	acct, _ = s.DescribeAccount(ctx, &api.DescribeAccountInput{})
	if *acct.DedicatedTenancySupport != "ENABLED" || *acct.DedicatedTenancyManagementCidrRange != "10.9.0.0/16" {
		t.Fatalf("DescribeAccount after COMPLETED = %+v", acct)
	}
	_, err = s.ModifyAccount(ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String("10.9.0.0/16")})
	wantCode(t, err, "InvalidResourceStateException")
	if got := listRanges(t, s, ctx, "10.9.0.0/16", 5); len(got) != 0 {
		t.Errorf("the account's own range is listed as available: %v", got)
	}
}

func TestAccountModificationHistoryNewestFirst(t *testing.T) {
	s, ctx := newTestService(t, Config{})
	var want []string
	for i := 1; i <= 23; i++ {
		cidr := fmt.Sprintf("172.%d.0.0/16", 16+i%16)
		if i > 16 {
			cidr = fmt.Sprintf("10.%d.0.0/16", i)
		}
		if _, err := s.ModifyAccount(ctx, &api.ModifyAccountInput{DedicatedTenancySupport: api.String("ENABLED"), DedicatedTenancyManagementCidrRange: api.String(cidr)}); err != nil {
			t.Fatalf("ModifyAccount %d (%s): %v", i, cidr, err)
		}
		want = append([]string{cidr}, want...)
		advance(t, s, ctx, time.Minute)
	}
	var got []string
	var tok *string
	for {
		out, err := s.DescribeAccountModifications(ctx, &api.DescribeAccountModificationsInput{NextToken: tok})
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

func TestStorageRules(t *testing.T) {
	ok := [][2]string{{"80", "10"}, {"80", "50"}, {"80", "100"}, {"175", "100"}, {"2000", "2000"}, {"500", "250"}}
	bad := [][2]string{{"80", "20"}, {"100", "100"}, {"175", "50"}, {"2001", "100"}, {"080", "10"}, {"80 ", "10"}, {"x", "10"}, {"-80", "10"}}
	for _, c := range ok {
		if err := checkStorage(c[0], c[1]); err != nil {
			t.Errorf("root %s user %s refused: %v", c[0], c[1], err)
		}
	}
	for _, c := range bad {
		if err := checkStorage(c[0], c[1]); err == nil {
			t.Errorf("root %q user %q accepted", c[0], c[1])
		}
	}
}

// availableImage imports an image and lets it complete.
func availableImage(t *testing.T, s *Service, ctx context.Context, name string) string {
	t.Helper()
	out, err := s.ImportCustomWorkspaceImage(ctx, &api.ImportCustomWorkspaceImageInput{
		ImageName: api.String(name), ImageDescription: api.String("d"), ComputeType: api.String("BASE"),
		Protocol: api.String("DCV"), ImageSource: &api.ImageSourceIdentifier{Ec2ImageId: api.String("ami-0123456789abcdef0")},
		InfrastructureConfigurationArn: api.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/x"),
		Platform:                       api.String("WINDOWS"), OsVersion: api.String("Windows_10"),
	})
	if err != nil {
		t.Fatal(err)
	}
	advance(t, s, ctx, time.Hour)
	return *out.ImageId
}

func TestConcurrentTagChangesAreAllKept(t *testing.T) {
	s, ctx := newTestService(t, Config{})
	img := availableImage(t, s, ctx, "img")
	b, err := s.CreateWorkspaceBundle(ctx, &api.CreateWorkspaceBundleInput{
		BundleName: api.String("b"), BundleDescription: api.String("d"), ImageId: api.String(img),
		ComputeType: &api.ComputeType{Name: api.String("STANDARD")}, UserStorage: &api.UserStorage{Capacity: api.String("50")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{img, *b.WorkspaceBundle.BundleId} {
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				in := &api.CreateTagsInput{ResourceId: api.String(id), Tags: []api.Tag{{Key: api.String(fmt.Sprintf("k%02d", i)), Value: api.String("v")}}}
				for {
					_, err := s.CreateTags(ctx, in)
					if err == nil || !errors.Is(err, store.ErrConflict) {
						if err != nil {
							t.Error(err)
						}
						return
					}
				}
			})
		}
		wg.Wait()
		out, err := s.DescribeTags(ctx, &api.DescribeTagsInput{ResourceId: api.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TagList) != 40 {
			t.Errorf("%s has %d tags after 40 concurrent CreateTags, want 40", id, len(out.TagList))
		}
	}
}
