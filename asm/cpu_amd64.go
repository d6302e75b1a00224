//go:build !purego

package asm

import "golang.org/x/sys/cpu"

// archLevel is the best kernel path of this CPU: the avx2 path needs AVX2
// and FMA3 with the OS saving the YMM state (x/sys/cpu checks XGETBV); the
// avx512vnni path adds AVX512F, VL, BW and VNNI, with the OS saving the
// ZMM and opmask state (x/sys/cpu sets no AVX-512 feature otherwise).
func archLevel() int {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return 0
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
		return pathLevel(PathVNNI)
	}
	return pathLevel(PathAVX2)
}

// cpuFeatures reports the CPU features the kernel table refers to.
func cpuFeatures() map[string]bool {
	return map[string]bool{
		"avx2":       cpu.X86.HasAVX2,
		"fma":        cpu.X86.HasFMA,
		"avx512f":    cpu.X86.HasAVX512F,
		"avx512bw":   cpu.X86.HasAVX512BW,
		"avx512vl":   cpu.X86.HasAVX512VL,
		"avx512vnni": cpu.X86.HasAVX512VNNI,
	}
}
