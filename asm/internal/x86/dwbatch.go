package x86

import "fmt"

// The int8 3×3 depthwise bodies (gen_avx2.go's avx2 one, gen_q8dw512.go's
// avx512vnni one) take one *q8DWAvxArgs (asm/q8dwconv_avx2_amd64.go):
// tab at 0, c0 at 8, ostep at 16, segs at 24, nseg at 32, zo, lo, hi at
// 40, 44, 48; each q8DWAvxSeg is 112 bytes: nine tap pointers at 0..64,
// the three row steps at 72..88, n at 96, out at 104. The emitters below
// are those layouts' only assembly-side description.

// DWTaps are the registers of a segment's nine tap pointers, tap 3·kh+kw.
var DWTaps = []string{"AX", "BX", "CX", "DX", "SI", "DI", "R8", "R9", "R10"}

// DWArgs loads the argument block into R14 and the table into R13, and
// saves c0, ostep and nseg in the locals c0-24(SP), ostep-8(SP) and
// nseg-16(SP) (a 24-byte frame). The caller then broadcasts zo, lo and hi
// (DWArgZo, DWArgLo, DWArgHi off R14) and calls DWSegments.
func DWArgs(p func(string, ...any)) {
	p("MOVQ a+0(FP), R14")
	p("MOVQ 0(R14), R13")
	p("MOVQ 8(R14), AX")
	p("MOVQ AX, c0-24(SP)")
	p("MOVQ 16(R14), AX")
	p("MOVQ AX, ostep-8(SP)")
	p("MOVQ 32(R14), AX")
	p("MOVQ AX, nseg-16(SP)")
}

// The argument block's zo, lo and hi operands (R14 from DWArgs).
const (
	DWArgZo = "40(R14)"
	DWArgLo = "44(R14)"
	DWArgHi = "48(R14)"
)

// DWSegments points R14 at the first segment.
func DWSegments(p func(string, ...any)) { p("MOVQ 24(R14), R14") }

// DWSegmentHead writes, at the top of the segment loop, the segment's
// tap pointers into DWTaps (offset by c0), its output pointer into R11
// (also offset by c0) and its pixel count into R12. The pixels advance
// each tap by DWTapStep(kh).
func DWSegmentHead(p func(string, ...any)) {
	p("MOVQ c0-24(SP), R12")
	for t, r := range DWTaps {
		p("MOVQ %d(R14), %s", 8*t, r)
		p("ADDQ R12, %s", r)
	}
	p("MOVQ 104(R14), R11")
	p("ADDQ R12, R11")
	p("MOVQ 96(R14), R12")
}

// DWTapStep is the operand of kernel row kh's byte step between
// consecutive pixels of the segment at R14.
func DWTapStep(kh int) string { return fmt.Sprintf("%d(R14)", 72+8*kh) }

// DWSegmentTail ends the segment loop: the next segment, until nseg runs
// out (the loop's label is seg).
func DWSegmentTail(p func(string, ...any)) {
	p("ADDQ $112, R14")
	p("DECQ nseg-16(SP)")
	p("JNZ seg")
}
