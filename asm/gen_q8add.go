//go:build ignore

// gen_q8add writes the SIMD bodies of QAdd.Run (same-shape int8 ADD, the
// whole 16-element blocks of TFLite's optimized AddElementwise):
//
//	q8add_neon_arm64.s  qs8_vadd_requant_x16__neon
//	q8add_avx2_amd64.s  qs8_vadd_requant_x16__avx2
//	testdata/q8add_words.golden  the arm64 WORD encodings
//
// Run with: go generate ./asm/  (or: go run gen_q8add.go)
//
// It has its own copy of the few NEON encoders it needs (as gen_dwneon.go
// does); TestWordEncodings checks the WORDs against the golden list and
// llvm-mc, TestQ8AddGeneratedUpToDate the output against this program.
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
		"q8add_neon_arm64.s": neonFile(words),
		"q8add_avx2_amd64.s": avx2File(),
	}
	var g bytes.Buffer
	g.WriteString("# WORD encodings used by the generated arm64 QAdd kernel (gen_q8add.go).\n")
	g.WriteString("# Checked against llvm-mc -triple=aarch64 -mattr=+dotprod,+i8mm by TestWordEncodings.\n")
	var lines []string
	for mn, w := range words {
		lines = append(lines, fmt.Sprintf("%s\t%s", w, mn))
	}
	sort.Strings(lines)
	g.WriteString(strings.Join(lines, "\n") + "\n")
	out["testdata/q8add_words.golden"] = g.Bytes()
	return out
}

type asm struct {
	b     bytes.Buffer
	words map[string]string
}

func (a *asm) p(format string, args ...any) { fmt.Fprintf(&a.b, format+"\n", args...) }

const paramsDoc = `// q8AddParams (byte offsets, int32 unless noted): 0 nz1 (−Z1), 4 nz2
// (−Z2), 8 shl1 (20+S1), 12 shl2 (20+S2), both clamped to [−31, 32], 16 M1,
// 20 M2, 24 MOut, 28 SOut (in [−31, 0]), 32 ZOut, 36 Min, 40 Max, 44 mask
// (2^−SOut − 1), 48 half (mask >> 1), 56 round (int64 2^30), 64 lsh1, 80
// rsh1, 96 lsh2, 112 rsh2, 128 e (shift counts as 16-byte xmm operands:
// max(shl, 0), min(max(−shl, 0), 31), −SOut).`

// ---- arm64 ----

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

var sameArr = map[uint32]string{0: "16b", 1: "8h", 2: "4s"}

// same3 is a Q = 1 "three same" instruction: op Vd.T, Vn.T, Vm.T.
func (a *asm) same3(name string, u, size, opcode uint32, d, n, m int) {
	w := 0x4e200400 | u<<29 | size<<22 | reg(m)<<16 | opcode<<11 | reg(n)<<5 | reg(d)
	t := sameArr[size]
	a.word(w, fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s", name, d, t, n, t, m, t))
}

func (a *asm) add8h(d, n, m int)      { a.same3("add", 0, 1, 0b10000, d, n, m) }
func (a *asm) add4s(d, n, m int)      { a.same3("add", 0, 2, 0b10000, d, n, m) }
func (a *asm) and16b(d, n, m int)     { a.same3("and", 0, 0, 0b00011, d, n, m) }
func (a *asm) sqadd4s(d, n, m int)    { a.same3("sqadd", 0, 2, 0b00001, d, n, m) }
func (a *asm) sshl4s(d, n, m int)     { a.same3("sshl", 0, 2, 0b01000, d, n, m) }
func (a *asm) srshl4s(d, n, m int)    { a.same3("srshl", 0, 2, 0b01010, d, n, m) }
func (a *asm) smax16b(d, n, m int)    { a.same3("smax", 0, 0, 0b01100, d, n, m) }
func (a *asm) smin16b(d, n, m int)    { a.same3("smin", 0, 0, 0b01101, d, n, m) }
func (a *asm) sqrdmulh4s(d, n, m int) { a.same3("sqrdmulh", 1, 2, 0b10110, d, n, m) }

// saddw{2} Vd.8H, Vn.8H, Vm.{8B,16B}
func (a *asm) saddw8h(hi bool, d, n, m int) {
	q, suffix, mt := uint32(0), "", "8b"
	if hi {
		q, suffix, mt = 1, "2", "16b"
	}
	w := 0x0e201000 | q<<30 | reg(m)<<16 | reg(n)<<5 | reg(d)
	a.word(w, fmt.Sprintf("saddw%s v%d.8h, v%d.8h, v%d.%s", suffix, d, n, m, mt))
}

// sxtl{2} Vd.4S, Vn.{4H,8H} (SSHLL #0)
func (a *asm) sxtl4s(hi bool, d, n int) {
	q, suffix, nt := uint32(0), "", "4h"
	if hi {
		q, suffix, nt = 1, "2", "8h"
	}
	w := 0x0f10a400 | q<<30 | reg(n)<<5 | reg(d)
	a.word(w, fmt.Sprintf("sxtl%s v%d.4s, v%d.%s", suffix, d, n, nt))
}

// sshr Vd.4S, Vn.4S, #31
func (a *asm) sshr31(d, n int) {
	a.word(0x4f210400|reg(n)<<5|reg(d), fmt.Sprintf("sshr v%d.4s, v%d.4s, #31", d, n))
}

// xtn{2} Vd.{4H,8H}, Vn.4S
func (a *asm) xtn4s(hi bool, d, n int) {
	q, suffix, dt := uint32(0), "", "4h"
	if hi {
		q, suffix, dt = 1, "2", "8h"
	}
	a.word(0x0e612800|q<<30|reg(n)<<5|reg(d), fmt.Sprintf("xtn%s v%d.%s, v%d.4s", suffix, d, dt, n))
}

// sqxtn{2} Vd.{8B,16B}, Vn.8H
func (a *asm) sqxtn8h(hi bool, d, n int) {
	q, suffix, dt := uint32(0), "", "8b"
	if hi {
		q, suffix, dt = 1, "2", "16b"
	}
	a.word(0x0e214800|q<<30|reg(n)<<5|reg(d), fmt.Sprintf("sqxtn%s v%d.%s, v%d.8h", suffix, d, dt, n))
}

func neonFile(words map[string]string) []byte {
	a := &asm{words: words}
	a.p("// Code generated by gen_q8add.go. DO NOT EDIT.")
	a.p("")
	a.p("//go:build !purego")
	a.p("")
	a.p(`// qs8_vadd_requant_x16__neon: the whole 16-element blocks of QAdd.Run,
// TFLite's optimized AddElementwise NEON block step for step (ARMv8.0
// Advanced SIMD; written for Cortex-A53/A72: each step runs on four
// independent 4S lane groups back to back, which hides most latencies even
// in order).
//
// Go signature (q8add_neon_arm64.go):
//
//	func q8AddNeon16(x, y, out *int8, n int, p *q8AddParams)
//
// n is a positive multiple of 16.
//
` + paramsDoc + `
//
// Registers: R0 x, R1 y, R2 out, R3 elements left, R4 params.
// Constants: V16 −Z1 (8H), V17 −Z2 (8H), V18 shl1, V19 shl2, V20 M1, V21 M2,
// V22 MOut, V23 SOut (4S), V24 ZOut (8H), V25 Min, V26 Max (16B).
// Per block: V0/V1 x/y bytes, V2–V5 x−Z1, y−Z2 as int16, V6–V9 x lanes
// 0..15 and V10–V13 y lanes as int32, summed into V6–V9.
//
// Per int32 lane: v = SQRDMULH(SSHL(x − Z1, 20+S1), M1) (the same for y);
// s = SQRDMULH(v1 + v2, MOut); RoundingDivideByPOT as gemmlowp's NEON
// (SQADD the sign of s & SOut, SRSHL by SOut); XTN to int16 (wrapping), ADD
// ZOut in int16, SQXTN to int8, SMAX Min, SMIN Max.`)
	a.p("")
	a.p("#include \"textflag.h\"")
	a.p("")
	a.p("TEXT ·q8AddNeon16(SB), NOSPLIT, $0-40")
	a.p("\tMOVD x+0(FP), R0")
	a.p("\tMOVD y+8(FP), R1")
	a.p("\tMOVD out+16(FP), R2")
	a.p("\tMOVD n+24(FP), R3")
	a.p("\tMOVD p+32(FP), R4")
	for _, c := range []struct {
		off int
		v   int
		arr string
	}{{0, 16, "H8"}, {4, 17, "H8"}, {8, 18, "S4"}, {12, 19, "S4"}, {16, 20, "S4"}, {20, 21, "S4"},
		{24, 22, "S4"}, {28, 23, "S4"}, {32, 24, "H8"}, {36, 25, "B16"}, {40, 26, "B16"}} {
		a.p("\tMOVW %d(R4), R5", c.off)
		a.p("\tVDUP R5, V%d.%s", c.v, c.arr)
	}
	a.p("loop:")
	a.p("\tVLD1.P 16(R0), [V0.B16]")
	a.p("\tVLD1.P 16(R1), [V1.B16]")
	a.saddw8h(false, 2, 16, 0)
	a.saddw8h(true, 3, 16, 0)
	a.saddw8h(false, 4, 17, 1)
	a.saddw8h(true, 5, 17, 1)
	for i := 0; i < 4; i++ {
		a.sxtl4s(i%2 == 1, 6+i, 2+i/2)
	}
	for i := 0; i < 4; i++ {
		a.sxtl4s(i%2 == 1, 10+i, 4+i/2)
	}
	for i := 0; i < 4; i++ {
		a.sshl4s(6+i, 6+i, 18)
	}
	for i := 0; i < 4; i++ {
		a.sshl4s(10+i, 10+i, 19)
	}
	for i := 0; i < 4; i++ {
		a.sqrdmulh4s(6+i, 6+i, 20)
	}
	for i := 0; i < 4; i++ {
		a.sqrdmulh4s(10+i, 10+i, 21)
	}
	for i := 0; i < 4; i++ {
		a.add4s(6+i, 6+i, 10+i)
	}
	for i := 0; i < 4; i++ {
		a.sqrdmulh4s(6+i, 6+i, 22)
	}
	for i := 0; i < 4; i++ {
		a.and16b(10+i, 6+i, 23)
	}
	for i := 0; i < 4; i++ {
		a.sshr31(10+i, 10+i)
	}
	for i := 0; i < 4; i++ {
		a.sqadd4s(6+i, 6+i, 10+i)
	}
	for i := 0; i < 4; i++ {
		a.srshl4s(6+i, 6+i, 23)
	}
	a.xtn4s(false, 0, 6)
	a.xtn4s(false, 1, 8)
	a.xtn4s(true, 0, 7)
	a.xtn4s(true, 1, 9)
	a.add8h(0, 0, 24)
	a.add8h(1, 1, 24)
	a.sqxtn8h(false, 2, 0)
	a.sqxtn8h(true, 2, 1)
	a.smax16b(2, 2, 25)
	a.smin16b(2, 2, 26)
	a.p("\tVST1.P [V2.B16], 16(R2)")
	a.p("\tSUBS $16, R3, R3")
	a.p("\tBNE loop")
	a.p("\tRET")
	return a.b.Bytes()
}

// ---- amd64 ----

func avx2File() []byte {
	a := &asm{}
	a.p("// Code generated by gen_q8add.go. DO NOT EDIT.")
	a.p("")
	a.p("//go:build !purego")
	a.p("")
	a.p(`// qs8_vadd_requant_x16__avx2: the whole 16-element blocks of QAdd.Run with
// the arithmetic of TFLite's optimized AddElementwise NEON block (which
// TFLite's x86 build runs through NEON_2_SSE), bit for bit. AVX2; written
// for Haswell/Zen 2.
//
// Go signature (q8add_avx2_amd64.go):
//
//	func q8AddAvx2x16(x, y, out *int8, n int, p *q8AddParams)
//
// n is a positive multiple of 16; every multiplier is ≥ 0 (so
// SQRDMULH cannot saturate).
//
` + paramsDoc + `
//
// Registers: SI x, DX y, DI out, CX elements left, BX params.
// Constants: Y8 −Z1, Y9 −Z2, Y10 M1, Y11 M2, Y12 MOut (int32), Y13 2^30
// (int64), Y14 mask, Y15 half (int32), Y5 ZOut (int16), X6 Min, X7 Max
// (int8). Y0 holds lanes 0..7 of a block, Y1 lanes 8..15; Y1–Y4 scratch.
//
// Per int32 lane: v = SQRDMULH(x − Z1 << lsh1 >> rsh1, M1) (the same for
// y); s = SQRDMULH(v1 + v2, MOut); RoundingDivideByPOT(s, e); wrap to
// int16, add ZOut (wrapping), saturate to int8, clamp. SQRDMULH(a, m) is
// (a·m + 2^30) >> 31 from VPMULDQ on the even and the odd lanes, blended;
// RoundingDivideByPOT is gemmlowp's scalar form, (s >> e) + [s & mask >
// half − (s >> 31)].`)
	a.p("")
	a.p("#include \"textflag.h\"")
	a.p("")
	a.p("TEXT ·q8AddAvx2x16(SB), NOSPLIT, $0-40")
	a.p("\tMOVQ x+0(FP), SI")
	a.p("\tMOVQ y+8(FP), DX")
	a.p("\tMOVQ out+16(FP), DI")
	a.p("\tMOVQ n+24(FP), CX")
	a.p("\tMOVQ p+32(FP), BX")
	a.p("\tVPBROADCASTD 0(BX), Y8")
	a.p("\tVPBROADCASTD 4(BX), Y9")
	a.p("\tVPBROADCASTD 16(BX), Y10")
	a.p("\tVPBROADCASTD 20(BX), Y11")
	a.p("\tVPBROADCASTD 24(BX), Y12")
	a.p("\tVPBROADCASTQ 56(BX), Y13")
	a.p("\tVPBROADCASTD 44(BX), Y14")
	a.p("\tVPBROADCASTD 48(BX), Y15")
	a.p("\tVPBROADCASTW 32(BX), Y5")
	a.p("\tVPBROADCASTB 36(BX), X6")
	a.p("\tVPBROADCASTB 40(BX), X7")
	a.p("loop:")
	srdhm := func(x, m string) {
		a.p("\tVPMULDQ %s, %s, Y2", m, x)
		a.p("\tVPSRLQ $32, %s, Y3", x)
		a.p("\tVPMULDQ %s, Y3, Y3", m)
		a.p("\tVPADDQ Y13, Y2, Y2")
		a.p("\tVPADDQ Y13, Y3, Y3")
		a.p("\tVPSRLQ $31, Y2, Y2")
		a.p("\tVPSLLQ $1, Y3, Y3")
		a.p("\tVPBLENDD $0xAA, Y3, Y2, %s", x)
	}
	for g, dst := range []string{"Y0", "Y1"} {
		a.p("\t// lanes %d..%d", 8*g, 8*g+7)
		a.p("\tVPMOVSXBD %d(SI), %s", 8*g, dst)
		a.p("\tVPADDD Y8, %s, %s", dst, dst)
		a.p("\tVPSLLD 64(BX), %s, %s", dst, dst)
		a.p("\tVPSRAD 80(BX), %s, %s", dst, dst)
		srdhm(dst, "Y10")
		a.p("\tVPMOVSXBD %d(DX), Y4", 8*g)
		a.p("\tVPADDD Y9, Y4, Y4")
		a.p("\tVPSLLD 96(BX), Y4, Y4")
		a.p("\tVPSRAD 112(BX), Y4, Y4")
		srdhm("Y4", "Y11")
		a.p("\tVPADDD Y4, %s, %s", dst, dst)
		srdhm(dst, "Y12")
		a.p("\tVPSRAD 128(BX), %s, Y2", dst)
		a.p("\tVPAND Y14, %s, Y3", dst)
		a.p("\tVPSRAD $31, %s, Y4", dst)
		a.p("\tVPSUBD Y4, Y15, Y4")
		a.p("\tVPCMPGTD Y4, Y3, Y3")
		a.p("\tVPSUBD Y3, Y2, %s", dst)
		// Keep the low 16 bits, sign-extended, so VPACKSSDW wraps as XTN.
		a.p("\tVPSLLD $16, %s, %s", dst, dst)
		a.p("\tVPSRAD $16, %s, %s", dst, dst)
	}
	a.p("\tVPACKSSDW Y1, Y0, Y0")
	a.p("\tVPERMQ $0xD8, Y0, Y0")
	a.p("\tVPADDW Y5, Y0, Y0")
	a.p("\tVEXTRACTI128 $1, Y0, X1")
	a.p("\tVPACKSSWB X1, X0, X0")
	a.p("\tVPMAXSB X6, X0, X0")
	a.p("\tVPMINSB X7, X0, X0")
	a.p("\tVMOVDQU X0, (DI)")
	a.p("\tADDQ $16, SI")
	a.p("\tADDQ $16, DX")
	a.p("\tADDQ $16, DI")
	a.p("\tSUBQ $16, CX")
	a.p("\tJNE loop")
	a.p("\tVZEROUPPER")
	a.p("\tRET")
	return a.b.Bytes()
}
