//go:build ignore

// gen_dwneon writes the arm64 NEON depthwise convolution bodies:
//
//	dwconv_neon_arm64.s    f32_dwconv3x3_minmax_c8__neonfma
//	q8dwconv_neon_arm64.s  qs8_qc8w_dwconv3x3_requant_c16__neon_mul8 (four
//	                       requantisation variants)
//	testdata/dwneon_words.golden  the WORD encodings they use
//
// Run with: go generate ./asm/  (or: go run gen_dwneon.go)
//
// It is separate from gen_neon.go (the GEMM tiles) and has its own copy of
// the few encoders it needs, so the two generators can change
// independently; TestWordEncodings checks the WORDs of every .s file against
// the union of the golden lists and against llvm-mc.
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
	var names []string
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(*dir, name), files[name], 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func generate() map[string][]byte {
	words := map[string]string{}
	out := map[string][]byte{
		"dwconv_neon_arm64.s":   f32DWFile(words),
		"q8dwconv_neon_arm64.s": q8DWFile(words),
	}
	var g bytes.Buffer
	g.WriteString("# WORD encodings used by the generated arm64 depthwise kernels (gen_dwneon.go).\n")
	g.WriteString("# Checked against llvm-mc -triple=aarch64 -mattr=+dotprod,+i8mm by TestWordEncodings.\n")
	var lines []string
	for mn, w := range words {
		lines = append(lines, fmt.Sprintf("%s\t%s", w, mn))
	}
	sort.Strings(lines)
	g.WriteString(strings.Join(lines, "\n") + "\n")
	out["testdata/dwneon_words.golden"] = g.Bytes()
	return out
}

// ---- encoders (Arm ARM, Advanced SIMD "three same", "three different",
// "shift by immediate", "two-register misc") ----

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

// arrangement names by size field for the full-width (Q = 1) "three same"
// forms.
var sameArr = map[uint32]string{0: "16b", 1: "8h", 2: "4s"}

// same3 is a Q = 1 "three same" instruction: op Vd.T, Vn.T, Vm.T.
func (a *asm) same3(name string, u, size, opcode uint32, d, n, m int) {
	w := 0x4e200400 | u<<29 | size<<22 | reg(m)<<16 | opcode<<11 | reg(n)<<5 | reg(d)
	t := sameArr[size]
	a.word(w, fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s", name, d, t, n, t, m, t))
}

func (a *asm) sqadd4s(d, n, m int)    { a.same3("sqadd", 0, 2, 0b00001, d, n, m) }
func (a *asm) sshl4s(d, n, m int)     { a.same3("sshl", 0, 2, 0b01000, d, n, m) }
func (a *asm) srshl4s(d, n, m int)    { a.same3("srshl", 0, 2, 0b01010, d, n, m) }
func (a *asm) smax16b(d, n, m int)    { a.same3("smax", 0, 0, 0b01100, d, n, m) }
func (a *asm) smin16b(d, n, m int)    { a.same3("smin", 0, 0, 0b01101, d, n, m) }
func (a *asm) smax4s(d, n, m int)     { a.same3("smax", 0, 2, 0b01100, d, n, m) }
func (a *asm) smin4s(d, n, m int)     { a.same3("smin", 0, 2, 0b01101, d, n, m) }
func (a *asm) sqrdmulh4s(d, n, m int) { a.same3("sqrdmulh", 1, 2, 0b10110, d, n, m) }

// fmax / fmin Vd.4S, Vn.4S, Vm.4S
func (a *asm) fmax(d, n, m int) {
	a.word(0x4e20f400|reg(m)<<16|reg(n)<<5|reg(d), fmt.Sprintf("fmax v%d.4s, v%d.4s, v%d.4s", d, n, m))
}

func (a *asm) fmin(d, n, m int) {
	a.word(0x4ea0f400|reg(m)<<16|reg(n)<<5|reg(d), fmt.Sprintf("fmin v%d.4s, v%d.4s, v%d.4s", d, n, m))
}

// diff3 is a "three different" instruction on the low (hi = false) or high
// (hi = true, the "2" form) halves: op{2} Vd.Ta, Vn.Tb, Vm.Tb, or with
// wideN op{2} Vd.Ta, Vn.Ta, Vm.Tb (SADDW).
func (a *asm) diff3(name string, opcode, size uint32, hi, wideN bool, d, n, m int) {
	q, suffix := uint32(0), ""
	wide, narrow := map[uint32][2]string{0: {"8h", "8b"}, 1: {"4s", "4h"}}[size], ""
	narrow = wide[1]
	if hi {
		q, suffix = 1, "2"
		narrow = map[uint32]string{0: "16b", 1: "8h"}[size]
	}
	w := 0x0e200000 | q<<30 | size<<22 | reg(m)<<16 | opcode<<12 | reg(n)<<5 | reg(d)
	nt := narrow
	if wideN {
		nt = wide[0]
	}
	a.word(w, fmt.Sprintf("%s%s v%d.%s, v%d.%s, v%d.%s", name, suffix, d, wide[0], n, nt, m, narrow))
}

// smull{2} Vd.8H, Vn.{8B,16B}, Vm.{8B,16B}
func (a *asm) smull(hi bool, d, n, m int) { a.diff3("smull", 0b1100, 0, hi, false, d, n, m) }

// smlal{2} Vd.8H, Vn.{8B,16B}, Vm.{8B,16B}
func (a *asm) smlal(hi bool, d, n, m int) { a.diff3("smlal", 0b1000, 0, hi, false, d, n, m) }

// saddw{2} Vd.4S, Vn.4S, Vm.{4H,8H}
func (a *asm) saddw(hi bool, d, n, m int) { a.diff3("saddw", 0b0001, 1, hi, true, d, n, m) }

// sshr Vd.4S, Vn.4S, #31
func (a *asm) sshr31(d, n int) {
	a.word(0x4f210400|reg(n)<<5|reg(d), fmt.Sprintf("sshr v%d.4s, v%d.4s, #31", d, n))
}

// sqxtn{2}: 4S → 4H/8H (wide = true) or 8H → 8B/16B.
func (a *asm) sqxtn(hi, fromS bool, d, n int) {
	q, size, suffix := uint32(0), uint32(0), ""
	dt, nt := "8b", "8h"
	if fromS {
		size, dt, nt = 1, "4h", "4s"
	}
	if hi {
		q, suffix = 1, "2"
		dt = map[bool]string{false: "16b", true: "8h"}[fromS]
	}
	w := 0x0e214800 | q<<30 | size<<22 | reg(n)<<5 | reg(d)
	a.word(w, fmt.Sprintf("sqxtn%s v%d.%s, v%d.%s", suffix, d, dt, n, nt))
}

// ---- shared register map ----

// Tap input pointers (tap t = kernel row t/3, column t%3) and the per
// kernel row pixel steps; R16–R18 and R26–R30 are reserved.
var (
	tapReg  = []string{"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15", "R19"}
	stepReg = []string{"R20", "R21", "R22"}
)

const argsDoc = `// Go signature (%[1]s):
//
//	func %[2]s(a *dwNeonArgs)
//
// dwNeonArgs (byte offsets): 0 w (weights of tap 0 at the block's first
// channel; taps are wstride bytes apart), 8 wstride, 16 bias, 24 mult,
// 32 shift, 40 c0 (block offset in bytes, added to every segment pointer),
// 48 ostep (bytes between output pixels), 56 segs, 64 nseg, 72 zo, 76 lo,
// 80 hi (int32), 84 flo, 88 fhi (float32).
//
// Each dwNeonSeg (112 bytes) is a run of n output pixels along one output
// row: 0 x[9] (input of tap t = 3·kh + kw for the run's first pixel, at
// channel 0; a padding tap points at a row of padding values), 72 step[3]
// (bytes from one pixel's input to the next, per kernel row; 0 for a
// padding row), 96 n, 104 out (first output pixel, channel 0).
//
// Registers: R0 args, R3 bias, R4 c0, R5 segment, R6 segments left,
// R7 ostep, R8–R15 R19 tap pointers 0..8, R20–R22 steps of kernel rows
// 0..2, R23 pixels left, R24 output.`

func segmentLoop(a *asm, pixel func()) {
	a.p("\tMOVD 40(R0), R4")
	a.p("\tMOVD 48(R0), R7")
	a.p("\tMOVD 56(R0), R5")
	a.p("\tMOVD 64(R0), R6")
	a.p("seg:")
	a.p("\tCBZ R6, done")
	for i := 0; i+1 < len(tapReg); i += 2 {
		a.p("\tLDP %d(R5), (%s, %s)", 8*i, tapReg[i], tapReg[i+1])
	}
	a.p("\tMOVD 64(R5), %s", tapReg[8])
	for _, r := range tapReg {
		a.p("\tADD R4, %s, %s", r, r)
	}
	a.p("\tLDP 72(R5), (R20, R21)")
	a.p("\tLDP 88(R5), (R22, R23)")
	a.p("\tMOVD 104(R5), R24")
	a.p("\tADD R4, R24, R24")
	a.p("\tADD $112, R5, R5")
	a.p("\tSUB $1, R6, R6")
	a.p("\tCBZ R23, seg")
	a.p("pix:")
	pixel()
	a.p("\tSUBS $1, R23, R23")
	a.p("\tBNE pix")
	a.p("\tB seg")
	a.p("done:")
	a.p("\tRET")
}

// ---- float32 ----

func f32DWFile(words map[string]string) []byte {
	a := &asm{words: words}
	a.p("// Code generated by gen_dwneon.go; DO NOT EDIT.")
	a.p("")
	a.p("//go:build !purego")
	a.p("")
	a.p(`// f32_dwconv3x3_minmax_c8__neonfma: the float32 3×3 depthwise
// convolution (Mult 1) behind DepthwiseConv2D.RunF32 on arm64, one block of
// 8 channels over a list of output pixel runs:
//
//	out[c] = min(max(bias[c] + Σ_{t<9} x_t[c]·w[t][c], flo), fhi)
//
// accumulated tap by tap (t = 0..8) with fused multiply-adds.
//`)
	a.p(argsDoc, "dwconv_neon_arm64.go", "f32DWConv3x3Neon8")
	a.p(`//
// V0–V17 weights (tap t in V2t, V2t+1: channels 0..3, 4..7), V18 V19 the
// accumulators, V20–V23 inputs, V24 V25 the clamp.
//
// ISA: ARMv8.0-A Advanced SIMD. Tuned for Cortex-A72/A76: the weights stay
// in registers for the whole call, so a pixel is 9 input loads, 18 FMLA,
// one bias load, the clamp and one store (72 MACs in 35 instructions).

#include "textflag.h"`)
	a.p("")
	a.p("// func f32DWConv3x3Neon8(a *dwNeonArgs)")
	a.p("TEXT ·f32DWConv3x3Neon8(SB), NOSPLIT, $0-8")
	a.p("\tMOVD a+0(FP), R0")
	a.p("\tMOVD 0(R0), R1")
	a.p("\tMOVD 8(R0), R2")
	for t := 0; t < 9; t++ {
		a.p("\tVLD1.P (R1)(R2), [V%d.S4, V%d.S4]", 2*t, 2*t+1)
	}
	a.p("\tMOVD 16(R0), R3")
	a.p("\tMOVW 84(R0), R1")
	a.p("\tVDUP R1, V24.S4")
	a.p("\tMOVW 88(R0), R1")
	a.p("\tVDUP R1, V25.S4")
	segmentLoop(a, func() {
		a.p("\tVLD1 (R3), [V18.S4, V19.S4]")
		for t := 0; t < 9; t++ {
			x := 20 + 2*(t%2)
			a.p("\tVLD1.P (%s)(%s), [V%d.S4, V%d.S4]", tapReg[t], stepReg[t/3], x, x+1)
			a.p("\tVFMLA V%d.S4, V%d.S4, V18.S4", 2*t, x)
			a.p("\tVFMLA V%d.S4, V%d.S4, V19.S4", 2*t+1, x+1)
		}
		a.fmax(18, 18, 24)
		a.fmax(19, 19, 24)
		a.fmin(18, 18, 25)
		a.fmin(19, 19, 25)
		a.p("\tVST1.P [V18.S4, V19.S4], (R24)(R7)")
	})
	return a.b.Bytes()
}

// ---- int8 ----

// q8Variant is one requantisation flavour of the int8 kernel.
type q8Variant struct {
	name string
	// left: some channel has a positive shift (SSHL by max(s, 0) first).
	left bool
	// fix is RoundDouble's fix-up before the rounding shift: "and" (only
	// channels with a right shift, TFLite's vand of x with the negative
	// shift vector), "sign" (every channel has a right shift) or "" for
	// RoundUpward.
	fix string
}

var q8Variants = []q8Variant{
	{"q8DWConv3x3Neon16Double", true, "and"},
	{"q8DWConv3x3Neon16Upward", true, ""},
	{"q8DWConv3x3Neon16DoubleRight", false, "sign"},
	{"q8DWConv3x3Neon16UpwardRight", false, ""},
}

func q8DWFile(words map[string]string) []byte {
	a := &asm{words: words}
	a.p("// Code generated by gen_dwneon.go; DO NOT EDIT.")
	a.p("")
	a.p("//go:build !purego")
	a.p("")
	a.p(`// qs8_qc8w_dwconv3x3_requant_c16__neon_mul8: the int8 3×3 depthwise
// convolution (Mult 1) behind QDepthwiseConv2D.Run on arm64, one block of
// 16 channels over a list of output pixel runs, with the requantisation
// fused:
//
//	acc[c] = bias[c] + Σ_{t<9} x_t[c]·w[t][c]          (int32, wrapping)
//	v      = sqrdmulh(acc[c] << l[c], mult[c])             l = max(shift, 0)
//	v      = srshl(sqadd(v, fixup), −r[c])                 r = max(−shift, 0)
//	out[c] = clamp(sat8(sat16(v + zo)), lo, hi)
//
// bias is QPacked.dwFold (InZero folded in), and padding taps read InZero,
// so raw int8 inputs need no zero-point subtraction. Weights are int8 in
// [−127, 127] (checked at pack time): two taps' products sum in int16
// without overflow (SMULL + SMLAL), then widen into the int32 accumulators
// (SADDW); this is exact, so the sums are the generic body's bits.
//
// The fix-up makes SRSHL (ties toward +∞) into gemmlowp's
// RoundingDivideByPOT (ties away from zero): TFLite's
// vqaddq(x, vshrq_n(vandq(x, −r), 31)), i.e. −1 for a negative x in a
// channel with r > 0. Variants:
//
//	q8DWConv3x3Neon16Double       RoundDouble, any shifts
//	q8DWConv3x3Neon16Upward       RoundUpward, any shifts
//	q8DWConv3x3Neon16DoubleRight  RoundDouble, every shift < 0 (no SSHL;
//	                              fix-up is the sign of x)
//	q8DWConv3x3Neon16UpwardRight  RoundUpward, every shift < 0
//
// The int32 v + zo wraps like the generic body; saturating to int16 and
// int8 before the clamp to [lo, hi] ⊂ [−128, 127] is exact.
//`)
	a.p(argsDoc, "q8dwconv_neon_arm64.go", "q8DWConv3x3Neon16<Variant>")
	a.p(`//
// V0–V8 weights (int8 ×16 per tap), V9–V12 accumulators (channels 0..3,
// 4..7, 8..11, 12..15), V13 V14 int16 products of a tap pair (then
// requantisation temporaries with V15 V16, the inputs), V17 zo (int32),
// V18 lo, V19 hi (int8), V20–V23 mult, V24–V27 l, V28–V31 −r.
//
// ISA: ARMv8.0-A Advanced SIMD. Tuned for Cortex-A53/A72/A76: weights and
// requantisation constants stay in registers for the whole call; a pixel of
// 16 channels (144 MACs) is 9 input loads and 38 multiply/widen
// instructions (3.06 MACs/instruction), one bias load, 24–16
// requantisation, 11 narrowing/clamp/store and 2 loop instructions.

#include "textflag.h"`)
	for _, v := range q8Variants {
		q8DWKernel(a, v)
	}
	return a.b.Bytes()
}

func q8DWKernel(a *asm, v q8Variant) {
	a.p("")
	a.p("// func %s(a *dwNeonArgs)", v.name)
	a.p("TEXT ·%s(SB), NOSPLIT, $0-8", v.name)
	a.p("\tMOVD a+0(FP), R0")
	a.p("\tMOVD 0(R0), R1")
	a.p("\tMOVD 8(R0), R2")
	for t := 0; t < 9; t++ {
		a.p("\tVLD1.P (R1)(R2), [V%d.B16]", t)
	}
	a.p("\tMOVD 16(R0), R3")
	a.p("\tMOVD 24(R0), R1")
	a.p("\tVLD1 (R1), [V20.S4, V21.S4, V22.S4, V23.S4]")
	a.p("\tMOVD 32(R0), R1")
	if v.left {
		a.p("\tVLD1 (R1), [V24.S4, V25.S4, V26.S4, V27.S4]")
		a.p("\tVEOR V13.B16, V13.B16, V13.B16")
		for i := 0; i < 4; i++ {
			a.smin4s(28+i, 24+i, 13)
		}
		for i := 0; i < 4; i++ {
			a.smax4s(24+i, 24+i, 13)
		}
	} else {
		a.p("\tVLD1 (R1), [V28.S4, V29.S4, V30.S4, V31.S4]")
	}
	a.p("\tMOVW 72(R0), R1")
	a.p("\tVDUP R1, V17.S4")
	a.p("\tMOVW 76(R0), R1")
	a.p("\tVDUP R1, V18.B16")
	a.p("\tMOVW 80(R0), R1")
	a.p("\tVDUP R1, V19.B16")
	segmentLoop(a, func() {
		a.p("\tVLD1 (R3), [V9.S4, V10.S4, V11.S4, V12.S4]")
		widen := func() {
			a.saddw(false, 9, 9, 13)
			a.saddw(true, 10, 10, 13)
			a.saddw(false, 11, 11, 14)
			a.saddw(true, 12, 12, 14)
		}
		for t := 0; t < 8; t += 2 {
			a.p("\tVLD1.P (%s)(%s), [V15.B16]", tapReg[t], stepReg[t/3])
			a.p("\tVLD1.P (%s)(%s), [V16.B16]", tapReg[t+1], stepReg[(t+1)/3])
			a.smull(false, 13, 15, t)
			a.smull(true, 14, 15, t)
			a.smlal(false, 13, 16, t+1)
			a.smlal(true, 14, 16, t+1)
			widen()
		}
		a.p("\tVLD1.P (%s)(%s), [V15.B16]", tapReg[8], stepReg[2])
		a.smull(false, 13, 15, 8)
		a.smull(true, 14, 15, 8)
		widen()
		// Requantise the four accumulator vectors, step by step.
		if v.left {
			for i := 0; i < 4; i++ {
				a.sshl4s(9+i, 9+i, 24+i)
			}
		}
		for i := 0; i < 4; i++ {
			a.sqrdmulh4s(9+i, 9+i, 20+i)
		}
		switch v.fix {
		case "and":
			for i := 0; i < 4; i++ {
				a.p("\tVAND V%d.B16, V%d.B16, V%d.B16", 28+i, 9+i, 13+i)
			}
			fallthrough
		case "sign":
			for i := 0; i < 4; i++ {
				src := 9 + i
				if v.fix == "and" {
					src = 13 + i
				}
				a.sshr31(13+i, src)
			}
			for i := 0; i < 4; i++ {
				a.sqadd4s(9+i, 9+i, 13+i)
			}
		}
		for i := 0; i < 4; i++ {
			a.srshl4s(9+i, 9+i, 28+i)
		}
		for i := 0; i < 4; i++ {
			a.p("\tVADD V17.S4, V%d.S4, V%d.S4", 9+i, 9+i)
		}
		a.sqxtn(false, true, 13, 9)
		a.sqxtn(true, true, 13, 10)
		a.sqxtn(false, true, 14, 11)
		a.sqxtn(true, true, 14, 12)
		a.sqxtn(false, false, 13, 13)
		a.sqxtn(true, false, 13, 14)
		a.smax16b(13, 13, 18)
		a.smin16b(13, 13, 19)
		a.p("\tVST1.P [V13.B16], (R24)(R7)")
	})
}
