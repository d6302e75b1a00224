//go:build purego || !(arm64 || amd64)

package asm

import "testing"

// archKernelTests maps registered SIMD bodies to their tests; this build has
// none.
var archKernelTests = map[string]func(t *testing.T, k Kernel){}
