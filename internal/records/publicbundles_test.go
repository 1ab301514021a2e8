package records

import (
	"regexp"
	"slices"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

// TestPublicBundles checks the catalogue's invariants that the listing and
// the look-ups rely on: id order (pages resume after an id), ids and image
// ids that match the model's patterns, names unique (a look-up by owner and
// name finds one), known compute types, and the ids real code names.
func TestPublicBundles(t *testing.T) {
	bundleID := regexp.MustCompile(`^wsb-[0-9a-z]{8,63}$`)
	imageID := regexp.MustCompile(`^wsi-[0-9a-z]{9,63}$`)
	names, images := map[string]bool{}, map[string]bool{}
	for i, b := range PublicBundles {
		if i > 0 && PublicBundles[i-1].ID >= b.ID {
			t.Errorf("%s listed after %s: not in id order", b.ID, PublicBundles[i-1].ID)
		}
		if !bundleID.MatchString(b.ID) || !imageID.MatchString(b.ImageID) {
			t.Errorf("%s / %s: id or image id does not match the model's pattern", b.ID, b.ImageID)
		}
		if names[b.Name] || images[b.ImageID] {
			t.Errorf("%s: name %q or image %s repeated", b.ID, b.Name, b.ImageID)
		}
		names[b.Name], images[b.ImageID] = true, true
		if !slices.Contains(api.ComputeValues, b.ComputeType) {
			t.Errorf("%s: compute type %q is not in the model", b.ID, b.ComputeType)
		}
	}
	for _, tc := range []struct{ id, name, compute, root, user string }{
		{"wsb-bh8rsxt14", "Value with Windows 10 (Server 2016 based)", "VALUE", "80", "10"},
		{"wsb-b0s22j3d7", "Performance with Windows 7", "PERFORMANCE", "80", "100"},
		{"wsb-df76rqys9", "Value with Windows 10 and Office 2016", "VALUE", "80", "10"},
		{"wsb-clj85qzj1", "Standard with Amazon Linux 2", "STANDARD", "80", "50"},
		{"wsb-2bs6k5lgn", "Power with Amazon Linux 2", "POWER", "175", "100"},
	} {
		b, ok := FindPublicBundle(tc.id)
		if !ok {
			t.Errorf("FindPublicBundle(%s): not found", tc.id)
			continue
		}
		if got := [4]string{b.Name, b.ComputeType, b.RootCapacity, b.UserCapacity}; got != [4]string{tc.name, tc.compute, tc.root, tc.user} {
			t.Errorf("FindPublicBundle(%s) = %q, want %q", tc.id, got, [4]string{tc.name, tc.compute, tc.root, tc.user})
		}
	}
	if _, ok := FindPublicBundle("wsb-amzn00001"); ok {
		t.Error("FindPublicBundle(wsb-amzn00001): found an id AWS never issued")
	}
}
