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

// PublicBundles lists the public bundles in id order. Their ids, names and
// compute types are AWS's own, as real clients name them (the sources are
// in docs/bundles.md); their volume sizes are each compute type's defaults
// and their image ids are wsim's.
var PublicBundles = []PublicBundle{
	publicBundle("wsb-03gyjnfyy", "Graphics with Windows 10 (Server 2019 based)", computeGraphics),
	publicBundle("wsb-1pzkp0bx4", "PowerPro with Windows 7", computePowerPro),
	publicBundle("wsb-2bs6k5lgn", "Power with Amazon Linux 2", computePower),
	publicBundle("wsb-3t36q0xfc", "Standard with Windows 7", computeStandard),
	publicBundle("wsb-8pmj7b7pq", "Value with Amazon Linux 2", computeValue),
	publicBundle("wsb-8vbljg4r6", "Standard with Windows 10 (Server 2016 based)", computeStandard),
	publicBundle("wsb-92tn3b7gx", "Value with Windows 7", computeValue),
	publicBundle("wsb-b0s22j3d7", "Performance with Windows 7", computePerformance),
	publicBundle("wsb-b1h39vgz8", "PowerPro with Amazon Linux 2", computePowerPro),
	publicBundle("wsb-bh8rsxt14", "Value with Windows 10 (Server 2016 based)", computeValue),
	publicBundle("wsb-clj85qzj1", "Standard with Amazon Linux 2", computeStandard),
	publicBundle("wsb-df76rqys9", "Value with Windows 10 and Office 2016", computeValue),
	publicBundle("wsb-g0xb96cdv", "PowerPro with Windows 10 (Server 2016 based)", computePowerPro),
	publicBundle("wsb-g6cjhl60w", "GraphicsPro with Windows 10", computeGraphicsPro),
	publicBundle("wsb-gm4d5tx2v", "Performance with Windows 10 (Server 2016 based)", computePerformance),
	publicBundle("wsb-j4dky1gs4", "Performance with Amazon Linux 2", computePerformance),
	publicBundle("wsb-w42vs8svd", "Power with Windows 10 (Server 2016 based)", computePower),
}

// publicCompute is a compute type of the public bundles: its hardware, as
// the bundle's description states it, and its default volume sizes in GB
// [AG amazon-workspaces-bundles.html, modify-workspaces.html].
type publicCompute struct {
	name, hardware string
	root, user     string
}

var (
	computeValue       = publicCompute{"VALUE", "1 vCPU, 2 GiB memory", "80", "10"}
	computeStandard    = publicCompute{"STANDARD", "2 vCPU, 4 GiB memory", "80", "50"}
	computePerformance = publicCompute{"PERFORMANCE", "2 vCPU, 8 GiB memory", "80", "100"}
	computePower       = publicCompute{"POWER", "4 vCPU, 16 GiB memory", "175", "100"}
	computePowerPro    = publicCompute{"POWERPRO", "8 vCPU, 32 GiB memory", "175", "100"}
	computeGraphics    = publicCompute{"GRAPHICS", "8 vCPU, 15 GiB memory, 1 GPU with 4 GiB video memory", "100", "100"}
	computeGraphicsPro = publicCompute{"GRAPHICSPRO", "16 vCPU, 122 GiB memory, 1 GPU with 8 GiB video memory", "100", "100"}
)

// publicBundle is a public bundle of a compute type. Its image id is the
// bundle id's suffix reversed: a wsim id, stable and distinct per bundle.
func publicBundle(id, name string, c publicCompute) PublicBundle {
	suffix := []byte(id[len("wsb-"):])
	for i, j := 0, len(suffix)-1; i < j; i, j = i+1, j-1 {
		suffix[i], suffix[j] = suffix[j], suffix[i]
	}
	return PublicBundle{ID: id, Name: name, Description: name + ", " + c.hardware, ComputeType: c.name,
		RootCapacity: c.root, UserCapacity: c.user, ImageID: "wsi-" + string(suffix)}
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
