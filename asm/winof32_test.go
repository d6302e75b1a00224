package asm

import (
	"math"
	"testing"
)

// noWino keeps the Winograd path off for the rest of t (Conv2Ds packed
// meanwhile run the direct path): the tests of the direct GEMM bodies
// compare them with the generic body within 1e-5, which the Winograd
// arithmetic, a different algorithm, is not held to (winoConvCompare
// checks it against the float64 reference).
func noWino(t *testing.T) {
	saved := winoF32MinC
	t.Cleanup(func() { winoF32MinC = saved })
	winoF32MinC = math.MaxInt
}
