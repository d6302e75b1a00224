package asm

// q8ArchWired reports whether QConv2D.Run and QGemm.Run call the arm64 int8
// tiles: Pack repacks the weights with q8PackArch on the neon and dotprod
// paths and Run calls q8ConvArch / q8GemmArch, so Kernels marks the arm64
// qgemm bodies active.
const q8ArchWired = true

// unsafeFirst16 is &s[0], or nil for an empty s (the arm64 and AVX2 int8
// tiles take weight panels as pointers).
func unsafeFirst16(s []int16) *int16 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}
