//go:build purego || !(arm64 || amd64)

package asm

// q8ArchPacked has no SIMD layout in this build.
type q8ArchPacked struct{}

// q8PackArch returns nil: only the generic int8 body exists in this build
// (purego, or an architecture without int8 tiles).
func q8PackArch(p *QPacked, groups int) *q8ArchPacked { return nil }

func (np *q8ArchPacked) bytes() int { return 0 }

// packAKP is 0: no tile packs A in this build.
func (np *q8ArchPacked) packAKP() int { return 0 }

// q8ConvArch and q8GemmArch are never called in this build (q8PackArch
// returns nil).
func q8ConvArch(c *QConv2D, in []int8, p *QPacked, np *q8ArchPacked, out []int8, scratch []int8, p0, p1 int) {
	panic("asm: no int8 SIMD tiles in this build")
}

func q8GemmArch(g *QGemm, a []int8, lda int, p *QPacked, np *q8ArchPacked, c []int8, ldc int, n0, n1 int) {
	panic("asm: no int8 SIMD tiles in this build")
}
