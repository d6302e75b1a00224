// Package asm holds edgeinfer's compute kernels: one Go signature per
// operation, with a body per instruction set.
//
// The portable bodies live in *_generic.go files. They are the oracle every
// SIMD body is tested against, the fallback on every CPU, and the production
// path wherever no SIMD body exists yet, so the float32 ones (Conv2D,
// DepthwiseConv2D, Pool2D, Gemm and the global pools) are written for speed
// within plain Go: NHWC activations, weights packed once at prepare time,
// cache-blocked loops and register-tiled micro-kernels whose inner loops are
// free of bounds checks.
//
// Conventions shared by every kernel:
//
//   - Activations are NHWC (channels last), one image per call.
//   - A Run method computes a range of the output (pixels, rows, columns or
//     channels) so a worker pool can split one operation across goroutines.
//     Calls on disjoint ranges are safe concurrently; Run never allocates, and
//     any scratch memory is passed in by the caller, one buffer per worker.
//   - Input slices may be longer than the kernel needs (the runtime passes
//     the tail of a batched tensor); only the described elements are read or
//     written.
//   - A fused activation is expressed as a Clamp applied in the epilogue.
//
// Kernel names follow XNNPACK's grammar and are listed by Kernels.
package asm

//go:generate go run gen_f32gemm.go -o f32gemm_ukernels_generic.go
