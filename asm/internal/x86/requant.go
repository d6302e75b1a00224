// Package x86 holds code emitters shared by the amd64 kernel
// generators (asm/gen_avx2.go, asm/gen_wino8.go, asm/gen_avx512.go,
// asm/gen_q8dw512.go), which are separate go run programs.
package x86

import "fmt"

// Requant names the registers and parameter operands of one fused
// requantisation (the q8 header's formulas) of the int32 lanes of one
// vector register: V is "X" or "Y"; Acc holds the accumulators and receives
// the clamped results as int32; T1, T2 are scratch; Zo, Lo, Hi hold the
// broadcast output zero point and clamp, Round the 64-bit constant 2^30 and
// One (Upward only) the 32-bit constant 1; Prm(row, off) is the memory
// operand of parameter row row (0 bias, 1 multiplier, 2 left shift, 3 right
// shift, 4 r − 1 or mask, 5 half mask) at byte offset off.
type Requant struct {
	V                                   string
	Acc, T1, T2, Zo, Lo, Hi, Round, One int
	Prm                                 func(row, off int) string
}

// Emit writes the requantisation through p; bias adds Prm row 0 first.
func (rq Requant) Emit(p func(string, ...any), mode string, bias bool) {
	r := func(n int) string { return fmt.Sprintf("%s%d", rq.V, n) }
	acc, t1, t2 := r(rq.Acc), r(rq.T1), r(rq.T2)
	if bias {
		p("VPADDD %s, %s, %s", rq.Prm(0, 0), acc, acc)
	}
	blend := 0xa
	if rq.V == "Y" {
		blend = 0xaa
	}
	p("VPSLLVD %s, %s, %s", rq.Prm(2, 0), acc, acc)
	p("VPSRLQ $32, %s, %s", acc, t2)
	p("VPMULDQ %s, %s, %s", rq.Prm(1, 0), acc, t1)
	p("VPMULDQ %s, %s, %s", rq.Prm(1, 4), t2, t2)
	p("VPADDQ %s, %s, %s", r(rq.Round), t1, t1)
	p("VPADDQ %s, %s, %s", r(rq.Round), t2, t2)
	p("VPSRLQ $31, %s, %s", t1, t1)
	p("VPSLLQ $1, %s, %s", t2, t2)
	p("VPBLENDD $%d, %s, %s, %s", blend, t2, t1, acc)
	if mode == "Upward" {
		p("VPSRLVD %s, %s, %s", rq.Prm(4, 0), acc, t1)
		p("VPAND %s, %s, %s", r(rq.One), t1, t1)
		p("VPSRAVD %s, %s, %s", rq.Prm(3, 0), acc, acc)
		p("VPADDD %s, %s, %s", t1, acc, acc)
	} else {
		p("VPAND %s, %s, %s", rq.Prm(4, 0), acc, t1)
		p("VPSRAD $31, %s, %s", acc, t2)
		p("VPADDD %s, %s, %s", t2, t1, t1)
		p("VPCMPGTD %s, %s, %s", rq.Prm(5, 0), t1, t1)
		p("VPSRAVD %s, %s, %s", rq.Prm(3, 0), acc, acc)
		p("VPSUBD %s, %s, %s", t1, acc, acc)
	}
	p("VPADDD %s, %s, %s", r(rq.Zo), acc, acc)
	p("VPMAXSD %s, %s, %s", r(rq.Lo), acc, acc)
	p("VPMINSD %s, %s, %s", r(rq.Hi), acc, acc)
}

// Upward1 names the registers and parameter operands of the single-rounding
// RoundUpward requantisation for a zero left shift and a right shift r in
// [1, 31] (exactness proof in the q8 header): per column the 64-bit sum
// Q = x·m + C (C = 2^62 + 2^30 + 2^(30+r), plus the bias times m when the
// caller folds it in) shifted right logically by 31 + r, whose low dword is
// v + 2^(31−r), and the per-column zo − 2^(31−r) added. V is "X", "Y" or "Z";
// Acc holds the accumulators x and receives zo + v (wrapping int32, not
// clamped); T1, T2 are scratch. Prm(row, off) is the memory operand of
// parameter row row at byte offset off: 0 multiplier (dwords; the odd
// lanes read it at off + 4), 1 and 2 the 64-bit C of the even and odd
// columns, 3 and 4 the 64-bit shift counts 31 + r (even columns) and r − 1
// (odd columns: their result lands in the high dword), 5 zo − 2^(31−r).
//
// V "Z" (AVX-512 has no VPBLENDD) merges the odd dwords under the opmask
// register Odd, which must hold 0xaaaa.
type Upward1 struct {
	V           string
	Acc, T1, T2 int
	Odd         string
	Prm         func(row, off int) string
}

// Emit writes the requantisation through p: 9 vector instructions.
func (u Upward1) Emit(p func(string, ...any)) {
	r := func(n int) string { return fmt.Sprintf("%s%d", u.V, n) }
	acc, t1, t2 := r(u.Acc), r(u.T1), r(u.T2)
	blend := 0xa
	if u.V == "Y" {
		blend = 0xaa
	}
	p("VPSRLQ $32, %s, %s", acc, t2)
	p("VPMULDQ %s, %s, %s", u.Prm(0, 0), acc, t1)
	p("VPMULDQ %s, %s, %s", u.Prm(0, 4), t2, t2)
	p("VPADDQ %s, %s, %s", u.Prm(1, 0), t1, t1)
	p("VPADDQ %s, %s, %s", u.Prm(2, 0), t2, t2)
	p("VPSRLVQ %s, %s, %s", u.Prm(3, 0), t1, t1)
	p("VPSRLVQ %s, %s, %s", u.Prm(4, 0), t2, t2)
	if u.V == "Z" {
		p("VMOVDQA32 %s, %s, %s", t2, u.Odd, t1)
		p("VPADDD %s, %s, %s", u.Prm(5, 0), t1, acc)
		return
	}
	p("VPBLENDD $%d, %s, %s, %s", blend, t2, t1, acc)
	p("VPADDD %s, %s, %s", u.Prm(5, 0), acc, acc)
}
