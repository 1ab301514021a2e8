package wsimtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/workspaces"
	"github.com/aws/aws-sdk-go-v2/service/workspaces/types"

	"github.com/wsim/wsim/wsimtest"
)

// ExampleNewServer imports a BYOL image with an unmodified aws-sdk-go-v2
// client and, instead of waiting the 40 seconds of the default profile,
// freezes the service clock and moves it forward a minute.
func ExampleNewServer() {
	srv, err := wsimtest.NewServer(wsimtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	client := workspaces.NewFromConfig(srv.AWSConfig("111122223333", "us-east-1"))

	clock := srv.Clock()
	if err := clock.Freeze(); err != nil {
		log.Fatal(err)
	}
	imported, err := client.ImportCustomWorkspaceImage(ctx, &workspaces.ImportCustomWorkspaceImageInput{
		ImageName:                      aws.String("golden"),
		ImageDescription:               aws.String("Golden image"),
		ComputeType:                    types.ImageComputeTypeBase,
		Protocol:                       types.CustomImageProtocolDcv,
		ImageSource:                    &types.ImageSourceIdentifierMemberEc2ImageId{Value: "ami-0123456789abcdef0"},
		InfrastructureConfigurationArn: aws.String("arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/golden"),
		Platform:                       types.PlatformWindows,
		OsVersion:                      types.OSVersionWindows11,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("imported:", imported.State)

	if err := clock.Advance(time.Minute); err != nil {
		log.Fatal(err)
	}
	out, err := client.DescribeCustomWorkspaceImageImport(ctx, &workspaces.DescribeCustomWorkspaceImageImportInput{
		ImageId: imported.ImageId,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("a minute later:", out.State, aws.ToInt32(out.ProgressPercentage))
	// Output:
	// imported: PENDING
	// a minute later: COMPLETED 100
}
