package pipeline

// StateMessage returns the sentence describing state for an operation of
// kind, for callers that report a state without a Plan (such as the State
// returned when an import is created). A state it does not know, including
// ERROR, gets a generic sentence rather than an empty one, because the API's
// StateMessage must be at least one character long.
func StateMessage(kind Kind, state string) string {
	if lc, ok := kinds[kind]; ok {
		if m, ok := lc.messages[state]; ok {
			return m
		}
	}
	if state == StateError {
		return "The " + kind.noun() + " failed."
	}
	return "The " + kind.noun() + " is in state " + state + "."
}
