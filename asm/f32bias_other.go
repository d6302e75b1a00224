//go:build purego || !arm64

package asm

// f32BiasTile is 0: without the arm64 NEON body Conv2D.PackBiasF32 adds
// nothing to the bias.
const f32BiasTile = 0
