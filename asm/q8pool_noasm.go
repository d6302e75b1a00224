//go:build purego || !(arm64 || amd64)

package asm

// This build has no SIMD int8 pooling bodies.

func q8MaxPoolArch(p *QPool2D, in, out []int8, r0, r1 int) bool { return false }

func q8MeanArch(m *QMean, in, out []int8, c0, c1 int) bool { return false }

func q8AvgPoolArch(p *QPool2D, in, out []int8, r0, r1 int) bool { return false }
