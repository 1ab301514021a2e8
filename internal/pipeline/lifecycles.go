package pipeline

import (
	"fmt"
	"time"
)

// Lifecycle declares one kind of long-running operation: its stages in
// order, what each is called and says, how long it takes under each timing
// profile, how it fails when a failure is scripted without a code, and the
// terminal success state. Everything else in this package (Plan, Profile,
// failure defaults, state messages, fault rule validation) reads these
// declarations, so a new kind is one Register call.
type Lifecycle struct {
	Kind Kind
	// Label names the kind for people, as the dashboard shows it.
	Label string
	// Noun names the operation in sentences ("The image import failed ...").
	Noun   string
	Stages []StageSpec
	// Final is the terminal success state and FinalMessage its sentence.
	Final        string
	FinalMessage string
	// FailureMessage, when set, replaces the message of a default error
	// code for this kind (UnknownError reads as if about an image's
	// contents, which a copy is not).
	FailureMessage string
	// BuilderStage is the stage from which the operation has an image
	// builder instance to report; empty if it never has one.
	BuilderStage string
}

// StageSpec is one non-terminal state of a Lifecycle.
type StageSpec struct {
	State string
	// Message is the state's StateMessage sentence.
	Message string
	// ErrorCode is the error a failure scripted at this stage without a code
	// reports: the check that plausibly runs there.
	ErrorCode string
	// Realistic and Quick are the stage's durations under those profiles;
	// under the instant profile every stage takes no time.
	Realistic, Quick time.Duration
}

// lifecycle is a registered Lifecycle with its lookups precomputed.
type lifecycle struct {
	Lifecycle
	stages   []string
	messages map[string]string
	codes    map[string]string
}

// The registry, filled by Register; read-only once the program has started.
var (
	kinds     = map[Kind]*lifecycle{}
	kindOrder []Kind
)

// Register adds a lifecycle. It panics on a duplicate kind or a malformed
// declaration, which are programming errors; call it from an init function.
func Register(l Lifecycle) {
	if _, dup := kinds[l.Kind]; dup || l.Kind == "" {
		panic(fmt.Sprintf("pipeline: lifecycle %q registered twice or unnamed", l.Kind))
	}
	if len(l.Stages) == 0 || l.Final == "" || l.Noun == "" || l.Label == "" {
		panic(fmt.Sprintf("pipeline: lifecycle %q needs stages, a final state, a noun and a label", l.Kind))
	}
	lc := &lifecycle{Lifecycle: l, messages: map[string]string{l.Final: l.FinalMessage}, codes: map[string]string{}}
	for _, s := range l.Stages {
		if s.State == l.Final || s.State == StateError || lc.codes[s.State] != "" {
			panic(fmt.Sprintf("pipeline: lifecycle %q: stage %q repeated or reserved", l.Kind, s.State))
		}
		lc.stages = append(lc.stages, s.State)
		lc.messages[s.State] = s.Message
		lc.codes[s.State] = s.ErrorCode
	}
	kinds[l.Kind] = lc
	kindOrder = append(kindOrder, l.Kind)
}

func m(n int) time.Duration { return time.Duration(n) * time.Minute }
func s(n int) time.Duration { return time.Duration(n) * time.Second }

// The built-in lifecycles.
//
// Durations follow what AWS publishes and what is plausible where it does
// not: the older BYOL import "takes a minimum of 90 minutes" (100m here); no
// duration is published for ImportCustomWorkspaceImage, so it gets 2.5 h,
// dominated by Windows updates (35m), source image processing (20m) and
// component installation (20m), the steps that download and install
// software; the short steps only start or stop an instance. A copy within
// or across Regions takes tens of minutes (20m), an updated image needs a
// build instance to apply updates and be re-captured (60m), and enabling
// BYOL on an account is a control-plane change of minutes (10m). Quick keeps
// every stage a few seconds long so each state is visible when polled every
// second or two, and a custom import completes in 40s.
//
// The custom import order is the declaration order of the model's
// CustomWorkspaceImageImportState enum; AWS publishes no other order. AWS
// documents none of the state messages, so they say what the step plausibly
// does. Default error codes are from the WorkspaceImageErrorDetailCode enum.
func init() {
	Register(Lifecycle{
		Kind: KindCustomImport, Label: "Custom import", Noun: "image import", BuilderStage: "IMAGE_TESTING_START",
		Stages: []StageSpec{
			{"PENDING", "The image import request was received and is waiting to start.", "WorkspacesBYOLAccountNotFound", m(2), s(2)},
			{"IN_PROGRESS", "The image import has started and its resources are being prepared.", "WorkspacesBYOLAccountDisabled", m(3), s(2)},
			{"PROCESSING_SOURCE_IMAGE", "Processing the source image and checking that its operating system is supported.", "OSNotSupported", m(20), s(4)},
			{"IMAGE_TESTING_START", "Launching the build instance from the source image to start testing.", "UEFINotSupported", m(5), s(3)},
			{"UPDATING_OPERATING_SYSTEM", "Installing the latest Windows updates on the build instance.", "PendingReboot", m(35), s(5)},
			{"IMAGE_COMPATIBILITY_CHECKING", "Checking the image for compatibility with WorkSpaces: disk size and free space, installed software, and network and system settings.", "DiskSizeExceeded", m(10), s(3)},
			{"IMAGE_TESTING_GENERALIZATION", "Testing that the image can be generalized with Sysprep.", "ZeroRearmCount", m(10), s(3)},
			{"CREATING_TEST_INSTANCE", "Creating a test instance from the image.", "DHCPDisabled", m(8), s(3)},
			{"INSTALLING_COMPONENTS", "Installing the WorkSpaces agent and streaming protocol components on the build instance.", "OutdatedPowershellVersion", m(20), s(4)},
			{"GENERALIZING", "Generalizing the image with Sysprep.", "AppXPackagesInstalled", m(15), s(4)},
			{"VALIDATING", "Validating that the generalized image starts and meets WorkSpaces requirements.", "ProtocolOSIncompatibility", m(12), s(3)},
			{"PUBLISHING", "Publishing the image so that it can be used in bundles.", "UnknownError", m(10), s(4)},
		},
		Final: "COMPLETED", FinalMessage: "The image was imported successfully and is available.",
	})
	Register(Lifecycle{
		Kind: KindLegacyImport, Label: "Legacy import", Noun: "image import",
		Stages: []StageSpec{{"PENDING", "The image is being imported and validated for BYOL. This takes at least 90 minutes.", "OSNotSupported", m(100), s(20)}},
		Final:  "AVAILABLE", FinalMessage: "The image was imported successfully and is available.",
	})
	Register(Lifecycle{
		Kind: KindCopy, Label: "Copy", Noun: "image copy",
		Stages: []StageSpec{{"PENDING", "The image is being copied.", "UnknownError", m(20), s(10)}},
		Final:  "AVAILABLE", FinalMessage: "The image was copied successfully and is available.",
		FailureMessage: "The image could not be copied. Try again; if the problem persists, contact AWS Support.",
	})
	Register(Lifecycle{
		Kind: KindUpdate, Label: "Updated image", Noun: "image update",
		Stages: []StageSpec{{"PENDING", "The updated image is being created with the latest WorkSpaces agent and drivers.", "UnknownError", m(60), s(15)}},
		Final:  "AVAILABLE", FinalMessage: "The updated image was created successfully and is available.",
		FailureMessage: "The updated image could not be created. Try again; if the problem persists, contact AWS Support.",
	})
	// Account modification errors are not from the image enum (its
	// ErrorCode is a free string), but no better vocabulary is published.
	Register(Lifecycle{
		Kind: KindAccountModification, Label: "BYOL account modification", Noun: "BYOL account modification",
		Stages: []StageSpec{{"PENDING", "The BYOL configuration of the account is being modified.", "UnknownError", m(10), s(5)}},
		Final:  "COMPLETED", FinalMessage: "The BYOL configuration of the account was modified successfully.",
		FailureMessage: "The BYOL configuration of the account could not be modified. Try again; if the problem persists, contact AWS Support.",
	})
}
