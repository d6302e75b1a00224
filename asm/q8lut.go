package asm

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/quant"
)

// QLUT is an int8 → int8 elementwise function as a table indexed by the
// input's bit pattern:
//
//	out[i] = l[uint8(in[i])]
//
// Every int8 activation TFLite 2.9 computes elementwise maps each of the 256
// inputs to one output independently of position, so a table built from
// TFLite's exact per-value arithmetic reproduces it bit for bit.
type QLUT [256]int8

// Run applies the table to in, writing len(out) elements. It does not
// allocate.
func (l *QLUT) Run(in, out []int8) {
	in = in[:len(out)]
	for i, x := range in {
		out[i] = l[uint8(x)]
	}
}

// newQLUTFloat is TFLite's LUTPopulate / PopulateLookupTable for an 8-bit
// tensor: for each input value, in float32,
//
//	r := round(f(inScale·float32(x − inZero)) · (1/outScale))
//	out = clamp(int32(r + float32(outZero)), −128, 127)
//
// with round halving away from zero.
func newQLUTFloat(inScale float32, inZero int32, outScale float32, outZero int32, f func(float32) float32) *QLUT {
	var l QLUT
	inv := 1 / outScale
	for v := int32(-128); v <= 127; v++ {
		deq := inScale * float32(v-inZero)
		r := float32(math.Round(float64(f(deq) * inv)))
		q := int32(r + float32(outZero))
		l[uint8(int8(v))] = int8(sat8(q))
	}
	return &l
}

// NewQLogisticLUT is TFLite 2.9's int8 LOGISTIC as its default (generic
// optimised) kernel computes it: a table filled by newQLUTFloat's formula
// with f(v) = 1 / (1 + expf(−v)) in float32. (The reference kernel's
// fixed-point algorithm is not what the builtin resolver runs.) TFLite
// requires outScale = 1/256 and outZero = −128. expf is computed as
// float32(math.Exp(float64(v))), the correctly rounded value; glibc's expf
// is within 0.502 ulp of it, so a table entry could differ only if the
// scaled result lands within an ulp of a rounding boundary.
func NewQLogisticLUT(inScale float32, inZero int32, outScale float32, outZero int32) *QLUT {
	return newQLUTFloat(inScale, inZero, outScale, outZero, func(v float32) float32 {
		e := float32(math.Exp(float64(-v)))
		return 1 / (1 + e)
	})
}

// NewQTanhLUT is TFLite 2.9's int8 TANH as its default kernel computes it:
// newQLUTFloat's formula with f(v) = tanhf(v), computed as
// float32(math.Tanh(float64(v))).
func NewQTanhLUT(inScale float32, inZero int32, outScale float32, outZero int32) *QLUT {
	return newQLUTFloat(inScale, inZero, outScale, outZero, func(v float32) float32 {
		return float32(math.Tanh(float64(v)))
	})
}

// QHardSwishParams are the fixed-point parameters of TFLite's quantised
// HARD_SWISH (HardSwishParams), computed by NewQHardSwishLUT.
type QHardSwishParams struct {
	InZero, OutZero                   int32
	OutMultiplier16, ReluMultiplier16 int16
	OutExponent, ReluExponent         int32
}

// NewQHardSwishParams computes TFLite 2.9's HardSwishPrepare parameters, in
// float32:
//
//	hires := (1/128)·inScale
//	M, OutExponent = quant.QuantizeMultiplier(float64(hires / outScale))
//	R, ReluExponent = quant.QuantizeMultiplier(float64(hires / (3/32768)))
//
// with M and R rounded to Q15 (DownScaleInt32ToInt16Multiplier). TFLite
// rejects OutExponent > 0, and so does this function.
func NewQHardSwishParams(inScale float32, inZero int32, outScale float32, outZero int32) (QHardSwishParams, error) {
	hires := float32(1.0/128.0) * inScale
	p := QHardSwishParams{InZero: inZero, OutZero: outZero}
	m, e := quant.QuantizeMultiplier(float64(hires / outScale))
	p.OutMultiplier16, p.OutExponent = downScaleQ15(m), int32(e)
	r, re := quant.QuantizeMultiplier(float64(hires / float32(3.0/32768.0)))
	p.ReluMultiplier16, p.ReluExponent = downScaleQ15(r), int32(re)
	if p.OutExponent > 0 {
		return p, fmt.Errorf("asm: hard-swish output multiplier exponent %d > 0 (input scale %g, output scale %g)", p.OutExponent, inScale, outScale)
	}
	return p, nil
}

// Apply is TFLite 2.9's reference_ops::HardSwish for one int8 value (its
// NEON body is bit-exact with it). All values are int16 fixed point:
//
//	x := int16(in − InZero)
//	hires := x·128
//	pre := SRDHM16(hires, OutMultiplier16)             // on the output scale, pre-shift
//	rel := hires
//	if ReluExponent > 0 { rel = SatShl16(rel, ReluExponent−1) }
//	rel = SRDHM16(rel, ReluMultiplier16)
//	if ReluExponent > 0 { rel = SatShl16(rel, 1) }
//	if ReluExponent < 0 { rel = RoundingDivideByPOT16(rel, −ReluExponent) }
//	rel = (rel + 2^15) >> 1                           // [−1, 1] → [0, 1] in Q15
//	v := SDHM16(rel, pre)                              // truncating: (a·b) / 2^15
//	out = clamp(RoundingDivideByPOT16(v, −OutExponent) + OutZero, −128, 127)
func (p *QHardSwishParams) Apply(in int8) int8 {
	x := int32(int16(int32(in) - p.InZero))
	hires := int32(int16(x * 128))
	pre := srdhm16(hires, int32(p.OutMultiplier16))
	rel := hires
	if p.ReluExponent > 0 {
		rel = satShl16(rel, p.ReluExponent-1)
	}
	rel = srdhm16(rel, int32(p.ReluMultiplier16))
	if p.ReluExponent > 0 {
		rel = satShl16(rel, 1)
	}
	if p.ReluExponent < 0 {
		rel = rdivPOT16(rel, -p.ReluExponent)
	}
	rel = int32(int16((rel + 1<<15) >> 1))
	v := sdhm16(rel, pre)
	out := int32(int16(rdivPOT16(v, -p.OutExponent) + p.OutZero))
	return int8(sat8(out))
}

// NewQHardSwishLUT tabulates QHardSwishParams.Apply for every input.
func NewQHardSwishLUT(inScale float32, inZero int32, outScale float32, outZero int32) (*QLUT, error) {
	p, err := NewQHardSwishParams(inScale, inZero, outScale, outZero)
	if err != nil {
		return nil, err
	}
	var l QLUT
	for v := -128; v <= 127; v++ {
		l[uint8(int8(v))] = p.Apply(int8(v))
	}
	return &l, nil
}

// downScaleQ15 is TFLite's DownScaleInt32ToInt16Multiplier.
func downScaleQ15(m int32) int16 {
	const offset = 1 << 15
	if m >= math.MaxInt32-offset {
		return math.MaxInt16
	}
	return int16((m + offset) >> 16)
}

// srdhm16 is gemmlowp's int16 SaturatingRoundingDoublingHighMul.
func srdhm16(a, b int32) int32 {
	if a == math.MinInt16 && b == math.MinInt16 {
		return math.MaxInt16
	}
	ab := a * b
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - 1<<14
	}
	return int32(int16((ab + nudge) / (1 << 15)))
}

// sdhm16 is TFLite's SaturatingDoublingHighMul: like srdhm16 but truncating
// toward zero (ARM SQDMULH).
func sdhm16(a, b int32) int32 {
	if a == math.MinInt16 && b == math.MinInt16 {
		return math.MaxInt16
	}
	return int32(int16((a * b) / (1 << 15)))
}

// satShl16 is TFLite's SaturatingLeftShift on int16.
func satShl16(v, amount int32) int32 {
	r := int64(v) * (int64(1) << amount)
	return int32(min(max(r, math.MinInt16), math.MaxInt16))
}

// rdivPOT16 is gemmlowp's RoundingDivideByPOT on int16.
func rdivPOT16(x, e int32) int32 {
	mask := int32(int16(int64(1)<<e - 1))
	rem := int32(int16(x & mask))
	thr := int32(int16(mask >> 1))
	if x < 0 {
		thr++
	}
	q := x >> e
	if rem > thr {
		q++
	}
	return int32(int16(q))
}

// QSoftmax is TFLite 2.9's int8 SOFTMAX along the last axis as its default
// optimised kernel computes it where TFLITE_SOFTMAX_USE_UINT16_LUT is
// undefined (every build except aarch64 clang ones, which use a different
// uint16-table algorithm): a float32 table of exponentials built once,
//
//	table[255 − d] = expf(−inScale·beta·d)   for d = 0..255
//
// and for each row, with mx the row's maximum and e_j = table[255 − mx + x_j]
// (so e_j = exp(−β·inScale·(mx − x_j))),
//
//	sum := e_0 + e_1 + … (in order, float32)
//	inv := 1 / (sum · outScale)
//	out_j = clamp(int32(round(e_j · inv)) + outZero, −128, 127)
//
// with round halving away from zero. TFLite requires outScale = 1/256 and
// outZero = −128. FromU8 reproduces TFLite's uint8 kernel (x86) for a legacy
// uint8 model shifted to int8: out_j = clamp(int32(e_j·inv + 0.5) + outZero
// + 128, 0, 255) − 128. expf is computed as float32(math.Exp(float64(v))).
type QSoftmax struct {
	table    [256]float32
	outScale float32
	outZero  int32
	// FromU8 selects TFLite's uint8 output rounding.
	FromU8 bool
}

// NewQSoftmax builds the exponential table as TFLite's
// PopulateSoftmaxLookupTable does. The input zero point cancels (only
// differences to the row maximum matter).
func NewQSoftmax(beta float32, inScale float32, inZero int32, outScale float32, outZero int32) *QSoftmax {
	s := &QSoftmax{outScale: outScale, outZero: outZero}
	scale := -inScale * beta
	for v := 0; v <= 255; v++ {
		s.table[255-v] = float32(math.Exp(float64(scale * float32(v))))
	}
	return s
}

// Run computes rows [0, rows) of n elements each: in[r·n + j] → out[r·n + j].
// It does not allocate and may run concurrently on disjoint row ranges
// (pass sub-slices).
func (s *QSoftmax) Run(in, out []int8, rows, n int) {
	if rows < 0 || n < 0 || len(in) < rows*n || len(out) < rows*n {
		panic(fmt.Sprintf("asm: QSoftmax.Run %d×%d with input %d, output %d", rows, n, len(in), len(out)))
	}
	for r := 0; r < rows; r++ {
		x := in[r*n : r*n+n]
		o := out[r*n : r*n+n]
		mx := int32(-128)
		for _, v := range x {
			mx = max(mx, int32(v))
		}
		var sum float32
		for _, v := range x {
			sum += s.table[255-mx+int32(v)]
		}
		inv := 1 / (sum * s.outScale)
		for j, v := range x {
			p := s.table[255-mx+int32(v)] * inv
			var q int32
			if s.FromU8 {
				q = min(max(int32(p+0.5)+s.outZero+128, 0), 255) - 128
			} else {
				q = sat8(int32(math.Round(float64(p))) + s.outZero)
			}
			o[j] = int8(q)
		}
	}
}
