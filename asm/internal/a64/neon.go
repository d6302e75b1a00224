package a64

import (
	"fmt"
	"log"
)

// Arrangement names by element size field (0 B, 1 H, 2 S, 3 D).
var (
	// full is the Q = 1 (128-bit) arrangement.
	full = [4]string{"16b", "8h", "4s", "2d"}
	// half is the Q = 0 (64-bit) arrangement.
	half = [4]string{"8b", "4h", "2s", "1d"}
)

// arr is the arrangement of elements of the given size in the low (hi =
// false, Q = 0) or full (hi = true, Q = 1) register.
func arr(hi bool, size uint32) string {
	if hi {
		return full[size]
	}
	return half[size]
}

func q(hi bool) uint32 {
	if hi {
		return 1
	}
	return 0
}

func suffix(hi bool) string {
	if hi {
		return "2"
	}
	return ""
}

// ---- three same ----

// sameT is a Q = 1 "three same" instruction with arrangement t written out.
func (a *Asm) sameT(name, t string, u, size, opcode uint32, d, n, m int) {
	w := 0x4e200400 | u<<29 | size<<22 | Reg(m)<<16 | opcode<<11 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s", name, d, t, n, t, m, t))
}

// Same3 emits a Q = 1 Advanced SIMD "three same" integer instruction,
// name Vd.T, Vn.T, Vm.T, with T the full-width arrangement of size (0
// 16B, 1 8H, 2 4S, 3 2D); u and opcode are the U and opcode fields.
func (a *Asm) Same3(name string, u, size, opcode uint32, d, n, m int) {
	a.sameT(name, full[size], u, size, opcode, d, n, m)
}

// Add8h emits add Vd.8H, Vn.8H, Vm.8H.
func (a *Asm) Add8h(d, n, m int) { a.Same3("add", 0, 1, 0b10000, d, n, m) }

// Add4s emits add Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Add4s(d, n, m int) { a.Same3("add", 0, 2, 0b10000, d, n, m) }

// Sub4s emits sub Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Sub4s(d, n, m int) { a.Same3("sub", 1, 2, 0b10000, d, n, m) }

// Addp4s emits addp Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Addp4s(d, n, m int) { a.Same3("addp", 0, 2, 0b10111, d, n, m) }

// And16b emits and Vd.16B, Vn.16B, Vm.16B.
func (a *Asm) And16b(d, n, m int) { a.sameT("and", "16b", 0, 0, 0b00011, d, n, m) }

// Orr16b emits orr Vd.16B, Vn.16B, Vm.16B.
func (a *Asm) Orr16b(d, n, m int) { a.sameT("orr", "16b", 0, 2, 0b00011, d, n, m) }

// Sqadd4s emits sqadd Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Sqadd4s(d, n, m int) { a.Same3("sqadd", 0, 2, 0b00001, d, n, m) }

// Sqadd8h emits sqadd Vd.8H, Vn.8H, Vm.8H.
func (a *Asm) Sqadd8h(d, n, m int) { a.Same3("sqadd", 0, 1, 0b00001, d, n, m) }

// Sshl4s emits sshl Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Sshl4s(d, n, m int) { a.Same3("sshl", 0, 2, 0b01000, d, n, m) }

// Srshl4s emits srshl Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Srshl4s(d, n, m int) { a.Same3("srshl", 0, 2, 0b01010, d, n, m) }

// Srshl2d emits srshl Vd.2D, Vn.2D, Vm.2D.
func (a *Asm) Srshl2d(d, n, m int) { a.Same3("srshl", 0, 3, 0b01010, d, n, m) }

// Smax16b emits smax Vd.16B, Vn.16B, Vm.16B.
func (a *Asm) Smax16b(d, n, m int) { a.Same3("smax", 0, 0, 0b01100, d, n, m) }

// Smin16b emits smin Vd.16B, Vn.16B, Vm.16B.
func (a *Asm) Smin16b(d, n, m int) { a.Same3("smin", 0, 0, 0b01101, d, n, m) }

// Smax4s emits smax Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Smax4s(d, n, m int) { a.Same3("smax", 0, 2, 0b01100, d, n, m) }

// Smin4s emits smin Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Smin4s(d, n, m int) { a.Same3("smin", 0, 2, 0b01101, d, n, m) }

// Sqrdmulh4s emits sqrdmulh Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Sqrdmulh4s(d, n, m int) { a.Same3("sqrdmulh", 1, 2, 0b10110, d, n, m) }

// Fadd4s emits fadd Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Fadd4s(d, n, m int) { a.sameT("fadd", "4s", 0, 0, 0b11010, d, n, m) }

// Fmax4s emits fmax Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Fmax4s(d, n, m int) { a.sameT("fmax", "4s", 0, 0, 0b11110, d, n, m) }

// Fmin4s emits fmin Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Fmin4s(d, n, m int) { a.sameT("fmin", "4s", 0, 2, 0b11110, d, n, m) }

// Fmul4s emits fmul Vd.4S, Vn.4S, Vm.4S.
func (a *Asm) Fmul4s(d, n, m int) { a.sameT("fmul", "4s", 1, 0, 0b11011, d, n, m) }

// Fmaxnm4s emits fmaxnm Vd.4S, Vn.4S, Vm.4S: the maximum, a NaN operand
// losing to a number.
func (a *Asm) Fmaxnm4s(d, n, m int) { a.sameT("fmaxnm", "4s", 0, 0, 0b11000, d, n, m) }

// Fcvtns4s emits fcvtns Vd.4S, Vn.4S: float32 to int32, rounding to
// nearest with ties to even, saturating (NaN gives 0).
func (a *Asm) Fcvtns4s(d, n int) {
	a.Word(0x4e21a800|Reg(n)<<5|Reg(d), fmt.Sprintf("fcvtns v%d.4s, v%d.4s", d, n))
}

// ---- three different ----

// Diff3 emits an Advanced SIMD "three different" instruction on the low
// (hi = false) or high (hi = true, the "2" form) halves of its narrow
// operands: name{2} Vd.Ta, Vn.Tb, Vm.Tb, or with wideN name{2} Vd.Ta,
// Vn.Ta, Vm.Tb (SADDW), where Tb has elements of size (0 B, 1 H, 2 S) and
// Ta twice that; opcode is the opcode field.
func (a *Asm) Diff3(name string, opcode, size uint32, hi, wideN bool, d, n, m int) {
	w := 0x0e200000 | q(hi)<<30 | size<<22 | Reg(m)<<16 | opcode<<12 | Reg(n)<<5 | Reg(d)
	wide, narrow := full[size+1], arr(hi, size)
	nt := narrow
	if wideN {
		nt = wide
	}
	a.Word(w, fmt.Sprintf("%s%s v%d.%s, v%d.%s, v%d.%s", name, suffix(hi), d, wide, n, nt, m, narrow))
}

// Smull emits smull{2} Vd.Ta, Vn.Tb, Vm.Tb (Tb of element size size).
func (a *Asm) Smull(hi bool, size uint32, d, n, m int) {
	a.Diff3("smull", 0b1100, size, hi, false, d, n, m)
}

// Smlal emits smlal{2} Vd.Ta, Vn.Tb, Vm.Tb (Tb of element size size).
func (a *Asm) Smlal(hi bool, size uint32, d, n, m int) {
	a.Diff3("smlal", 0b1000, size, hi, false, d, n, m)
}

// Saddw emits saddw{2} Vd.Ta, Vn.Ta, Vm.Tb (Tb of element size size).
func (a *Asm) Saddw(hi bool, size uint32, d, n, m int) {
	a.Diff3("saddw", 0b0001, size, hi, true, d, n, m)
}

// ---- two-register misc, shift by immediate ----

// narrow2 is a "two-register misc" narrowing instruction: name{2} Vd.Tb,
// Vn.Ta with Tb of element size size.
func (a *Asm) narrow2(name string, base uint32, hi bool, size uint32, d, n int) {
	w := base | q(hi)<<30 | size<<22 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("%s%s v%d.%s, v%d.%s", name, suffix(hi), d, arr(hi, size), n, full[size+1]))
}

// Xtn emits xtn{2} Vd.Tb, Vn.Ta: narrow (wrapping) to elements of size
// size (0 B, 1 H, 2 S) in the low or (hi) high half of Vd.
func (a *Asm) Xtn(hi bool, size uint32, d, n int) { a.narrow2("xtn", 0x0e212800, hi, size, d, n) }

// Sqxtn emits sqxtn{2} Vd.Tb, Vn.Ta: narrow with signed saturation to
// elements of size size (0 B, 1 H, 2 S) in the low or (hi) high half of Vd.
func (a *Asm) Sqxtn(hi bool, size uint32, d, n int) {
	a.narrow2("sqxtn", 0x0e214800, hi, size, d, n)
}

// Sadalp4s emits sadalp Vd.4S, Vn.8H (pairwise add and accumulate).
func (a *Asm) Sadalp4s(d, n int) {
	a.Word(0x4e606800|Reg(n)<<5|Reg(d), fmt.Sprintf("sadalp v%d.4s, v%d.8h", d, n))
}

// Sxtl emits sxtl{2} Vd.Ta, Vn.Tb (SSHLL #0): sign-extend the low or (hi)
// high half's elements of size size (0 B, 1 H, 2 S) to twice the width.
func (a *Asm) Sxtl(hi bool, size uint32, d, n int) {
	w := 0x0f00a400 | q(hi)<<30 | uint32(1)<<(19+size) | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("sxtl%s v%d.%s, v%d.%s", suffix(hi), d, full[size+1], n, arr(hi, size)))
}

// Sshr4s emits sshr Vd.4S, Vn.4S, #shift (1 ≤ shift ≤ 32).
func (a *Asm) Sshr4s(d, n, shift int) {
	if shift < 1 || shift > 32 {
		log.Fatalf("bad shift sshr #%d", shift)
	}
	w := 0x4f000400 | uint32(64-shift)<<16 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("sshr v%d.4s, v%d.4s, #%d", d, n, shift))
}

// Ssra4s emits ssra Vd.4S, Vn.4S, #shift (1 ≤ shift ≤ 32): Vd += Vn >> shift
// (arithmetic, wrapping add).
func (a *Asm) Ssra4s(d, n, shift int) {
	if shift < 1 || shift > 32 {
		log.Fatalf("bad shift ssra #%d", shift)
	}
	w := 0x4f001400 | uint32(64-shift)<<16 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("ssra v%d.4s, v%d.4s, #%d", d, n, shift))
}

// ---- by element, dup ----

// FmlaLane emits fmla Vd.4S, Vn.4S, Vm.S[i].
func (a *Asm) FmlaLane(d, n, m, i int) {
	w := 0x4f801000 | uint32(i&1)<<21 | Reg(m)<<16 | uint32(i>>1)<<11 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("fmla v%d.4s, v%d.4s, v%d.s[%d]", d, n, m, i))
}

// SmlalLane emits smlal{2} Vd.4S, Vn.{4H,8H}, Vm.H[i]; m must be below 16.
func (a *Asm) SmlalLane(hi bool, d, n, m, i int) {
	if m > 15 {
		log.Fatalf("smlal by element needs v0-v15, got v%d", m)
	}
	w := 0x0f402000 | q(hi)<<30 | uint32((i>>1)&1)<<21 | uint32(i&1)<<20 | Reg(m)<<16 | uint32(i>>2)<<11 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("smlal%s v%d.4s, v%d.%s, v%d.h[%d]", suffix(hi), d, n, arr(hi, 1), m, i))
}

// SdotLane emits sdot Vd.4S, Vn.16B, Vm.4B[i] (FEAT_DotProd).
func (a *Asm) SdotLane(d, n, m, i int) {
	w := 0x4f80e000 | uint32(i&1)<<21 | Reg(m)<<16 | uint32(i>>1)<<11 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.4b[%d]", d, n, m, i))
}

// DupS emits dup Vd.4S, Vn.S[i].
func (a *Asm) DupS(d, n, i int) {
	a.Word(0x4e040400|uint32(i)<<19|Reg(n)<<5|Reg(d), fmt.Sprintf("dup v%d.4s, v%d.s[%d]", d, n, i))
}

// Sdot16b emits sdot Vd.4S, Vn.16B, Vm.16B (FEAT_DotProd): each int32 lane
// of Vd adds the four products of the int8 lanes 4i..4i+3 of Vn and Vm.
func (a *Asm) Sdot16b(d, n, m int) {
	w := 0x4e809400 | Reg(m)<<16 | Reg(n)<<5 | Reg(d)
	a.Word(w, fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.16b", d, n, m))
}

// Tbl16b emits tbl Vd.16B, {Vn.16B, …, Vn+regs−1.16B}, Vm.16B (1 ≤ regs ≤
// 4; the table registers wrap from v31 to v0): byte i of Vd is byte Vm[i]
// of the table, or 0 when the index is past its end.
func (a *Asm) Tbl16b(d, n, regs, m int) {
	if regs < 1 || regs > 4 {
		log.Fatalf("tbl with %d table registers", regs)
	}
	w := 0x4e000000 | Reg(m)<<16 | uint32(regs-1)<<13 | Reg(n)<<5 | Reg(d)
	tab := ""
	for i := 0; i < regs; i++ {
		if i > 0 {
			tab += ", "
		}
		tab += fmt.Sprintf("v%d.16b", (n+i)%32)
	}
	a.Word(w, fmt.Sprintf("tbl v%d.16b, {%s}, v%d.16b", d, tab, m))
}
