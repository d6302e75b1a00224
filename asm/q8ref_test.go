package asm

// Independent references and test plumbing for the int8 kernels. The
// references are direct nested loops over the NHWC/OIHW tensors in int64,
// followed by TFLite's requantisation written out step by step (the quant
// package, itself tested against gemmlowp's definitions, and math/big for
// the single-rounding variant). They share no code with the kernels.

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/stretchr/testify/require"
)

// q8Guard is the number of guard elements on each side of a carved buffer.
const q8Guard = 29

// q8GuardByte is the sentinel pattern of guard position i.
func q8GuardByte(i int) int8 { return int8(0x5a ^ (i * 37)) }

// q8Buf is an int8 test buffer with guard bands around the part a kernel
// sees.
type q8Buf struct {
	buf []int8
	n   int
}

// newQ8Buf carves n elements filled with fill(i) from a larger buffer whose
// guards hold the sentinel pattern.
func newQ8Buf(n int, fill func(i int) int8) *q8Buf {
	b := &q8Buf{buf: make([]int8, n+2*q8Guard), n: n}
	for i := range b.buf {
		b.buf[i] = q8GuardByte(i)
	}
	for i := 0; i < n; i++ {
		b.buf[q8Guard+i] = fill(i)
	}
	return b
}

// data is the interior; its capacity reaches into the back guard, so an
// overrun through reslicing lands in a guard instead of panicking.
func (b *q8Buf) data() []int8 { return b.buf[q8Guard : q8Guard+b.n] }

func (b *q8Buf) checkGuards(t testing.TB, what string) {
	t.Helper()
	for i := 0; i < q8Guard; i++ {
		j := q8Guard + b.n + i
		if b.buf[i] != q8GuardByte(i) || b.buf[j] != q8GuardByte(j) {
			require.FailNowf(t, "guard overwritten", "%s: guard %d or +%d changed", what, q8Guard-i, i)
		}
	}
}

// q8Gap is the value output elements outside a kernel's range must keep.
func q8Gap(i int) int8 { return int8(0x33 + i*11) }

// q8Seeded returns a generator for seed and logs the seed on failure.
func q8Seeded(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d", seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed^0x51ed27d1a9e5c3b7))
}

// q8Rand returns n values uniform in [lo, hi].
func q8Rand(r *rand.Rand, n int, lo, hi int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(lo + r.IntN(hi-lo+1))
	}
	return s
}

// q8Zero picks a zero point, often an extreme one.
func q8Zero(r *rand.Rand) int32 {
	switch r.IntN(5) {
	case 0:
		return -128
	case 1:
		return 127
	case 2:
		return 0
	}
	return int32(r.IntN(256) - 128)
}

// q8Clamp picks an activation clamp: none, a ReLU-like lower bound or both.
func q8Clamp(r *rand.Rand) (int32, int32) {
	switch r.IntN(3) {
	case 0:
		return -128, 127
	case 1:
		return int32(r.IntN(100) - 128), 127
	}
	lo := int32(r.IntN(120) - 128)
	return lo, lo + int32(r.IntN(int(127-lo)+1))
}

// q8RandRequant draws a Requant with realistic multipliers (per-tensor or
// per-channel) around a scale that keeps typical accumulators in range.
func q8RandRequant(r *rand.Rand, n int, accScale float64, mode Rounding) Requant {
	inScale := float32(0.005 + 0.05*r.Float64())
	outScale := float32(float64(inScale) * accScale * (0.5 + r.Float64()))
	ws := make([]float32, n)
	per := r.IntN(2) == 0
	w0 := float32(0.3 + 1.2*r.Float64())
	for c := range ws {
		ws[c] = w0
		if per {
			ws[c] = float32(0.3 + 1.2*r.Float64())
		}
	}
	lo, hi := q8Clamp(r)
	rq := NewRequant(inScale, ws, outScale, q8Zero(r), lo, hi)
	rq.Rounding = mode
	return rq
}

// rescaleRef is the requantisation multiply of mode, computed independently:
// RoundDouble by the quant package, RoundSingle exactly with math/big,
// RoundUpward from quant's doubling high multiply and an exact shift.
func rescaleRef(mode Rounding, x, m, s int32) int32 {
	switch mode {
	case RoundSingle:
		// floor(x·m / 2^(31−s) + 1/2)
		v := new(big.Int).Mul(big.NewInt(int64(x)), big.NewInt(int64(m)))
		v.Lsh(v, 1)
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(31-s)))
		v.Rsh(v, uint(32-s))
		return int32(v.Int64())
	case RoundUpward:
		l, rr := max(s, 0), max(-s, 0)
		h := int64(quant.SaturatingRoundingDoublingHighMul(x*(1<<l), m))
		return int32(math.Floor((float64(h) + 0.5*math.Exp2(float64(rr))) / math.Exp2(float64(rr))))
	}
	return quant.MultiplyByQuantizedMultiplier(x, m, int(s))
}

// requantRef is Requant.Apply computed by rescaleRef.
func requantRef(rq *Requant, acc int64, c int) int8 {
	v := int64(rq.OutZero) + int64(rescaleRef(rq.Rounding, int32(acc), rq.Mult[c], rq.Shift[c]))
	return int8(min(max(v, int64(rq.Min)), int64(rq.Max)))
}

// q8ConvRef is the direct int8 convolution on NHWC input and OIHW weights:
// acc64[p][o] = bias[o] + Σ (x − zx)(w − zw[o]) over the taps inside the
// input, and real[p][o] the same sum in float64 from the dequantised values
// (inScale·(x − zx), wScale·(w − zw)) with padding as real 0.
func q8ConvRef(c *QConv2D, x, w []int8, zw, bias []int32) (acc []int64) {
	g := max(1, c.Groups)
	cg, og := c.InC/g, c.OutC/g
	acc = make([]int64, c.OutH*c.OutW*c.OutC)
	for oy := 0; oy < c.OutH; oy++ {
		for ox := 0; ox < c.OutW; ox++ {
			for o := 0; o < c.OutC; o++ {
				gi := o / og
				z := int64(q8ZeroRef(zw, o))
				var s int64
				if bias != nil {
					s = int64(bias[o])
				}
				for ci := 0; ci < cg; ci++ {
					for kh := 0; kh < c.KH; kh++ {
						for kw := 0; kw < c.KW; kw++ {
							iy := oy*c.StrideH - c.PadT + kh*c.DilH
							ix := ox*c.StrideW - c.PadL + kw*c.DilW
							if iy < 0 || iy >= c.InH || ix < 0 || ix >= c.InW {
								continue
							}
							xv := int64(x[(iy*c.InW+ix)*c.InC+gi*cg+ci]) - int64(c.InZero)
							wv := int64(w[((o*cg+ci)*c.KH+kh)*c.KW+kw]) - z
							s += xv * wv
						}
					}
				}
				acc[(oy*c.OutW+ox)*c.OutC+o] = s
			}
		}
	}
	return acc
}

// q8ConvRealRef is the same convolution in float64 on dequantised values:
// positions outside the input are real 0 regardless of the zero point.
func q8ConvRealRef(c *QConv2D, x, w []int8, zw []int32, inScale float64, wScale []float64) []float64 {
	g := max(1, c.Groups)
	cg, og := c.InC/g, c.OutC/g
	real := make([]float64, c.OutH*c.OutW*c.OutC)
	deqX := func(iy, ix, ch int) float64 {
		if iy < 0 || iy >= c.InH || ix < 0 || ix >= c.InW {
			return 0
		}
		return inScale * float64(int32(x[(iy*c.InW+ix)*c.InC+ch])-c.InZero)
	}
	for oy := 0; oy < c.OutH; oy++ {
		for ox := 0; ox < c.OutW; ox++ {
			for o := 0; o < c.OutC; o++ {
				s := 0.0
				for ci := 0; ci < cg; ci++ {
					for kh := 0; kh < c.KH; kh++ {
						for kw := 0; kw < c.KW; kw++ {
							wv := wScale[o] * float64(int32(w[((o*cg+ci)*c.KH+kh)*c.KW+kw])-q8ZeroRef(zw, o))
							s += deqX(oy*c.StrideH-c.PadT+kh*c.DilH, ox*c.StrideW-c.PadL+kw*c.DilW, o/og*cg+ci) * wv
						}
					}
				}
				real[(oy*c.OutW+ox)*c.OutC+o] = s
			}
		}
	}
	return real
}

func q8ZeroRef(zw []int32, c int) int32 {
	if len(zw) == 0 {
		return 0
	}
	if len(zw) == 1 {
		return zw[0]
	}
	return zw[c]
}

// requireQ8Out compares an NHWC kernel output (pixel stride stride) with the
// expected values and checks that gap elements kept q8Gap.
func requireQ8Out(t testing.TB, want []int8, out []int8, c, pixels, stride int, msg string, detail func(p, ch int) string) {
	t.Helper()
	for p := 0; p < pixels; p++ {
		for ch := 0; ch < c; ch++ {
			if got, w := out[p*stride+ch], want[p*c+ch]; got != w {
				extra := ""
				if detail != nil {
					extra = detail(p, ch)
				}
				require.FailNowf(t, "mismatch", "%s: pixel %d channel %d: got %d, want %d %s", msg, p, ch, got, w, extra)
			}
		}
		for ch := c; ch < stride && p*stride+ch < len(out); ch++ {
			if out[p*stride+ch] != q8Gap(p*stride+ch) {
				require.FailNowf(t, "gap written", "%s: pixel %d gap channel %d = %d", msg, p, ch, out[p*stride+ch])
			}
		}
	}
}

// q8OutBuf is a guarded output of pixels×stride elements pre-filled with the
// gap pattern.
func q8OutBuf(pixels, c, stride int) *q8Buf {
	n := 0
	if pixels > 0 {
		n = (pixels-1)*stride + c
	}
	return newQ8Buf(n, q8Gap)
}

// q8Chunks splits [0, n) into random consecutive ranges of at most tile, in
// random order.
func q8Chunks(r *rand.Rand, n, tile int) [][2]int {
	var out [][2]int
	for p := 0; p < n; {
		sz := tile
		if r.IntN(3) == 0 {
			sz = 1 + r.IntN(tile)
		}
		sz = min(sz, n-p)
		out = append(out, [2]int{p, p + sz})
		p += sz
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

var q8Roundings = []Rounding{RoundDouble, RoundSingle, RoundUpward}

func q8Name(format string, args ...any) string { return fmt.Sprintf(format, args...) }
