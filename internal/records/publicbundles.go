package records

import "time"

// PublicBundle is one of the public bundles AWS provides (Owner AMAZON),
// the same in every Region. They are data, not records: no account owns
// them and nothing changes them.
type PublicBundle struct {
	ID, Name, Description string
	ComputeType           string
	// RootCapacity and UserCapacity are the volume sizes in GB, as the API
	// spells them.
	RootCapacity, UserCapacity string
	// ImageID is the image the bundle launches.
	ImageID string
}

// PublicBundleTime is the CreationTime and LastUpdatedTime of every public
// bundle: a fixed instant, so that listings are reproducible.
var PublicBundleTime = time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)

// PublicBundles lists the public bundles in id order.
var PublicBundles = []PublicBundle{
	publicBundle("wsb-amzn00001", "Value with Windows Server 2022", "1 vCPU, 2 GiB memory", "VALUE", "80", "10"),
	publicBundle("wsb-amzn00002", "Standard with Windows Server 2022", "2 vCPU, 4 GiB memory", "STANDARD", "80", "50"),
	publicBundle("wsb-amzn00003", "Performance with Windows Server 2022", "2 vCPU, 8 GiB memory", "PERFORMANCE", "80", "100"),
	publicBundle("wsb-amzn00004", "Power with Windows Server 2022", "4 vCPU, 16 GiB memory", "POWER", "175", "100"),
	publicBundle("wsb-amzn00005", "PowerPro with Windows Server 2022", "8 vCPU, 32 GiB memory", "POWERPRO", "175", "100"),
	publicBundle("wsb-amzn00006", "Standard with Amazon Linux 2", "2 vCPU, 4 GiB memory", "STANDARD", "80", "50"),
}

func publicBundle(id, name, desc, compute, root, user string) PublicBundle {
	return PublicBundle{ID: id, Name: name, Description: name + ", " + desc, ComputeType: compute,
		RootCapacity: root, UserCapacity: user, ImageID: "wsi-amzn" + id[len(id)-5:]}
}

// FindPublicBundle returns the public bundle with the id.
func FindPublicBundle(id string) (PublicBundle, bool) {
	for _, b := range PublicBundles {
		if b.ID == id {
			return b, true
		}
	}
	return PublicBundle{}, false
}
