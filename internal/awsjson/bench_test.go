package awsjson

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

const benchImport = `{"ImageName":"bench","ImageDescription":"d","ComputeType":"BASE","Protocol":"DCV","ImageSource":{"Ec2ImageId":"ami-01234567"},"InfrastructureConfigurationArn":"arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/x","Platform":"WINDOWS","OsVersion":"Windows_10","Tags":[{"Key":"k","Value":"v"},{"Key":"k2","Value":"v2"}]}`

func bigIDList(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"ImageIds":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"bad-` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkDecode measures the codec on the request path's typical bodies and
// on a body near the 4 MiB limit.
func BenchmarkDecode(b *testing.B) {
	b.Run("describe", func(b *testing.B) {
		body := []byte(`{"ImageId":"wsi-0123456789"}`)
		b.ReportAllocs()
		for b.Loop() {
			var in api.DescribeCustomWorkspaceImageImportInput
			if err := Decode(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("import", func(b *testing.B) {
		body := []byte(benchImport)
		b.ReportAllocs()
		for b.Loop() {
			var in api.ImportCustomWorkspaceImageInput
			if err := Decode(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("4MiB-list", func(b *testing.B) {
		body := bigIDList(350000)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var in api.DescribeWorkspaceImagesInput
			if err := Decode(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
