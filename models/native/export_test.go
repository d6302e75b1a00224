package native

// Test helpers for the external test package (native_test).
var (
	RequireModelsEqual = requireModelsEqual
	RequireGraphsEqual = requireGraphsEqual
)
