package control

// What the tests of package control_test reach inside.
var (
	WriteEvent     = writeEvent
	DashboardQuery = dashboardQuery
)
