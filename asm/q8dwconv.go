package asm

import "fmt"

// QDepthwiseConv2D is an NHWC int8 depthwise convolution of one image with
// TFLite's DEPTHWISE_CONV_2D arithmetic: Groups == C and output channel
// o = c·Mult + m reads input channel c = o/Mult.
//
// Input pixel (y, x) channel c is in[(y·InW+x)·C + c]; output pixel (oy, ox)
// channel o is out[(oy·OutW+ox)·OutStride + o] with OutStride ≥ C·Mult (the
// elements in between are never touched), and
//
//	acc := bias[o] + Σ_{kh<KH, kw<KW}
//	        (in[oy·StrideH - PadT + kh·DilH][ox·StrideW - PadL + kw·DilW][o/Mult] − InZero) ·
//	        (w[o][0][kh][kw] − wZero[o])
//	out[oy][ox][o] = Requant.Apply(acc, o)
//
// where positions outside the input contribute nothing (they read InZero,
// real 0); bottom and right padding are implied by OutH and OutW. Stride and
// dilation fields of 0 are read as 1. Requant needs C·Mult channels; TFLite
// 2.9 computes it with NewRequant (int8) or NewRequantLegacy (uint8). Its
// optimised kernel rounds with RoundDouble except for the aarch64 3×3 fast
// kernel, which uses RoundUpward.
type QDepthwiseConv2D struct {
	InH, InW, C, Mult, OutH, OutW                    int
	KH, KW, StrideH, StrideW, DilH, DilW, PadT, PadL int
	OutStride                                        int // ≥ C·Mult
	InZero                                           int32
	Requant                                          Requant

	// rqOK is the key of the Requant Pack validated (zero if it was not
	// valid then): Run, called once per row range, skips the per-channel
	// validation while Requant keeps those slices and scalars.
	rqOK requantKey
	// rqRight records that every shift of that Requant was negative (a
	// right shift only), which selects the NEON bodies' requantisation
	// variant without a per-Run scan of the shifts.
	rqRight bool
}

// Pack packs ONNX-layout weights [C·Mult][1][KH][KW] minus their zero points
// (wZero: nil, one value or C·Mult values) into the tap-major layout
// [KH·KW][C·Mult] that Run reads, and keeps the bias (nil or C·Mult values)
// plain and with InZero folded in. Call it once at prepare time, after
// setting InZero and Requant; Run then expects Requant's slices unchanged
// in place (assign new slices to change them). It panics if a slice is too
// short. On arm64, a filter with Mult 1 (3×3 with C ≥ 16, or any KH×KW
// with C ≥ 8) and weights − zero point in [−127, 127] also gets the NEON
// body's int8 weights and a row of InZero padding values (see
// q8DWPackArch).
func (d *QDepthwiseConv2D) Pack(w []int8, wZero []int32, bias []int32) *QPacked {
	cm, taps := d.C*d.Mult, d.KH*d.KW
	if d.C < 0 || d.Mult < 0 || d.KH < 0 || d.KW < 0 || len(w) < cm*taps {
		panic(fmt.Sprintf("asm: QDepthwiseConv2D.Pack: got %d weights, need %d", len(w), cm*taps))
	}
	checkQ8Zero("QDepthwiseConv2D", wZero, bias, cm)
	p := &QPacked{dw: make([]int32, taps*cm), bias: make([]int32, cm), k: taps}
	for o := 0; o < cm; o++ {
		zw := q8ZeroAt(wZero, o)
		for t := 0; t < taps; t++ {
			p.dw[t*cm+o] = int32(w[o*taps+t]) - zw
		}
	}
	if bias != nil {
		copy(p.bias, bias[:cm])
	}
	q8DWPackArch(d, p)
	p.dwFold = make([]int32, cm)
	for o := 0; o < cm; o++ {
		var sum int32
		for t := 0; t < taps; t++ {
			sum += p.dw[t*cm+o]
		}
		p.dwFold[o] = p.bias[o] - d.InZero*sum
	}
	d.rqOK = d.Requant.checkedKey(cm)
	d.rqRight = d.rqOK.mult != nil && allRightShifts(d.Requant.Shift[:cm])
	return p
}

// Run computes output rows [r0, r1) of every channel. p is from Pack. Run
// does not allocate and may run concurrently on disjoint row ranges.
func (d *QDepthwiseConv2D) Run(in []int8, p *QPacked, out []int8, r0, r1 int) {
	if r0 < 0 || r1 > d.OutH {
		panic(fmt.Sprintf("asm: QDepthwiseConv2D.Run rows [%d, %d) of %d", r0, r1, d.OutH))
	}
	cm := d.C * d.Mult
	if p == nil || len(p.dw) != d.KH*d.KW*cm || len(p.bias) < cm || len(p.dwFold) < cm {
		panic("asm: QDepthwiseConv2D.Run: packed weights are not from this QDepthwiseConv2D")
	}
	if d.OutStride < cm || d.InZero < -128 || d.InZero > 127 {
		panic(fmt.Sprintf("asm: QDepthwiseConv2D.Run: OutStride %d < %d or InZero %d outside int8", d.OutStride, cm, d.InZero))
	}
	d.Requant.checkKeyed("QDepthwiseConv2D", cm, d.rqOK)
	if q8DWConvArch(d, in, p, out, r0, r1) {
		return
	}
	q8DWConvGeneric(d, in, p, out, r0, r1)
}

// allRightShifts reports whether every shift is negative.
func allRightShifts(shift []int32) bool {
	for _, s := range shift {
		if s >= 0 {
			return false
		}
	}
	return true
}
