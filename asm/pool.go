package asm

import "fmt"

// Pool2D is NHWC float32 max or average pooling of one image.
//
// Input pixel (y, x) channel c is in[(y·InW+x)·C + c]; output pixel
// (oy, ox) channel c is out[(oy·OutW+ox)·OutStride + c] with OutStride ≥ C
// (the elements in between are never touched). The window of output
// (oy, ox) visits input rows oy·StrideH - PadT + kh·DilH for kh < KH and
// columns ox·StrideW - PadL + kw·DilW for kw < KW. OutH and OutW may come
// from ceil_mode, so the last windows can reach past the bottom and right
// padding.
//
// Positions outside the input are skipped by MaxF32. AvgF32 divides the sum
// of the valid positions by their count, or, with CountIncludePad, by the
// number of positions inside the explicitly padded extent
// [-PadT, InH+PadB) × [-PadL, InW+PadR): positions that ceil_mode adds beyond
// it are never counted, matching ONNX and PyTorch. A window with no position
// to average yields 0; a max window with no valid position yields -Inf.
// Stride and dilation fields of 0 are read as 1.
type Pool2D struct {
	InH, InW, C, OutH, OutW                                      int
	KH, KW, StrideH, StrideW, DilH, DilW, PadT, PadL, PadB, PadR int
	CountIncludePad                                              bool
	OutStride                                                    int
}

// MaxF32 computes output rows [r0, r1) of max pooling. It does not allocate
// and may run concurrently on disjoint row ranges.
func (p *Pool2D) MaxF32(in, out []float32, r0, r1 int) {
	p.checkRows(r0, r1)
	if maxPoolF32Arch(p, in, out, r0, r1) {
		return
	}
	maxPoolF32Generic(p, in, out, r0, r1)
}

// AvgF32 computes output rows [r0, r1) of average pooling. It does not
// allocate and may run concurrently on disjoint row ranges.
func (p *Pool2D) AvgF32(in, out []float32, r0, r1 int) {
	p.checkRows(r0, r1)
	avgPoolF32Generic(p, in, out, r0, r1)
}

func (p *Pool2D) checkRows(r0, r1 int) {
	if r0 < 0 || r1 > p.OutH {
		panic(fmt.Sprintf("asm: Pool2D rows [%d, %d) of %d", r0, r1, p.OutH))
	}
}

// GlobalAvgPoolF32 averages an NHWC image over its pixels: in holds hw
// pixels of c channels, and for channels [c0, c1)
//
//	out[ch] = (1/hw) · Σ_{p<hw} in[p·c + ch]
//
// out has c elements; only [c0, c1) are written (0 when hw is 0). It does
// not allocate and may run concurrently on disjoint channel ranges.
func GlobalAvgPoolF32(in []float32, hw, c int, out []float32, c0, c1 int) {
	gavgPoolF32Generic(in, hw, c, out, c0, c1)
}

// GlobalMaxPoolF32 is the channel-wise maximum over an NHWC image: in holds
// hw pixels of c channels, and for channels [c0, c1)
//
//	out[ch] = max_{p<hw} in[p·c + ch]
//
// out has c elements; only [c0, c1) are written (-Inf when hw is 0). It does
// not allocate and may run concurrently on disjoint channel ranges.
func GlobalMaxPoolF32(in []float32, hw, c int, out []float32, c0, c1 int) {
	gmaxPoolF32Generic(in, hw, c, out, c0, c1)
}
