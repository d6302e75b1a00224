package asm

//go:generate go run gen_neon.go

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Kernel paths, from slowest to fastest, per architecture. A path includes
// every body of the paths before it: "dotprod" runs the NEON float kernels
// next to the SDOT int8 ones.
const (
	// PathGeneric runs the portable Go bodies (the oracle) everywhere.
	PathGeneric = "generic"
	// PathNEON runs the ARMv8.0 Advanced SIMD bodies (Cortex-A53, A72).
	PathNEON = "neon"
	// PathDotProd adds the FEAT_DotProd (SDOT) int8 bodies (Cortex-A76).
	PathDotProd = "dotprod"
	// PathAVX2 runs the amd64 AVX2 + FMA3 bodies (Haswell, Zen and later).
	PathAVX2 = "avx2"
	// PathVNNI adds the AVX-512 VNNI int8 bodies (VPDPBUSD, VPDPWSSD on
	// EVEX-encoded YMM registers; Ice Lake, Zen 4 and later) to the avx2
	// ones.
	PathVNNI = "avx512vnni"
)

// paths lists this architecture's kernel paths, generic first. Each
// architecture has its own ladder (a level is an index into it); under
// purego the paths still exist but hwLevel stays 0, so Select names them as
// unsupported rather than unknown.
var paths = archPaths(runtime.GOARCH)

func archPaths(goarch string) []string {
	if goarch == "amd64" {
		return []string{PathGeneric, PathAVX2, PathVNNI}
	}
	return []string{PathGeneric, PathNEON, PathDotProd}
}

// EnvKernels is the environment variable read at init to pin a kernel path
// (generic, neon or dotprod on arm64; generic, avx2 or avx512vnni on amd64); the CLI's flag overrides it through Select.
const EnvKernels = "EDGEINFER_KERNELS"

// level is the active path as an index into paths; hwLevel is the best path
// this CPU and build support.
var level, hwLevel int

func init() {
	hwLevel = archLevel()
	level = hwLevel
	if v := os.Getenv(EnvKernels); v != "" {
		if err := Select(v); err != nil {
			fmt.Fprintf(os.Stderr, "edgeinfer: %s=%s: %v; using %s\n", EnvKernels, v, err, paths[level])
		}
	}
}

// Select pins the kernel path for operations prepared and run afterwards:
// "generic", "neon" or "dotprod" on arm64, "generic", "avx2" or "avx512vnni"
// on amd64 (as
// EDGEINFER_KERNELS), or "" / "auto" for the best path the CPU supports. It
// fails for an unknown name or a path the CPU (or this build: purego, another
// architecture) cannot run, and then leaves the
// selection unchanged. Select is not safe to call concurrently with Run;
// call it before preparing a model.
func Select(name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || name == "auto" {
		level = hwLevel
		return nil
	}
	for i, p := range paths {
		if p == name {
			if i > hwLevel {
				return fmt.Errorf("asm: kernel path %q is not supported here (best is %q)", name, paths[hwLevel])
			}
			level = i
			return nil
		}
	}
	return fmt.Errorf("asm: unknown kernel path %q (want %s)", name, strings.Join(paths, ", "))
}

// Selected returns the active kernel path.
func Selected() string { return paths[level] }

// Supported returns the kernel paths this CPU and build can run, generic
// first.
func Supported() []string { return append([]string(nil), paths[:hwLevel+1]...) }

// pathLevel is the index of a path name, or -1.
func pathLevel(name string) int {
	for i, p := range paths {
		if p == name {
			return i
		}
	}
	return -1
}
