package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQ8AvgPoolRounding checks TFLite's rounding division of window sums on
// hand-computed 2×2 windows (n = 4, n/2 = 2, "/" truncating):
//
//	{−1, −2, −2, −2}: S = −7, (−7 − 2)/4 = −2      (−1.75 → −2)
//	{−1, −1, 0, 0}:   S = −2, (−2 − 2)/4 = −1      (−0.5 → −1, away from zero)
//	{1, 1, 0, 0}:     S = 2,  (2 + 2)/4 = 1        (0.5 → 1)
//	{−1, 0, 0, 0}:    S = −1, (−1 − 2)/4 = 0       (−0.25 → 0)
//	{−128 ×4}:        −128
//
// and FromU8 (TFLite's uint8 kernel on x + 128, rounding half up):
//
//	{−1, −1, 0, 0}: (510 + 2)/4 − 128 = 0         (−0.5 → 0)
//	{−1, −2, −2, −2}: (505 + 2)/4 − 128 = −2
func TestQ8AvgPoolRounding(t *testing.T) {
	windows := [][4]int8{{-1, -2, -2, -2}, {-1, -1, 0, 0}, {1, 1, 0, 0}, {-1, 0, 0, 0}, {-128, -128, -128, -128}}
	// One 2×2 image per window as channels: in[(y·2+x)·C + c].
	const c = 5
	in := make([]int8, 4*c)
	for ch, w := range windows {
		for i, v := range w {
			in[i*c+ch] = v
		}
	}
	p := &QPool2D{InH: 2, InW: 2, C: c, OutH: 1, OutW: 1, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutStride: c, ActMin: -128, ActMax: 127}
	out := make([]int8, c)
	p.Avg(in, out, 0, 1)
	require.Equal(t, []int8{-2, -1, 1, 0, -128}, out)
	p.FromU8 = true
	p.Avg(in, out, 0, 1)
	require.Equal(t, []int8{-2, 0, 1, 0, -128}, out)
	p.FromU8 = false
	p.ActMin, p.ActMax = -1, 0 // fused clamp
	p.Avg(in, out, 0, 1)
	require.Equal(t, []int8{-1, -1, 0, 0, -1}, out)
	p.Max(in, out, 0, 1) // maxima −1, 0, 1, 0, −128, clamped
	require.Equal(t, []int8{-1, 0, 0, 0, -1}, out)
}

// q8PoolRef is direct max / average pooling over the valid taps, rounding
// the average with math.Round (half away from zero) or, for FromU8, half up
// on the uint8 values.
func q8PoolRef(p *QPool2D, x []int8, avg bool) []int8 {
	out := make([]int8, p.OutH*p.OutW*p.C)
	for oy := 0; oy < p.OutH; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			for ch := 0; ch < p.C; ch++ {
				mx, s, n := int64(-128), int64(0), int64(0)
				for kh := 0; kh < p.KH; kh++ {
					for kw := 0; kw < p.KW; kw++ {
						iy := oy*max(1, p.StrideH) - p.PadT + kh*max(1, p.DilH)
						ix := ox*max(1, p.StrideW) - p.PadL + kw*max(1, p.DilW)
						if iy < 0 || iy >= p.InH || ix < 0 || ix >= p.InW {
							continue
						}
						v := int64(x[(iy*p.InW+ix)*p.C+ch])
						mx = max(mx, v)
						s += v
						n++
					}
				}
				v := mx
				if avg {
					switch {
					case n == 0:
						v = 0
					case p.FromU8:
						v = int64(math.Floor(float64(s+128*n)/float64(n)+0.5)) - 128
					default:
						v = int64(math.Round(float64(s) / float64(n)))
					}
				}
				out[(oy*p.OutW+ox)*p.C+ch] = int8(min(max(v, int64(p.ActMin)), int64(p.ActMax)))
			}
		}
	}
	return out
}

func TestQ8PoolRandom(t *testing.T) {
	r := q8Seeded(t, 31)
	for it := 0; it < 300; it++ {
		kh, kw := 1+r.IntN(4), 1+r.IntN(4)
		p := &QPool2D{KH: kh, KW: kw, StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3), DilH: 1 + r.IntN(2), DilW: 1 + r.IntN(2),
			PadT: r.IntN(kh), PadL: r.IntN(kw), C: 1 + r.IntN(300), FromU8: r.IntN(4) == 0}
		p.InH, p.InW = 1+r.IntN(9), 1+r.IntN(9)
		p.PadB, p.PadR = r.IntN(kh), r.IntN(kw)
		p.OutH = max(0, (p.InH+p.PadT+p.PadB-p.DilH*(kh-1)-1)/p.StrideH+1)
		p.OutW = max(0, (p.InW+p.PadL+p.PadR-p.DilW*(kw-1)-1)/p.StrideW+1)
		p.OutStride = p.C + r.IntN(3)
		p.ActMin, p.ActMax = q8Clamp(r)
		lo := []int{-128, -128, -5, 120}[r.IntN(4)] // skewed data hits the extremes
		x := newQ8Buf(p.InH*p.InW*p.C, func(int) int8 { return int8(lo + r.IntN(128-lo)) })
		pixels := p.OutH * p.OutW
		for _, avg := range []bool{false, true} {
			out := q8OutBuf(pixels, p.C, p.OutStride)
			for _, ch := range q8Chunks(r, p.OutH, max(1, p.OutH/2)) {
				if avg {
					p.Avg(x.data(), out.data(), ch[0], ch[1])
				} else {
					p.Max(x.data(), out.data(), ch[0], ch[1])
				}
			}
			requireQ8Out(t, q8PoolRef(p, x.data(), avg), out.data(), p.C, pixels, p.OutStride, q8Name("avg %v %+v", avg, *p), nil)
			out.checkGuards(t, "output")
		}
		x.checkGuards(t, "input")
	}
}

// TestQ8MeanHand checks MEAN's three algorithms on hand-computed sums.
func TestQ8MeanHand(t *testing.T) {
	run := func(m *QMean, vals []int8) int8 {
		out := make([]int8, 1)
		m.Run(vals, out, 0, 1)
		return out[0]
	}
	// Same quantisation: S/n truncated: −7/4 = −1.75 → −1; 7/4 → 1.
	same := NewQMean(4, 1, 0.1, 5, 0.1, 5)
	require.Equal(t, int8(-1), run(same, []int8{-1, -2, -2, -2}))
	require.Equal(t, int8(1), run(same, []int8{1, 2, 2, 2}))
	// FromU8 truncates the uint8 sum: (−7 + 512)/4 = 126 → −2.
	same.FromU8 = true
	require.Equal(t, int8(-2), run(same, []int8{-1, -2, -2, -2}))

	// NewQMeanFloat with the same quantisation rounds instead (halves away
	// from zero, after the zero-point bias): −7/4 → −2, 7/4 → 2; zero points
	// 5: S = −6 gives round(−1.5 − 5) + 5 = −7 + 5 = −2.
	sf := NewQMeanFloat(4, 1, 0.1, 0, 0.1, 0)
	require.Equal(t, int8(-2), run(sf, []int8{-1, -2, -2, -2}))
	require.Equal(t, int8(2), run(sf, []int8{1, 2, 2, 2}))
	sz := NewQMeanFloat(4, 1, 0.1, 5, 0.1, 5)
	require.Equal(t, int8(-2), run(sz, []int8{-1, -2, -2, -1}))

	// Float path, scale 1, zero points 0 → 5: round(±1.5) = ±2, + 5.
	f := NewQMean(2, 1, 1, 0, 1, 5)
	require.Equal(t, int8(7), run(f, []int8{1, 2}))
	require.Equal(t, int8(3), run(f, []int8{-1, -2}))
	// Scale 0.5, input zero point 1: bias = −0.5; {2, 3}: 2.5·0.5 − 0.5 =
	// 0.75 → 1; {1, 2}: 0.25 → 0; clamp at 127.
	g := NewQMean(2, 1, 0.5, 1, 1, 0)
	require.Equal(t, int8(1), run(g, []int8{2, 3}))
	require.Equal(t, int8(0), run(g, []int8{1, 2}))
	h := NewQMean(1, 1, 4, 0, 1, 0)
	require.Equal(t, int8(127), run(h, []int8{100}))
	require.Equal(t, int8(-128), run(h, []int8{-100}))

	// keep_dims: hw = 4, scales 1 → real scale 1/4: M = 2^30, S = −1, bias =
	// outZero = 0. S = −6 (−1.5): the scalar tail rounds twice away from zero
	// (SRDHM −3, then −1.5 → −2); a NEON block rounds the last shift upward
	// ((−3 + 1) >> 1 = −1). S = 6: both give 2.
	k := NewQMeanKeepDims(4, 16, 1, 0, 1, 0)
	require.Equal(t, int32(1<<30), k.mult)
	require.Equal(t, int32(-1), k.shift)
	in := make([]int8, 4*16)
	for p := 0; p < 4; p++ {
		for c := 0; c < 16; c++ {
			in[p*16+c] = []int8{-1, -2, -2, -1}[p]
			if c%2 == 1 {
				in[p*16+c] = -in[p*16+c]
			}
		}
	}
	out := make([]int8, 16)
	k.Run(in, out, 0, 16)
	require.Equal(t, []int8{-1, 2}, out[:2], "NEON block")
	out[0], out[1] = 0, 0
	k.Run(in, out, 0, 15) // 15 channels: all tail
	require.Equal(t, []int8{-2, 2}, out[:2], "scalar tail")
	k.Scalar = true
	k.Run(in, out, 0, 16)
	require.Equal(t, []int8{-2, 2}, out[:2], "Scalar")
	// keep_dims bias: zi·si/so = 3·0.5/0.25 = 6 → 6.5 → 6: bias = zo − 6.
	kb := NewQMeanKeepDims(1, 1, 0.5, 3, 0.25, 10)
	require.Equal(t, int32(4), kb.keepBias)
}

// TestQ8MeanRandom checks MEAN against the real mean of the dequantised
// input: every algorithm rounds to within one output step.
func TestQ8MeanRandom(t *testing.T) {
	r := q8Seeded(t, 32)
	for it := 0; it < 300; it++ {
		hw, c := 1+r.IntN(60), 1+r.IntN(40)
		si := float32(0.01 + r.Float64())
		so := float32(float64(si) * (0.3 + r.Float64()))
		zi, zo := q8Zero(r), q8Zero(r)
		var m *QMean
		switch r.IntN(3) {
		case 0:
			m = NewQMean(hw, c, si, zi, si, zi)
			so, zo = si, zi
		case 1:
			m = NewQMean(hw, c, si, zi, so, zo)
		default:
			m = NewQMeanKeepDims(hw, c, si, zi, so, zo)
		}
		x := q8Rand(r, hw*c, -128, 127)
		out := make([]int8, c)
		m.Run(x, out, 0, c)
		for ch := 0; ch < c; ch++ {
			s := 0.0
			for p := 0; p < hw; p++ {
				s += float64(si) * float64(int32(x[p*c+ch])-zi)
			}
			want := math.Min(math.Max(s/float64(hw)/float64(so)+float64(zo), -128), 127)
			require.InDelta(t, want, float64(out[ch]), 1.01+1e-3*math.Abs(want), "channel %d %+v", ch, *m)
		}
	}
}
