package asm

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/quant"
)

// QPool2D is NHWC int8 max or average pooling of one image with TFLite's
// MAX_POOL_2D / AVERAGE_POOL_2D arithmetic. Input and output share scale and
// zero point, so both work on the raw int8 values.
//
// The geometry fields mean what they mean in Pool2D: input pixel (y, x)
// channel c is in[(y·InW+x)·C + c]; output pixel (oy, ox) channel c is
// out[(oy·OutW+ox)·OutStride + c] with OutStride ≥ C (the elements in between
// are never touched); the window of output (oy, ox) visits input rows
// oy·StrideH − PadT + kh·DilH for kh < KH and columns ox·StrideW − PadL +
// kw·DilW for kw < KW; positions outside the input are skipped. PadB and PadR
// only matter to ONNX's CountIncludePad, which TFLite does not have and which
// must be false. Stride and dilation fields of 0 are read as 1.
//
// Max:
//
//	out = clamp(max(-128, max_{valid taps} x), ActMin, ActMax)
//
// Avg, with S = Σ_{valid taps} x and n the number of valid taps (TFLite's
// filter_count; a window with none yields clamp(0)):
//
//	out = clamp(S > 0 ? (S + n/2) / n : (S − n/2) / n, ActMin, ActMax)   // "/" truncates
//
// i.e. rounding half away from zero. ActMin and ActMax are the fused
// activation's clamp (quant.ActivationRange; -128, 127 for none); they are not
// called Min and Max because the methods are. FromU8 reproduces TFLite's uint8 kernel
// for a legacy uint8 model shifted to int8: it rounds the uint8 sum half up,
// out = (S + 128·n + n/2) / n − 128, which differs on negative ties.
type QPool2D struct {
	InH, InW, C, OutH, OutW                                      int
	KH, KW, StrideH, StrideW, DilH, DilW, PadT, PadL, PadB, PadR int
	CountIncludePad                                              bool
	OutStride                                                    int
	ActMin, ActMax                                               int32
	FromU8                                                       bool
}

// Max computes output rows [r0, r1) of max pooling. It does not allocate and
// may run concurrently on disjoint row ranges.
func (p *QPool2D) Max(in, out []int8, r0, r1 int) {
	p.check(r0, r1)
	if q8MaxPoolArch(p, in, out, r0, r1) {
		return
	}
	c := p.C
	lo, hi := int8(p.ActMin), int8(p.ActMax)
	for oy := r0; oy < r1; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			q := oy*p.OutW + ox
			o := out[q*p.OutStride : q*p.OutStride+c]
			iy0, ix0, dh, dw, kh0, kh1, kw0, kw1 := p.window(oy, ox)
			fillInt8(o, -128)
			for kh := kh0; kh < kh1; kh++ {
				row := (iy0 + kh*dh) * p.InW
				for kw := kw0; kw < kw1; kw++ {
					x := in[(row+ix0+kw*dw)*c:]
					x = x[:len(o)]
					for i, v := range x {
						o[i] = max(o[i], v)
					}
				}
			}
			for i, v := range o {
				o[i] = min(max(v, lo), hi)
			}
		}
	}
}

// Avg computes output rows [r0, r1) of average pooling. It does not allocate
// and may run concurrently on disjoint row ranges.
func (p *QPool2D) Avg(in, out []int8, r0, r1 int) {
	p.check(r0, r1)
	if p.CountIncludePad {
		panic("asm: QPool2D.Avg: CountIncludePad is not TFLite's arithmetic")
	}
	if q8AvgPoolArch(p, in, out, r0, r1) {
		return
	}
	c := p.C
	var acc [q8DWBlock]int32
	for oy := r0; oy < r1; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			q := oy*p.OutW + ox
			o := out[q*p.OutStride : q*p.OutStride+c]
			iy0, ix0, dh, dw, kh0, kh1, kw0, kw1 := p.window(oy, ox)
			n := int32((kh1 - kh0) * (kw1 - kw0))
			for c0 := 0; c0 < c; c0 += q8DWBlock {
				a := acc[:min(q8DWBlock, c-c0)]
				clear(a)
				for kh := kh0; kh < kh1; kh++ {
					row := (iy0 + kh*dh) * p.InW
					for kw := kw0; kw < kw1; kw++ {
						x := in[(row+ix0+kw*dw)*c+c0:]
						x = x[:len(a)]
						for i, v := range x {
							a[i] += int32(v)
						}
					}
				}
				oc := o[c0 : c0+len(a)]
				for i, s := range a {
					oc[i] = int8(min(max(p.avg(s, n), p.ActMin), p.ActMax))
				}
			}
		}
	}
}

// avg is TFLite's rounding division of a window sum.
func (p *QPool2D) avg(s, n int32) int32 {
	switch {
	case n == 0:
		return 0
	case p.FromU8:
		return (s+128*n+n/2)/n - 128
	case s > 0:
		return (s + n/2) / n
	default:
		return (s - n/2) / n
	}
}

func (p *QPool2D) window(oy, ox int) (iy0, ix0, dh, dw, kh0, kh1, kw0, kw1 int) {
	dh, dw = max(1, p.DilH), max(1, p.DilW)
	iy0 = oy*max(1, p.StrideH) - p.PadT
	ix0 = ox*max(1, p.StrideW) - p.PadL
	kh0, kh1 = q8TapRange(iy0, dh, p.KH, p.InH)
	kw0, kw1 = q8TapRange(ix0, dw, p.KW, p.InW)
	return
}

func (p *QPool2D) check(r0, r1 int) {
	if r0 < 0 || r1 > p.OutH || p.OutStride < p.C {
		panic(fmt.Sprintf("asm: QPool2D rows [%d, %d) of %d, OutStride %d, C %d", r0, r1, p.OutH, p.OutStride, p.C))
	}
	if p.ActMin > p.ActMax || p.ActMin < -128 || p.ActMax > 127 {
		panic(fmt.Sprintf("asm: QPool2D clamp [%d, %d] outside int8", p.ActMin, p.ActMax))
	}
}

// QMean is TFLite 2.9's int8 MEAN over the spatial axes [1, 2] of an NHWC
// tensor: in holds HW pixels of C channels (in[p·C + c]), out one value per
// channel. TFLite picks one of these algorithms:
//
// NewQMean (keep_dims false, the general reduce.cc path that MobileNet v2's
// MEAN takes; optimised and reference kernels agree). With S = Σ_p in[p·C+c]
// (raw values):
//
//   - input and output quantisation equal: out = S / HW, truncated toward
//     zero (reference_ops::Mean);
//
//   - otherwise (reference_ops::QuantizedMeanOrSum), in float32:
//
//     scale := inScale / outScale
//     bias := float32(−inZero) · scale
//     r := round(float32(float32(S)/float32(HW))·scale + bias) + float32(outZero)
//     out = clamp(r, −128, 127)
//
//     with round halves away from zero and the product rounded to float32
//     before the addition (no fused multiply-add, as on x86).
//
// NewQMeanFloat uses the float formula above even when input and output
// quantisation are equal (scale 1, bias −inZero, so out = round(S/HW) with
// halves away from zero, not truncated). This is what the TFLite 2.9 x86
// library (tflite-ref) computes for an int8 keep_dims MEAN over [1, 2] with
// equal quantisation: the optimised MEAN for int8 is QuantizedMeanOrSum's
// float arithmetic for every quantisation, without reference_ops::Mean's
// truncating shortcut. Measured on MobileNet v2's MEAN (7×7×1280, 340
// images, 435 200 channels): 0 differences, against 8 390 for
// NewQMeanKeepDims and 213 813 for the truncating shortcut.
//
// NewQMeanKeepDims (keep_dims true: optimized_integer_ops::Mean):
//
//	bias := outZero − int32(roundAway(float32(inZero)·inScale/outScale))
//	M, Sh = quant.QuantizeMultiplier(float64(inScale / (float32(HW)·outScale)))
//	out = clamp(bias + rescale(S, M, Sh), −128, 127)
//
// where rescale rounds with RoundUpward (NEON's MultiplyByQuantizedMultiplier4Rows)
// for each whole block of 16 channels from c0 and with RoundDouble for the
// rest (unless Scalar). TFLite splits the channels among
// min(C/8, threads) tasks, each one such call; with one thread that is one
// Run over [0, C).
//
// FromU8 (NewQMean only) reproduces TFLite's uint8 kernel for a legacy uint8
// model shifted to int8: the same formulas on the uint8 values x + 128 and
// zero points + 128, clamped to [0, 255] and shifted back.
type QMean struct {
	HW, C int
	// Scalar disables the NEON-block rounding of NewQMeanKeepDims.
	Scalar bool
	// FromU8 selects TFLite's uint8 arithmetic (NewQMean only).
	FromU8 bool

	mode                  int // qMeanSame, qMeanFloat or qMeanKeepDims
	inZero, outZero       int32
	scale                 float32
	mult, shift, keepBias int32
}

const (
	qMeanSame = iota
	qMeanFloat
	qMeanKeepDims
)

// NewQMean prepares TFLite's MEAN over axes [1, 2] with keep_dims false.
func NewQMean(hw, c int, inScale float32, inZero int32, outScale float32, outZero int32) *QMean {
	m := &QMean{HW: hw, C: c, inZero: inZero, outZero: outZero, mode: qMeanFloat}
	if inZero == outZero && inScale == outScale {
		m.mode = qMeanSame
	}
	m.scale = inScale / outScale
	return m
}

// NewQMeanKeepDims prepares TFLite's MEAN over axes [1, 2] of a 4-D tensor
// with keep_dims true.
func NewQMeanKeepDims(hw, c int, inScale float32, inZero int32, outScale float32, outZero int32) *QMean {
	m := &QMean{HW: hw, C: c, inZero: inZero, outZero: outZero, mode: qMeanKeepDims}
	t := float32(inZero) * inScale / outScale
	if t > 0 {
		t += 0.5
	} else {
		t -= 0.5
	}
	m.keepBias = outZero - int32(t)
	mult, shift := quant.QuantizeMultiplier(float64(inScale / (float32(hw) * outScale)))
	m.mult, m.shift = mult, int32(shift)
	return m
}

// NewQMeanFloat prepares TFLite's MEAN over axes [1, 2] by the float
// formula whatever the quantisation (see QMean).
func NewQMeanFloat(hw, c int, inScale float32, inZero int32, outScale float32, outZero int32) *QMean {
	m := NewQMean(hw, c, inScale, inZero, outScale, outZero)
	m.mode = qMeanFloat
	return m
}

// Run computes channels [c0, c1) of out. It does not allocate and may run
// concurrently on disjoint channel ranges.
func (m *QMean) Run(in, out []int8, c0, c1 int) {
	if c0 < 0 || c1 > m.C || len(in) < m.HW*m.C {
		panic(fmt.Sprintf("asm: QMean.Run channels [%d, %d) of %d, input %d of %d×%d", c0, c1, m.C, len(in), m.HW, m.C))
	}
	if m.HW == 0 {
		return
	}
	if q8MeanArch(m, in, out, c0, c1) {
		return
	}
	nb := (c1 - c0) / 16 * 16 // channels in whole NEON blocks
	for c := c0; c < c1; c++ {
		var s int32
		for p := 0; p < m.HW; p++ {
			s += int32(in[p*m.C+c])
		}
		out[c] = m.finish(s, c-c0 < nb)
	}
}

// finish turns the raw sum of a channel into its output; vec reports whether
// the channel lies in a whole NEON block of the Run call (keep_dims only).
func (m *QMean) finish(s int32, vec bool) int8 {
	n := int32(m.HW)
	zi, zo, lo, hi := m.inZero, m.outZero, int32(-128), int32(127)
	if m.FromU8 && m.mode != qMeanKeepDims {
		s += 128 * n
		zi, zo, lo, hi = zi+128, zo+128, 0, 255
	}
	var r int32
	switch m.mode {
	case qMeanSame:
		r = s / n
	case qMeanFloat:
		bias := float32(-zi) * m.scale
		mean := float32(s) / float32(n)
		f := float32(math.Round(float64(float32(mean*m.scale)+bias))) + float32(zo)
		f = min(max(f, float32(lo)), float32(hi))
		r = int32(f)
	default:
		mode := RoundDouble
		if vec && !m.Scalar {
			mode = RoundUpward
		}
		r = min(max(m.keepBias+rescale(mode, s, m.mult, m.shift), lo), hi)
	}
	if m.FromU8 && m.mode != qMeanKeepDims {
		r -= 128
	}
	return int8(r)
}
