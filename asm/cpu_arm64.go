//go:build !purego

package asm

import "golang.org/x/sys/cpu"

// archLevel is the best kernel path of this CPU: every AArch64 core has
// Advanced SIMD; SDOT needs FEAT_DotProd (Cortex-A55/A76 and later).
func archLevel() int {
	switch {
	case cpu.ARM64.HasASIMD && cpu.ARM64.HasASIMDDP:
		return pathLevel(PathDotProd)
	case cpu.ARM64.HasASIMD:
		return pathLevel(PathNEON)
	}
	return 0
}

// cpuFeatures reports the CPU features the kernel table refers to.
func cpuFeatures() map[string]bool {
	return map[string]bool{
		"asimd":   cpu.ARM64.HasASIMD,
		"asimddp": cpu.ARM64.HasASIMDDP,
		"i8mm":    cpu.ARM64.HasI8MM,
	}
}
