//go:build !purego

package asm

import "testing"

func init() {
	archKernelTests["qs8_vcvt_f32_x16__neon"] = func(t *testing.T, k Kernel) {
		saved := level
		defer func() { level = saved }()
		level = pathLevel(k.Path)
		q8QuantizeCompare(t, 43)
	}
	archKernelTests["qs8_vadd_requant_x16__neon"] = func(t *testing.T, k Kernel) {
		saved := level
		defer func() { level = saved }()
		level = pathLevel(k.Path)
		q8AddCompare(t)
	}
}
