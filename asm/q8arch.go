package asm

// q8ArchWired reports whether QConv2D.Run and QGemm.Run call the arm64 int8
// tiles: Pack repacks the weights with q8PackArch on the neon and dotprod
// paths and Run calls q8ConvArch / q8GemmArch, so Kernels marks the arm64
// qgemm bodies active.
const q8ArchWired = true
