package pipeline

// stateMessages holds the StateMessage sentence of every state. AWS documents
// none of them, so they say what the step plausibly does, in the present
// tense for stages and as an outcome for final states. ERROR is built by
// Plan.At because it names the stage and the error.
var stateMessages = map[Kind]map[string]string{
	KindCustomImport: {
		"PENDING":                      "The image import request was received and is waiting to start.",
		"IN_PROGRESS":                  "The image import has started and its resources are being prepared.",
		"PROCESSING_SOURCE_IMAGE":      "Processing the source image and checking that its operating system is supported.",
		"IMAGE_TESTING_START":          "Launching the build instance from the source image to start testing.",
		"UPDATING_OPERATING_SYSTEM":    "Installing the latest Windows updates on the build instance.",
		"IMAGE_COMPATIBILITY_CHECKING": "Checking the image for compatibility with WorkSpaces: disk size and free space, installed software, and network and system settings.",
		"IMAGE_TESTING_GENERALIZATION": "Testing that the image can be generalized with Sysprep.",
		"CREATING_TEST_INSTANCE":       "Creating a test instance from the image.",
		"INSTALLING_COMPONENTS":        "Installing the WorkSpaces agent and streaming protocol components on the build instance.",
		"GENERALIZING":                 "Generalizing the image with Sysprep.",
		"VALIDATING":                   "Validating that the generalized image starts and meets WorkSpaces requirements.",
		"PUBLISHING":                   "Publishing the image so that it can be used in bundles.",
		"COMPLETED":                    "The image was imported successfully and is available.",
	},
	KindLegacyImport: {
		"PENDING":   "The image is being imported and validated for BYOL. This takes at least 90 minutes.",
		"AVAILABLE": "The image was imported successfully and is available.",
	},
	KindCopy: {
		"PENDING":   "The image is being copied.",
		"AVAILABLE": "The image was copied successfully and is available.",
	},
	KindUpdate: {
		"PENDING":   "The updated image is being created with the latest WorkSpaces agent and drivers.",
		"AVAILABLE": "The updated image was created successfully and is available.",
	},
	KindAccountModification: {
		"PENDING":   "The BYOL configuration of the account is being modified.",
		"COMPLETED": "The BYOL configuration of the account was modified successfully.",
	},
}

// StateMessage returns the sentence describing state for an operation of
// kind, for callers that report a state without a Plan (such as the State
// returned when an import is created). A state it does not know, including
// ERROR, gets a generic sentence rather than an empty one, because the API's
// StateMessage must be at least one character long.
func StateMessage(kind Kind, state string) string {
	if m, ok := stateMessages[kind][state]; ok {
		return m
	}
	if state == StateError {
		return "The " + kind.noun() + " failed."
	}
	return "The " + kind.noun() + " is in state " + state + "."
}
