//go:build purego || !(arm64 || amd64)

package asm

// archLevel is the best kernel path of this build: only the generic bodies
// exist outside arm64 (and with the purego tag).
func archLevel() int { return 0 }

// cpuFeatures reports the CPU features the kernel table refers to: none are
// usable without the arm64 bodies.
func cpuFeatures() map[string]bool { return map[string]bool{} }
