package asm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// q8PoolCompare checks QPool2D.Max, QPool2D.Avg and QMean.Run on the selected path bit
// for bit against the Go bodies (run on the generic path): MobileNet /
// ResNet windows (2×2 s2, 3×3 s2 pad 1) and random ones up to 5×5 (more
// than 16 taps falls back to Go), channel counts with and without a tail,
// OutStride > C, clamps, skewed data with −128 / 127, row and channel
// sub-ranges, guard bands and unchanged inputs.
func q8PoolCompare(t *testing.T) {
	r := q8Seeded(t, 91)
	generic := func(f func()) {
		saved := level
		level = 0
		defer func() { level = saved }()
		f()
	}
	for it := 0; it < 200; it++ {
		var p *QPool2D
		switch it % 3 {
		case 0:
			p = &QPool2D{KH: 2, KW: 2, StrideH: 2, StrideW: 2}
		case 1:
			p = &QPool2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		default:
			kh, kw := 1+r.IntN(5), 1+r.IntN(5)
			p = &QPool2D{KH: kh, KW: kw, StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3), DilH: 1 + r.IntN(2),
				DilW: 1 + r.IntN(2), PadT: r.IntN(kh), PadL: r.IntN(kw), PadB: r.IntN(kh), PadR: r.IntN(kw)}
		}
		p.C = []int{16, 32, 64, 1 + r.IntN(100)}[r.IntN(4)]
		p.InH, p.InW = 1+r.IntN(10), 1+r.IntN(10)
		if it%8 == 0 {
			p.InH, p.InW = 1+r.IntN(40), 1+r.IntN(40) // long runs of whole windows
		}
		p.OutH = max(0, (p.InH+p.PadT+p.PadB-max(1, p.DilH)*(p.KH-1)-1)/p.StrideH+1)
		p.OutW = max(0, (p.InW+p.PadL+p.PadR-max(1, p.DilW)*(p.KW-1)-1)/p.StrideW+1)
		p.OutStride = p.C + r.IntN(3)
		p.ActMin, p.ActMax = q8Clamp(r)
		lo := []int{-128, -128, -5, 120}[r.IntN(4)]
		x := newQ8Buf(p.InH*p.InW*p.C, func(int) int8 { return int8(lo + r.IntN(128-lo)) })
		x0 := append([]int8(nil), x.buf...)
		n := p.OutH * p.OutW
		want, got := q8OutBuf(n, p.C, p.OutStride), q8OutBuf(n, p.C, p.OutStride)
		generic(func() { p.Max(x.data(), want.data(), 0, p.OutH) })
		for _, ch := range q8Chunks(r, p.OutH, max(1, p.OutH/2)) {
			p.Max(x.data(), got.data(), ch[0], ch[1])
		}
		require.Equal(t, want.buf, got.buf, "Max %+v", *p)
		require.Equal(t, x0, x.buf, "input changed")

		p.FromU8 = it%4 == 0
		want, got = q8OutBuf(n, p.C, p.OutStride), q8OutBuf(n, p.C, p.OutStride)
		generic(func() { p.Avg(x.data(), want.data(), 0, p.OutH) })
		for _, ch := range q8Chunks(r, p.OutH, max(1, p.OutH/2)) {
			p.Avg(x.data(), got.data(), ch[0], ch[1])
		}
		require.Equal(t, want.buf, got.buf, "Avg %+v", *p)
		require.Equal(t, x0, x.buf, "input changed")

		// MEAN over the whole image, all three algorithms.
		hw, c := p.InH*p.InW, p.C
		c0 := r.IntN(c)
		c1 := c0 + r.IntN(c-c0+1)
		for _, m := range []*QMean{NewQMean(hw, c, 0.1, 3, 0.1, 3), NewQMean(hw, c, 0.1, -7, 0.043, 11),
			NewQMeanKeepDims(hw, c, 0.1, -7, 0.043, 11), NewQMeanFloat(hw, c, 0.1, 3, 0.1, 3)} {
			m.FromU8 = it%5 == 0 && m.mode != qMeanKeepDims
			wm, gm := newQ8Buf(c, q8Gap), newQ8Buf(c, q8Gap)
			generic(func() { m.Run(x.data(), wm.data(), c0, c1) })
			m.Run(x.data(), gm.data(), c0, c1)
			require.Equal(t, wm.buf, gm.buf, "Mean mode %d, HW %d, C %d, [%d, %d)", m.mode, hw, c, c0, c1)
		}
		require.Equal(t, x0, x.buf, "input changed")
	}
}

func TestQ8PoolSIMD(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	for _, p := range Supported() {
		require.NoError(t, Select(p))
		t.Run(p, q8PoolCompare)
	}
}

func TestQ8PoolSIMDAllocs(t *testing.T) {
	p := &QPool2D{InH: 9, InW: 9, C: 40, OutH: 5, OutW: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1,
		PadB: 1, PadR: 1, OutStride: 40, ActMin: -128, ActMax: 127}
	x, out := make([]int8, 81*40), make([]int8, 25*40)
	require.Zero(t, testing.AllocsPerRun(10, func() { p.Max(x, out, 0, 5) }))
	require.Zero(t, testing.AllocsPerRun(10, func() { p.Avg(x, out, 0, 5) }))
	m := NewQMeanKeepDims(81, 40, 0.1, 0, 0.05, 1)
	require.Zero(t, testing.AllocsPerRun(10, func() { m.Run(x, out, 0, 40) }))
}

// BenchmarkQ8Pool runs ResNet-50's 3×3 s2 max pool, an Inception-style
// 3×3 s1 average pool (35×35×192) and MobileNet v2's global average (MEAN
// 7×7×1280) on every supported path.
func BenchmarkQ8Pool(b *testing.B) {
	saved := Selected()
	b.Cleanup(func() { Select(saved) })
	r := q8Seeded(b, 5)
	x := q8Rand(r, 112*112*64, -128, 127)
	out := make([]int8, 35*35*192) // the largest output below
	p := &QPool2D{InH: 112, InW: 112, C: 64, OutH: 56, OutW: 56, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1,
		PadL: 1, PadB: 1, PadR: 1, OutStride: 64, ActMin: -128, ActMax: 127}
	avg := &QPool2D{InH: 35, InW: 35, C: 192, OutH: 35, OutW: 35, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1,
		PadL: 1, PadB: 1, PadR: 1, OutStride: 192, ActMin: -128, ActMax: 127}
	m := NewQMeanFloat(49, 1280, 0.1, 3, 0.1, 3)
	for _, path := range Supported() {
		b.Run(path+"/maxpool3x3s2_112x112x64", func(b *testing.B) {
			Select(path)
			for b.Loop() {
				p.Max(x, out, 0, 56)
			}
		})
		b.Run(path+"/avgpool3x3s1_35x35x192", func(b *testing.B) {
			Select(path)
			for b.Loop() {
				avg.Avg(x, out, 0, 35)
			}
		})
		b.Run(path+"/mean_7x7x1280", func(b *testing.B) {
			Select(path)
			for b.Loop() {
				m.Run(x, out, 0, 1280)
			}
		})
	}
}
