package asm

//go:generate go run gen_dwneon.go
//go:generate go run gen_dwkxk.go

import "fmt"

// DepthwiseConv2D is an NHWC float32 depthwise convolution of one image:
// Groups == C and output channel o = c·Mult + m reads input channel c = o/Mult.
//
// Input pixel (y, x) channel c is in[(y·InW+x)·C + c]; output pixel (oy, ox)
// channel o is out[(oy·OutW+ox)·OutStride + o] with OutStride ≥ C·Mult (the
// elements in between are never touched), and
//
//	out[oy][ox][o] = Clamp(bias[o] + Σ_{kh<KH, kw<KW}
//	        in[oy·StrideH - PadT + kh·DilH][ox·StrideW - PadL + kw·DilW][o/Mult] ·
//	        w[o][0][kh][kw])
//
// where positions outside the input read 0; bottom and right padding are
// implied by OutH and OutW. Stride and dilation fields of 0 are read as 1.
type DepthwiseConv2D struct {
	InH, InW, C, Mult, OutH, OutW                    int
	KH, KW, StrideH, StrideW, DilH, DilW, PadT, PadL int
	OutStride                                        int // ≥ C·Mult
	Clamp                                            Clamp
}

// PackF32 packs ONNX-layout weights [C·Mult][1][KH][KW] into the tap-major
// layout [KH·KW][C·Mult] that RunF32 reads (each tap's weights are contiguous
// over channels, like an NHWC pixel) and returns the new slice. It panics if
// w is too short.
func (d *DepthwiseConv2D) PackF32(w []float32) []float32 {
	cm, taps := d.C*d.Mult, d.KH*d.KW
	if d.C < 0 || d.Mult < 0 || taps < 0 || len(w) < cm*taps {
		panic(fmt.Sprintf("asm: DepthwiseConv2D.PackF32: got %d weights, need %d", len(w), cm*taps))
	}
	p := make([]float32, taps*cm)
	for o := 0; o < cm; o++ {
		for t := 0; t < taps; t++ {
			p[t*cm+o] = w[o*taps+t]
		}
	}
	return p
}

// RunF32 computes output rows [r0, r1) of every channel. packed is from
// PackF32 and bias (len C·Mult) may be nil. RunF32 does not allocate and may
// run concurrently on disjoint row ranges.
func (d *DepthwiseConv2D) RunF32(in, packed, bias, out []float32, r0, r1 int) {
	if r0 < 0 || r1 > d.OutH {
		panic(fmt.Sprintf("asm: DepthwiseConv2D.RunF32 rows [%d, %d) of %d", r0, r1, d.OutH))
	}
	if dwconvF32Arch(d, in, packed, bias, out, r0, r1) {
		return
	}
	dwconvF32Generic(d, in, packed, bias, out, r0, r1)
}
