package asm

// f32GemmDefaultMR is the row count of the default f32 GEMM register tile.
// AArch64 has 32 FP registers and a 4-cycle (Neoverse) to 7-cycle (Cortex-A72)
// fused multiply-add with two pipes, so it needs ≥14 independent
// accumulators: the 4×4 tile (16 accumulators + 4 A + 4 B registers) fits
// without spilling.
const f32GemmDefaultMR = 4
