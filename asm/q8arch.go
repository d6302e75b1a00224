package asm

// q8ArchWired reports whether QConv2D.Run and QGemm.Run call the arm64 int8
// tiles. They do not yet: q8conv.go and q8gemm.go are being finished, and
// the hook (pack with q8PackArch in Pack, call q8ConvArch / q8GemmArch in
// Run) lands with them. Until then Kernels does not mark the arm64 qgemm
// bodies active, and the tests call them directly.
const q8ArchWired = false
