//go:build !purego

package asm

import "golang.org/x/sys/cpu"

// archLevel is the best kernel path of this CPU: the avx2 path needs AVX2
// and FMA3 with the OS saving the YMM state (x/sys/cpu checks XGETBV).
func archLevel() int {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return pathLevel(PathAVX2)
	}
	return 0
}

// cpuFeatures reports the CPU features the kernel table refers to.
func cpuFeatures() map[string]bool {
	return map[string]bool{
		"avx2":     cpu.X86.HasAVX2,
		"fma":      cpu.X86.HasFMA,
		"avx512f":  cpu.X86.HasAVX512F,
		"avx512bw": cpu.X86.HasAVX512BW,
	}
}
