//go:build !purego

package asm

import "testing"

func init() {
	for _, name := range []string{"qs8_maxpool_minmax_c16__neon", "qs8_gavgpool_sum_c16__neon"} {
		archKernelTests[name] = func(t *testing.T, k Kernel) {
			saved := level
			defer func() { level = saved }()
			level = pathLevel(k.Path)
			q8PoolCompare(t)
		}
	}
}
