// Package shared locates the project's shared test data (the ../shared
// folder beside the repository: fixtures, ONNX conformance cases, real
// models and images). Tests read it in place and skip with a clear message
// when it is absent; nothing from it is copied into the repository.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides where the shared folder is.
const EnvVar = "EDGEINFER_SHARED"

// Dir returns the shared folder: $EDGEINFER_SHARED, or "shared" beside the
// repository root found by walking up from the working directory to go.mod.
func Dir() (string, bool) {
	if d := os.Getenv(EnvVar); d != "" {
		_, err := os.Stat(d)
		return d, err == nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared")
			_, err := os.Stat(s)
			return s, err == nil
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Path returns the shared path sub, skipping the test when it is absent.
func Path(t testing.TB, sub string) string {
	t.Helper()
	d, ok := Dir()
	if !ok {
		t.Skipf("shared test data not found (set %s or place the shared folder beside the repository)", EnvVar)
	}
	p := filepath.Join(d, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data %s is absent: %v", p, err)
	}
	return p
}
