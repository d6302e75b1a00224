package a64

import "fmt"

// LdrQReg emits ldr Qt, [Xn, Xm]: a 128-bit load from Xn + Xm (register
// offset, no shift), which Go's assembler has no form for.
func (a *Asm) LdrQReg(t, n, m int) {
	w := 0x3ce06800 | Reg(m)<<16 | Reg(n)<<5 | Reg(t)
	a.Word(w, fmt.Sprintf("ldr q%d, [x%d, x%d]", t, n, m))
}

// LdrDReg emits ldr Dt, [Xn, Xm]: a 64-bit load into the low half of Vt
// from Xn + Xm (register offset, no shift).
func (a *Asm) LdrDReg(t, n, m int) {
	w := 0xfc606800 | Reg(m)<<16 | Reg(n)<<5 | Reg(t)
	a.Word(w, fmt.Sprintf("ldr d%d, [x%d, x%d]", t, n, m))
}
