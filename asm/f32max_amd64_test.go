//go:build !purego

package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMaxPoolF32AVX2 checks Pool2D.MaxF32 on the avx2 path (interior runs
// on f32MaxPoolAvx2) bit for bit against a scalar Go loop with the generic
// body's order (first valid tap copied, the others folded with Go's max in
// kh, kw order), over random shapes with C a multiple of 8 (1 to 9 blocks:
// the 4-block and 1-block loops), strides, dilations, paddings and ceil
// mode, inputs sprinkled with signed zeros, infinities and NaN payloads,
// and a ResNet stem pool.
func TestMaxPoolF32AVX2(t *testing.T) {
	if hwLevel < pathLevel(PathAVX2) {
		t.Skip("avx2 not supported")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(PathAVX2))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002), 1, -1}
	cases := []poolCase{{name: "resnet_stem", h: 112, w: 112, c: 64, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1}}
	r := seeded(t, 43)
	for len(cases) < 150 {
		tc := poolCase{name: "random", h: 1 + r.IntN(14), w: 1 + r.IntN(14), c: 8 * (1 + r.IntN(9)),
			kh: 1 + r.IntN(4), kw: 1 + r.IntN(4), sh: 1 + r.IntN(3), sw: 1 + r.IntN(3),
			dh: 1 + r.IntN(2), dw: 1 + r.IntN(2), extra: 8 * r.IntN(2), ceil: r.IntN(2) == 0}
		tc.pt, tc.pl, tc.pb, tc.pr = r.IntN(tc.kh), r.IntN(tc.kw), r.IntN(tc.kh), r.IntN(tc.kw)
		if outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, tc.ceil) > 0 && outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, tc.ceil) > 0 {
			cases = append(cases, tc)
		}
	}
	for i, tc := range cases {
		tc.normalise()
		oh := outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, tc.ceil)
		ow := outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, tc.ceil)
		x := randSlice(r, tc.h*tc.w*tc.c)
		for j := range x {
			if r.IntN(4) == 0 {
				x[j] = special[r.IntN(len(special))]
			}
		}
		p := &Pool2D{InH: tc.h, InW: tc.w, C: tc.c, OutH: oh, OutW: ow, KH: tc.kh, KW: tc.kw,
			StrideH: tc.sh, StrideW: tc.sw, DilH: tc.dh, DilW: tc.dw, PadT: tc.pt, PadL: tc.pl, PadB: tc.pb, PadR: tc.pr,
			OutStride: tc.c + tc.extra}
		in := inputGuarded(x)
		out := newGuarded(outLen(oh*ow, tc.c, p.OutStride), sentinel)
		for _, ch := range chunks(r, oh, 1+r.IntN(3)) {
			p.MaxF32(in.data(), out.data(), ch[0], ch[1])
		}
		out.checkGuards(t)
		in.checkGuards(t)
		got := out.data()
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < tc.c; c++ {
					want, first := float32(math.Inf(-1)), true
					for kh := 0; kh < tc.kh; kh++ {
						iy := oy*tc.sh - tc.pt + kh*tc.dh
						for kw := 0; kw < tc.kw; kw++ {
							ix := ox*tc.sw - tc.pl + kw*tc.dw
							if iy < 0 || iy >= tc.h || ix < 0 || ix >= tc.w {
								continue
							}
							v := x[(iy*tc.w+ix)*tc.c+c]
							if first {
								want, first = v, false
							} else {
								want = max(want, v)
							}
						}
					}
					g := got[(oy*ow+ox)*p.OutStride+c]
					require.Equal(t, math.Float32bits(want), math.Float32bits(g), "case %d %s: pixel (%d, %d) channel %d", i, tc, oy, ox, c)
				}
			}
		}
	}
}
