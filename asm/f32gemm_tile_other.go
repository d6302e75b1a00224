//go:build !arm64

package asm

// f32GemmDefaultMR is the row count of the default f32 GEMM register tile.
// amd64 (and 32-bit ARM VFP) have 16 FP registers; below GOAMD64=v3 a
// multiply-add is a separate MULSS and ADDSS, so a product temporary is live
// next to every accumulator. The 2×4 tile (8 accumulators) fits and still
// covers the 3-cycle add latency on two add pipes; measured on Zen 3 it beats
// 3×4, 4×4 and 2×6 at both GOAMD64=v1 and v3.
const f32GemmDefaultMR = 2
