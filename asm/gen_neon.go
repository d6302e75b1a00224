//go:build ignore

// gen_neon writes the arm64 NEON kernel bodies:
//
//	f32gemm_neon_arm64.s  f32_gemm_minmax_<MR>x8__neonfma, MR = 1..8
//	q8gemm_neon_arm64.s   qs8 GEMM tiles with fused requantisation:
//	                      <MR>x8 (SMLAL by lane) and <MR>x8c4 (SDOT by
//	                      lane), MR = 1..8; <MR>x8c16 (SMULL + SMLAL2 +
//	                      SADALP), MR = 1, 2
//
// Run with: go generate ./asm/  (or: go run gen_neon.go)
//
// Go's arm64 assembler has no lane-indexed FMLA, SMLAL, SDOT, no SXTL,
// no vector FMAX/FMIN and none of the saturating or rounding integer vector
// instructions of the requantisation, so those are emitted as WORD $0x… with the GNU
// mnemonic in a trailing comment. The encodings are computed here from the
// Arm ARM field layouts; TestWordEncodings assembles every mnemonic with
// llvm-mc and checks it against the WORD and against testdata/neon_words.golden.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	dir := flag.String("dir", ".", "output directory")
	flag.Parse()
	files := generate()
	for _, name := range sortedKeys(files) {
		if err := os.WriteFile(filepath.Join(*dir, name), files[name], 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func sortedKeys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// generate returns every generated file by name, plus the golden WORD list.
func generate() map[string][]byte {
	words := map[string]string{}
	out := map[string][]byte{}
	out["f32gemm_neon_arm64.s"] = f32File(words)
	out["q8gemm_neon_arm64.s"] = q8File(words)
	var g bytes.Buffer
	g.WriteString("# WORD encodings used by the generated arm64 kernels (gen_neon.go).\n")
	g.WriteString("# Checked against llvm-mc -triple=aarch64 -mattr=+dotprod,+i8mm by TestWordEncodings.\n")
	var lines []string
	for mn, w := range words {
		lines = append(lines, fmt.Sprintf("%s\t%s", w, mn))
	}
	sort.Strings(lines)
	g.WriteString(strings.Join(lines, "\n") + "\n")
	out["testdata/neon_words.golden"] = g.Bytes()
	return out
}

// ---- encoders (Arm ARM, "Advanced SIMD vector x indexed element" etc.) ----

type asm struct {
	b     bytes.Buffer
	words map[string]string
}

func (a *asm) p(format string, args ...any) { fmt.Fprintf(&a.b, format+"\n", args...) }

func (a *asm) word(w uint32, mnemonic string) {
	hex := fmt.Sprintf("0x%08x", w)
	if old, ok := a.words[mnemonic]; ok && old != hex {
		log.Fatalf("%s encoded twice: %s and %s", mnemonic, old, hex)
	}
	a.words[mnemonic] = hex
	a.p("\tWORD $%s // %s", hex, mnemonic)
}

func reg(r int) uint32 {
	if r < 0 || r > 31 {
		log.Fatalf("bad register v%d", r)
	}
	return uint32(r)
}

// fmla Vd.4S, Vn.4S, Vm.S[i]
func (a *asm) fmlaLane(d, n, m, i int) {
	w := 0x4f801000 | uint32(i&1)<<21 | reg(m)<<16 | uint32(i>>1)<<11 | reg(n)<<5 | reg(d)
	a.word(w, fmt.Sprintf("fmla v%d.4s, v%d.4s, v%d.s[%d]", d, n, m, i))
}

// fmax / fmin Vd.4S, Vn.4S, Vm.4S
func (a *asm) fmax(d, n, m int) {
	a.word(0x4e20f400|reg(m)<<16|reg(n)<<5|reg(d), fmt.Sprintf("fmax v%d.4s, v%d.4s, v%d.4s", d, n, m))
}

func (a *asm) fmin(d, n, m int) {
	a.word(0x4ea0f400|reg(m)<<16|reg(n)<<5|reg(d), fmt.Sprintf("fmin v%d.4s, v%d.4s, v%d.4s", d, n, m))
}

// dup Vd.4S, Vn.S[i]
func (a *asm) dupS(d, n, i int) {
	a.word(0x4e040400|uint32(i)<<19|reg(n)<<5|reg(d), fmt.Sprintf("dup v%d.4s, v%d.s[%d]", d, n, i))
}

// smlal{2} Vd.4S, Vn.{4H,8H}, Vm.H[i] (m < 16)
func (a *asm) smlalLane(hi bool, d, n, m, i int) {
	if m > 15 {
		log.Fatalf("smlal by element needs v0-v15, got v%d", m)
	}
	q, mn, t := uint32(0), "smlal", "4h"
	if hi {
		q, mn, t = 1, "smlal2", "8h"
	}
	w := 0x0f402000 | q<<30 | uint32((i>>1)&1)<<21 | uint32(i&1)<<20 | reg(m)<<16 | uint32(i>>2)<<11 | reg(n)<<5 | reg(d)
	a.word(w, fmt.Sprintf("%s v%d.4s, v%d.%s, v%d.h[%d]", mn, d, n, t, m, i))
}

// sxtl Vd.8H, Vn.8B (sshll #0)
func (a *asm) sxtl8h(d, n int) {
	a.word(0x0f08a400|reg(n)<<5|reg(d), fmt.Sprintf("sxtl v%d.8h, v%d.8b", d, n))
}

// sdot Vd.4S, Vn.16B, Vm.4B[i]
func (a *asm) sdotLane(d, n, m, i int) {
	w := 0x4f80e000 | uint32(i&1)<<21 | reg(m)<<16 | uint32(i>>1)<<11 | reg(n)<<5 | reg(d)
	a.word(w, fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.4b[%d]", d, n, m, i))
}

// vec3 emits an Advanced SIMD "three same" / "three different" /
// "two-register misc" / "shift by immediate" instruction: base holds the
// opcode, Q, U and size fields; d, n, m are register numbers (m < 0: none).
func (a *asm) vec(base uint32, d, n, m int, mnemonic string) {
	w := base | reg(n)<<5 | reg(d)
	if m >= 0 {
		w |= reg(m) << 16
	}
	a.word(w, mnemonic)
}

func (a *asm) op3(base uint32, name, td, tn, tm string, d, n, m int) {
	a.vec(base, d, n, m, fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s", name, d, td, n, tn, m, tm))
}

func (a *asm) op2(base uint32, name, td, tn string, d, n int) {
	a.vec(base, d, n, -1, fmt.Sprintf("%s v%d.%s, v%d.%s", name, d, td, n, tn))
}

// Row pointer registers for A (R16-R18 and R26-R30 are reserved).
var rowReg = []string{"R9", "R10", "R11", "R12", "R13", "R14", "R15", "R19"}

const maxMR = 8

// ---- f32 GEMM ----

func f32File(words map[string]string) []byte {
	a := &asm{words: words}
	a.p(`// Code generated by gen_neon.go; DO NOT EDIT.

//go:build !purego

// f32_gemm_minmax_<MR>x8__neonfma, MR = 1..8: the float32 GEMM micro-kernels
// behind Gemm.RunF32 and Conv2D.RunF32 on arm64.
//
// Go signature (f32gemm_arm64.go):
//
//	func f32GemmNeon<MR>x8(kc int, a *float32, lda int, b *float32, bstride int,
//		init *float32, istride int, c *float32, ldc int, lo, hi float32)
//
// computes, for i < MR, j < 8 (strides in elements):
//
//	c[i*ldc+j] = min(max(init[i*istride+j] + Σ_{k<kc} a[i*lda+k]·B[k][j], lo), hi)
//
// accumulating each element in k order with fused multiply-adds (FMLA), the
// order of the generic micro-kernels. init may alias c (a k block continuing
// partial sums) or be a bias row with istride 0.
//
// Registers: R0 kc, R9 R10 R11 R12 R13 R14 R15 R19 = A rows 0..7,
// R3 = B panel 0 (columns 0..3), R4 = B panel 1 (columns 4..7), R5/R6 init
// pointer/stride, R7/R8 c pointer/stride (bytes).
// Accumulator tile: V16+2i = row i columns 0..3, V17+2i = row i columns 4..7
// (8×8 float32 in V16–V31). V0–V7 hold 4 k of A rows 0..7, V8–V15 the B
// vectors of 4 k steps (even: panel 0, odd: panel 1).
//
// Packed B layout (Gemm.PackF32): panels of 4 columns, k-major,
// panel[q][k][j] = B[k][4q+j]; the two panels of a tile are bstride floats
// apart (0 repeats panel 0 for a 4-column tail, whose extra columns the
// caller discards).
//
// ISA: ARMv8.0-A Advanced SIMD (FMLA by element). Tuned for Cortex-A72/A76:
// 16 independent accumulators cover the 4-cycle FMLA latency on two pipes
// (A76) and the A72's single 128-bit FMLA issue; the k loop is unrolled 4×
// so that one 128-bit A load feeds 16 lane-indexed FMLAs.

#include "textflag.h"`)
	for mr := 1; mr <= maxMR; mr++ {
		f32Kernel(a, mr)
	}
	return a.b.Bytes()
}

func f32Kernel(a *asm, mr int) {
	a.p("")
	a.p("// func f32GemmNeon%dx8(kc int, a *float32, lda int, b *float32, bstride int, init *float32, istride int, c *float32, ldc int, lo, hi float32)", mr)
	a.p("TEXT ·f32GemmNeon%dx8(SB), NOSPLIT, $0-80", mr)
	a.p("\tMOVD kc+0(FP), R0")
	a.p("\tMOVD a+8(FP), R9")
	a.p("\tMOVD lda+16(FP), R2")
	a.p("\tLSL $2, R2, R2")
	for i := 1; i < mr; i++ {
		a.p("\tADD R2, %s, %s", rowReg[i-1], rowReg[i])
	}
	a.p("\tMOVD b+24(FP), R3")
	a.p("\tMOVD bstride+32(FP), R4")
	a.p("\tADD R4<<2, R3, R4")
	a.p("\tMOVD init+40(FP), R5")
	a.p("\tMOVD istride+48(FP), R6")
	a.p("\tLSL $2, R6, R6")
	for i := 0; i < mr; i++ {
		a.p("\tVLD1 (R5), [V%d.S4, V%d.S4]", 16+2*i, 17+2*i)
		if i < mr-1 {
			a.p("\tADD R6, R5, R5")
		}
	}
	a.p("\tCMP $4, R0")
	a.p("\tBLT tail")
	a.p("loop4:")
	for i := 0; i < mr; i++ {
		a.p("\tVLD1.P 16(%s), [V%d.S4]", rowReg[i], i)
	}
	for u := 0; u < 4; u++ {
		b0, b1 := 8+2*u, 9+2*u
		a.p("\tVLD1.P 16(R3), [V%d.S4]", b0)
		a.p("\tVLD1.P 16(R4), [V%d.S4]", b1)
		for i := 0; i < mr; i++ {
			a.fmlaLane(16+2*i, b0, i, u)
			a.fmlaLane(17+2*i, b1, i, u)
		}
	}
	a.p("\tSUB $4, R0, R0")
	a.p("\tCMP $4, R0")
	a.p("\tBGE loop4")
	a.p("tail:")
	a.p("\tCBZ R0, done")
	a.p("loop1:")
	for i := 0; i < mr; i++ {
		a.p("\tFMOVS.P 4(%s), F%d", rowReg[i], i)
	}
	a.p("\tVLD1.P 16(R3), [V8.S4]")
	a.p("\tVLD1.P 16(R4), [V9.S4]")
	for i := 0; i < mr; i++ {
		a.fmlaLane(16+2*i, 8, i, 0)
		a.fmlaLane(17+2*i, 9, i, 0)
	}
	a.p("\tSUB $1, R0, R0")
	a.p("\tCBNZ R0, loop1")
	a.p("done:")
	a.p("\tFMOVS lo+72(FP), F0")
	a.p("\tFMOVS hi+76(FP), F1")
	a.dupS(0, 0, 0)
	a.dupS(1, 1, 0)
	for i := 0; i < 2*mr; i++ {
		a.fmax(16+i, 16+i, 0)
	}
	for i := 0; i < 2*mr; i++ {
		a.fmin(16+i, 16+i, 1)
	}
	a.p("\tMOVD c+56(FP), R7")
	a.p("\tMOVD ldc+64(FP), R8")
	a.p("\tLSL $2, R8, R8")
	for i := 0; i < mr; i++ {
		a.p("\tVST1 [V%d.S4, V%d.S4], (R7)", 16+2*i, 17+2*i)
		if i < mr-1 {
			a.p("\tADD R8, R7, R7")
		}
	}
	a.p("\tRET")
}

// ---- int8 GEMM ----

const q8Header = `// Code generated by gen_neon.go; DO NOT EDIT.

//go:build !purego

// int8 GEMM tiles for QConv2D and QGemm on arm64, requantisation fused:
// MR×8 int8 outputs from int8 A rows and packed weights.
//
// Go signatures (q8gemm_neon_arm64.go):
//
//	func q8GemmMlal<MR>x8(k int, a *int8, lda int, w *int16, c *int8, ldc int, rq *q8TileRequant)  MR = 1..8
//	func q8GemmDot<MR>x8c4(k int, a *int8, lda int, w *int8, c *int8, ldc int, rq *q8TileRequant)  MR = 1..8
//	func q8GemmC16<MR>x8(k int, a *int8, lda int, w *int8, c *int8, ldc int, rq *q8TileRequant)    MR = 1, 2; k ≥ 16
//
// compute, for i < MR, j < 8 (R = rq, channel j; strides in bytes):
//
//	acc := R.bias[j] + Σ_{kk<k} a[i*lda+kk]·W[kk][j]      (int32, wrapping)
//	c[i*ldc+j] = clamp(R.zo + rescale(R.mode, acc, R.mult[j], R.shift[j]), R.lo, R.hi)
//
// bit for bit as q8Epilogue (Requant) for all three Rounding modes:
//
//	RoundUpward  SSHL by max(s,0), SQRDMULH, SRSHL by min(s,0)
//	RoundDouble  the same plus gemmlowp's fix-up (AND, SSHR #31, SQADD)
//	             before SRSHL: ties away from zero
//	RoundSingle  SMULL/SMULL2 to 64 bits, SRSHL by s−31, XTN/XTN2
//
// then ADD of the zero point in int32 (wrapping like the Go code), SQXTN
// to 16 and 8 bits (saturation commutes with the clamp, whose limits are
// int8) and SMAX/SMIN.
//
// q8TileRequant (Go struct, offsets): bias *int32 0, mult *int32 8,
// shift *int32 16 (8 values each), zo 24, lo 28, hi 32, mode 36 (int32).
//
// Registers: R0 k, R9 R10 R11 R12 R13 R14 R15 R19 = A rows 0..7, R3 = w,
// R5 = rq, R7/R8 = c pointer/stride.
// Accumulator tiles: Mlal and Dot: V16+2i = row i columns 0..3, V17+2i =
// row i columns 4..7 (8×8 int32 in V16–V31), initialised from the bias.
// C16: V16+8i+j = row i column j, four partial sums each (reduced with
// ADDP at the end into V16+2i, V17+2i); A rows in V0–V3 / V4–V7, weights in
// V8–V11, int16 pair products in V12–V15.
//
// Packed weight layouts (q8PackArch, from QPacked's pair-packed panels):
//   - Mlal: per 8-column panel, k-major int16 (weight − zero point, which
//     may reach ±255): w[k·8 + j].
//   - Dot (c4): per 8-column panel, k padded to a multiple of 4 and zero
//     filled, int8: w[(k/4)·32 + j·4 + k%4] (columns 0..3 in the first 16
//     bytes of a group, 4..7 in the second); only when every
//     weight − zero point fits int8.
//   - C16: per 8-column panel, G = ⌈k/16⌉ groups of 8 columns × 16 k, int8:
//     w[g·128 + j·16 + t] = W[16g + t][j] for g < G−1; the last group holds
//     W[k−16+t][j] (zero for k−16+t < 16(G−1)), so that its A load is the
//     row's last 16 bytes. Only when every weight − zero point is in
//     [−127, 127] (a pair of products then fits int16) and k ≥ 16.
//
// ISA: Mlal and C16 need ARMv8.0-A Advanced SIMD (Cortex-A53/A72): Mlal
// SXTLs 8 k of A and does 16 SMLAL/SMLAL2 by lane per k (4 MACs each, any
// weight); C16 multiplies 16 k of a row by 16 k of a column with SMULL +
// SMLAL2 (int16 pair sums) and SADALP (16 MACs per 3 instructions), 64 k
// per iteration. Dot needs FEAT_DotProd (Cortex-A76 / Pi 5: SDOT by lane,
// 16 MACs each). Tuned for A72 and A76: 16 accumulators keep both SIMD
// pipes busy.

#include "textflag.h"
`

// c16MR is the largest row count of the c16 tile (16 accumulators).
const c16MR = 2

func q8File(words map[string]string) []byte {
	a := &asm{words: words}
	a.b.WriteString(q8Header)
	for mr := 1; mr <= maxMR; mr++ {
		q8Mlal(a, mr)
	}
	for mr := 1; mr <= maxMR; mr++ {
		q8Dot(a, mr)
	}
	for mr := 1; mr <= c16MR; mr++ {
		q8C16(a, mr)
	}
	return a.b.Bytes()
}

const q8Args = "(k int, a *int8, lda int, w *%s, c *int8, ldc int, rq *q8TileRequant)"

// q8Prologue loads the arguments; with bias it initialises the 8×8 tile
// from rq.bias, otherwise it zeroes nacc accumulators from V16.
func q8Prologue(a *asm, mr int, name, wtype string, bias bool, nacc int) {
	a.p("")
	a.p("// func %s"+q8Args, name, wtype)
	a.p("TEXT ·%s(SB), NOSPLIT, $0-56", name)
	a.p("\tMOVD k+0(FP), R0")
	a.p("\tMOVD a+8(FP), R9")
	a.p("\tMOVD lda+16(FP), R2")
	for i := 1; i < mr; i++ {
		a.p("\tADD R2, %s, %s", rowReg[i-1], rowReg[i])
	}
	a.p("\tMOVD w+24(FP), R3")
	a.p("\tMOVD rq+48(FP), R5")
	if bias {
		a.p("\tMOVD (R5), R6")
		a.p("\tVLD1 (R6), [V16.S4, V17.S4]")
		for i := 1; i < mr; i++ {
			a.p("\tVORR V16.B16, V16.B16, V%d.B16", 16+2*i)
			a.p("\tVORR V17.B16, V17.B16, V%d.B16", 17+2*i)
		}
		return
	}
	for i := 0; i < nacc; i++ {
		a.p("\tVEOR V%d.B16, V%d.B16, V%d.B16", 16+i, 16+i, 16+i)
	}
}

// q8Requant requantises the MR×8 tile in V16+2i (columns 0..3) and
// V17+2i (columns 4..7) and stores it (see the file header). V0–V15 are
// free.
func q8Requant(a *asm, mr int) {
	acc := func(i, h int) int { return 16 + 2*i + h }
	a.p("requant:")
	a.p("\tMOVD 8(R5), R6")
	a.p("\tVLD1 (R6), [V0.S4, V1.S4]") // mult
	a.p("\tMOVD 16(R5), R6")
	a.p("\tVLD1 (R6), [V2.S4, V3.S4]") // shift
	a.p("\tMOVW 36(R5), R6")
	a.p("\tCMP $1, R6")
	a.p("\tBEQ single")
	a.p("\tVEOR V6.B16, V6.B16, V6.B16")
	for h := 0; h < 2; h++ {
		a.op3(0x4ea06400, "smax", "4s", "4s", "4s", 4+h, 2+h, 6) // left shift
		a.op3(0x4ea06c00, "smin", "4s", "4s", "4s", 2+h, 2+h, 6) // −right shift
	}
	for i := 0; i < mr; i++ {
		for h := 0; h < 2; h++ {
			v := acc(i, h)
			a.op3(0x4ea04400, "sshl", "4s", "4s", "4s", v, v, 4+h)
			a.op3(0x6ea0b400, "sqrdmulh", "4s", "4s", "4s", v, v, h)
		}
	}
	a.p("\tCBNZ R6, upward") // RoundDouble is 0
	for i := 0; i < mr; i++ {
		for h := 0; h < 2; h++ {
			v, t := acc(i, h), 7+h
			a.op3(0x4e201c00, "and", "16b", "16b", "16b", t, v, 2+h)
			a.vec(0x4f210400, t, t, -1, fmt.Sprintf("sshr v%d.4s, v%d.4s, #31", t, t))
			a.op3(0x4ea00c00, "sqadd", "4s", "4s", "4s", v, v, t)
		}
	}
	a.p("upward:")
	for i := 0; i < mr; i++ {
		for h := 0; h < 2; h++ {
			v := acc(i, h)
			a.op3(0x4ea05400, "srshl", "4s", "4s", "4s", v, v, 2+h)
		}
	}
	a.p("\tB narrow")
	a.p("single:")
	a.p("\tMOVD $31, R6")
	a.p("\tVDUP R6, V7.S4")
	for h := 0; h < 2; h++ {
		a.op3(0x6ea08400, "sub", "4s", "4s", "4s", 2+h, 2+h, 7)
		a.op2(0x0f20a400, "sxtl", "2d", "2s", 8+2*h, 2+h)
		a.op2(0x4f20a400, "sxtl2", "2d", "4s", 9+2*h, 2+h)
	}
	for i := 0; i < mr; i++ {
		for h := 0; h < 2; h++ {
			v := acc(i, h)
			a.op3(0x0ea0c000, "smull", "2d", "2s", "2s", 12, v, h)
			a.op3(0x4ea0c000, "smull2", "2d", "4s", "4s", 13, v, h)
			a.op3(0x4ee05400, "srshl", "2d", "2d", "2d", 12, 12, 8+2*h)
			a.op3(0x4ee05400, "srshl", "2d", "2d", "2d", 13, 13, 9+2*h)
			a.op2(0x0ea12800, "xtn", "2s", "2d", v, 12)
			a.op2(0x4ea12800, "xtn2", "4s", "2d", v, 13)
		}
	}
	a.p("narrow:")
	a.p("\tMOVW 24(R5), R6")
	a.p("\tVDUP R6, V4.S4")
	a.p("\tMOVW 28(R5), R6")
	a.p("\tVDUP R6, V5.B16")
	a.p("\tMOVW 32(R5), R6")
	a.p("\tVDUP R6, V6.B16")
	a.p("\tMOVD c+32(FP), R7")
	a.p("\tMOVD ldc+40(FP), R8")
	// Rows i and i+1 share one 16-byte vector, V16+2i.
	for i := 0; i < mr; i += 2 {
		v := acc(i, 0)
		for r := i; r < min(i+2, mr); r++ {
			a.p("\tVADD V4.S4, V%d.S4, V%d.S4", acc(r, 0), acc(r, 0))
			a.p("\tVADD V4.S4, V%d.S4, V%d.S4", acc(r, 1), acc(r, 1))
			a.op2(0x0e614800, "sqxtn", "4h", "4s", acc(r, 0), acc(r, 0))
			a.op2(0x4e614800, "sqxtn2", "8h", "4s", acc(r, 0), acc(r, 1))
		}
		a.op2(0x0e214800, "sqxtn", "8b", "8h", v, v)
		if i+1 < mr {
			a.op2(0x4e214800, "sqxtn2", "16b", "8h", v, acc(i+1, 0))
		}
		a.op3(0x4e206400, "smax", "16b", "16b", "16b", v, v, 5)
		a.op3(0x4e206c00, "smin", "16b", "16b", "16b", v, v, 6)
		a.p("\tFMOVD F%d, (R7)", v)
		if i+1 < mr {
			a.p("\tADD R8, R7, R7")
			a.p("\tVMOV V%d.D[1], R20", v)
			a.p("\tMOVD R20, (R7)")
		}
		if i+2 < mr {
			a.p("\tADD R8, R7, R7")
		}
	}
	a.p("\tRET")
}

func q8Mlal(a *asm, mr int) {
	q8Prologue(a, mr, fmt.Sprintf("q8GemmMlal%dx8", mr), "int16", true, 0)
	a.p("\tCMP $8, R0")
	a.p("\tBLT tail")
	a.p("loop8:")
	for i := 0; i < mr; i++ {
		a.p("\tVLD1.P 8(%s), [V%d.B8]", rowReg[i], i)
	}
	for i := 0; i < mr; i++ {
		a.sxtl8h(i, i)
	}
	for u := 0; u < 8; u++ {
		w := 8 + u
		a.p("\tVLD1.P 16(R3), [V%d.H8]", w)
		for i := 0; i < mr; i++ {
			a.smlalLane(false, 16+2*i, w, i, u)
			a.smlalLane(true, 17+2*i, w, i, u)
		}
	}
	a.p("\tSUB $8, R0, R0")
	a.p("\tCMP $8, R0")
	a.p("\tBGE loop8")
	a.p("tail:")
	a.p("\tCBZ R0, requant")
	a.p("loop1:")
	for i := 0; i < mr; i++ {
		a.p("\tMOVB.P 1(%s), R20", rowReg[i])
		a.p("\tVMOV R20, V%d.H[0]", i)
	}
	a.p("\tVLD1.P 16(R3), [V8.H8]")
	for i := 0; i < mr; i++ {
		a.smlalLane(false, 16+2*i, 8, i, 0)
		a.smlalLane(true, 17+2*i, 8, i, 0)
	}
	a.p("\tSUB $1, R0, R0")
	a.p("\tCBNZ R0, loop1")
	q8Requant(a, mr)
}

func q8Dot(a *asm, mr int) {
	q8Prologue(a, mr, fmt.Sprintf("q8GemmDot%dx8c4", mr), "int8", true, 0)
	a.p("\tCMP $16, R0")
	a.p("\tBLT groups")
	a.p("loop16:")
	for i := 0; i < mr; i++ {
		a.p("\tVLD1.P 16(%s), [V%d.B16]", rowReg[i], i)
	}
	for u := 0; u < 4; u++ {
		w0, w1 := 8+2*u, 9+2*u
		a.p("\tVLD1.P 32(R3), [V%d.B16, V%d.B16]", w0, w1)
		for i := 0; i < mr; i++ {
			a.sdotLane(16+2*i, w0, i, u)
			a.sdotLane(17+2*i, w1, i, u)
		}
	}
	a.p("\tSUB $16, R0, R0")
	a.p("\tCMP $16, R0")
	a.p("\tBGE loop16")
	a.p("groups:")
	a.p("\tCMP $4, R0")
	a.p("\tBLT rest")
	a.p("loop4:")
	for i := 0; i < mr; i++ {
		a.p("\tMOVWU.P 4(%s), R20", rowReg[i])
		a.p("\tVMOV R20, V%d.S[0]", i)
	}
	q8DotStep(a, mr)
	a.p("\tSUB $4, R0, R0")
	a.p("\tCMP $4, R0")
	a.p("\tBGE loop4")
	a.p("rest:")
	// 1..3 k left: gather them byte by byte so no load passes the row's
	// end; the packed weights of the missing k are zero.
	a.p("\tCBZ R0, requant")
	for i := 0; i < mr; i++ {
		r := rowReg[i]
		a.p("\tMOVBU (%s), R20", r)
		a.p("\tCMP $2, R0")
		a.p("\tBLT rest%d", i)
		a.p("\tMOVBU 1(%s), R21", r)
		a.p("\tORR R21<<8, R20, R20")
		a.p("\tCMP $3, R0")
		a.p("\tBLT rest%d", i)
		a.p("\tMOVBU 2(%s), R21", r)
		a.p("\tORR R21<<16, R20, R20")
		a.p("rest%d:", i)
		a.p("\tVMOV R20, V%d.S[0]", i)
	}
	q8DotStep(a, mr)
	q8Requant(a, mr)
}

// q8DotStep multiplies lane 0 (4 k) of V0..V(mr-1) by one 32-byte weight group.
func q8DotStep(a *asm, mr int) {
	a.p("\tVLD1.P 32(R3), [V8.B16, V9.B16]")
	for i := 0; i < mr; i++ {
		a.sdotLane(16+2*i, 8, i, 0)
		a.sdotLane(17+2*i, 9, i, 0)
	}
}

// q8C16 writes the c16 tile (SMULL + SMLAL2 + SADALP), mr ≤ c16MR rows.
func q8C16(a *asm, mr int) {
	q8Prologue(a, mr, fmt.Sprintf("q8GemmC16%dx8", mr), "int8", false, 8*mr)
	// G = ⌈k/16⌉ groups, R6 = 16G − k. With R6 = 0 the main loops do all
	// G groups; otherwise (R1 = G−1) the last one is done apart, its A
	// load starting R6 bytes before the row pointer.
	a.p("\tADD $15, R0, R1")
	a.p("\tLSR $4, R1, R1")
	a.p("\tLSL $4, R1, R6")
	a.p("\tSUB R0, R6, R6")
	a.p("\tCBZ R6, full")
	a.p("\tSUB $1, R1, R1")
	a.p("full:")
	a.p("\tSUBS $4, R1, R1")
	a.p("\tBLT skip4")
	a.p("loop4:")
	for i := 0; i < mr; i++ {
		a.p("\tVLD1.P 64(%s), [V%d.B16, V%d.B16, V%d.B16, V%d.B16]", rowReg[i], 4*i, 4*i+1, 4*i+2, 4*i+3)
	}
	for u := 0; u < 4; u++ {
		c16Group(a, mr, u)
	}
	a.p("\tSUBS $4, R1, R1")
	a.p("\tBGE loop4")
	a.p("skip4:")
	a.p("\tADDS $4, R1, R1")
	a.p("\tBEQ last")
	a.p("loop1:")
	for i := 0; i < mr; i++ {
		a.p("\tVLD1.P 16(%s), [V%d.B16]", rowReg[i], 4*i)
	}
	c16Group(a, mr, 0)
	a.p("\tSUBS $1, R1, R1")
	a.p("\tBNE loop1")
	a.p("last:")
	a.p("\tCBZ R6, reduce")
	for i := 0; i < mr; i++ {
		a.p("\tSUB R6, %s, %s", rowReg[i], rowReg[i])
		a.p("\tVLD1 (%s), [V%d.B16]", rowReg[i], 4*i)
	}
	c16Group(a, mr, 0)
	a.p("reduce:")
	// Row i column j is the sum of the four lanes of V16+8i+j.
	for i := 0; i < mr; i++ {
		s := 16 + 8*i
		d := 16 + 2*i
		a.op3(0x4ea0bc00, "addp", "4s", "4s", "4s", d, s, s+1)
		a.op3(0x4ea0bc00, "addp", "4s", "4s", "4s", d+1, s+2, s+3)
		a.op3(0x4ea0bc00, "addp", "4s", "4s", "4s", d+2, s+4, s+5)
		a.op3(0x4ea0bc00, "addp", "4s", "4s", "4s", d+3, s+6, s+7)
		a.op3(0x4ea0bc00, "addp", "4s", "4s", "4s", d, d, d+1)
		a.op3(0x4ea0bc00, "addp", "4s", "4s", "4s", d+1, d+2, d+3)
	}
	a.p("\tMOVD (R5), R6")
	a.p("\tVLD1 (R6), [V0.S4, V1.S4]")
	for i := 0; i < mr; i++ {
		a.p("\tVADD V0.S4, V%d.S4, V%d.S4", 16+2*i, 16+2*i)
		a.p("\tVADD V1.S4, V%d.S4, V%d.S4", 17+2*i, 17+2*i)
	}
	q8Requant(a, mr)
}

// c16Group multiplies 16 k (A vector V4i+u of row i) by one weight group
// (8 columns × 16 k, two 64-byte loads), in batches of four products.
func c16Group(a *asm, mr, u int) {
	for h := 0; h < 2; h++ {
		a.p("\tVLD1.P 64(R3), [V8.B16, V9.B16, V10.B16, V11.B16]")
		type prod struct{ acc, av, bv int }
		var ps []prod
		for jj := 0; jj < 4; jj++ {
			for i := 0; i < mr; i++ {
				ps = append(ps, prod{16 + 8*i + 4*h + jj, 4*i + u, 8 + jj})
			}
		}
		for b := 0; b < len(ps); b += 4 {
			batch := ps[b:min(b+4, len(ps))]
			for t, p := range batch {
				a.op3(0x0e20c000, "smull", "8h", "8b", "8b", 12+t, p.av, p.bv)
			}
			for t, p := range batch {
				a.op3(0x4e208000, "smlal2", "8h", "16b", "16b", 12+t, p.av, p.bv)
			}
			for t, p := range batch {
				a.op2(0x4e606800, "sadalp", "4s", "8h", p.acc, 12+t)
			}
		}
	}
}
