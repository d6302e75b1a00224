package asm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

type dwCase struct {
	name                  string
	h, w, c, mult, kh, kw int
	sh, sw, dh, dw        int
	pt, pl, pb, pr, extra int
	clamp                 Clamp
	noBias                bool
}

func (tc dwCase) String() string {
	return fmt.Sprintf("%s/%dx%dx%dm%d_k%dx%d_s%dx%d_d%dx%d_p%d,%d,%d,%d_x%d_%s", tc.name, tc.h, tc.w, tc.c, tc.mult,
		tc.kh, tc.kw, tc.sh, tc.sw, tc.dh, tc.dw, tc.pt, tc.pl, tc.pb, tc.pr, tc.extra, clampName(tc.clamp))
}

var dwTable = []dwCase{
	{name: "mobilenet_s1", h: 9, w: 10, c: 7, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, clamp: relu6},
	{name: "mobilenet_s2", h: 9, w: 10, c: 8, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1, clamp: relu6},
	{name: "s2_tf_same", h: 8, w: 8, c: 5, kh: 3, kw: 3, sh: 2, sw: 2, pb: 1, pr: 1},
	{name: "nopad", h: 6, w: 7, c: 3, kh: 3, kw: 3},
	{name: "5x5", h: 11, w: 9, c: 6, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2, extra: 3},
	{name: "7x7_dil2", h: 15, w: 16, c: 4, kh: 7, kw: 7, dh: 2, dw: 2, pt: 6, pl: 6, pb: 6, pr: 6},
	{name: "3x3_dil3_s3", h: 13, w: 13, c: 9, kh: 3, kw: 3, sh: 3, sw: 3, dh: 3, dw: 3, pt: 3, pl: 2, pb: 1, pr: 3},
	{name: "1x7", h: 5, w: 12, c: 3, kh: 1, kw: 7, pl: 3, pr: 3},
	{name: "7x1", h: 12, w: 5, c: 3, kh: 7, kw: 1, pt: 3, pb: 3},
	{name: "2x2", h: 6, w: 6, c: 5, kh: 2, kw: 2, pb: 1, pr: 1, clamp: relu},
	{name: "4x4", h: 9, w: 9, c: 2, kh: 4, kw: 4, pt: 1, pl: 2, pb: 2, pr: 1},
	{name: "1x1", h: 3, w: 4, c: 6, kh: 1, kw: 1, clamp: relu},
	{name: "mult2", h: 6, w: 7, c: 3, mult: 2, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, clamp: relu6},
	{name: "mult3_s2", h: 7, w: 7, c: 2, mult: 3, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, extra: 2},
	{name: "1row", h: 1, w: 13, c: 4, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "1col", h: 13, w: 1, c: 4, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},
	{name: "1px", h: 1, w: 1, c: 33, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, noBias: true},
	{name: "wide_c", h: 4, w: 5, c: 67, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, noBias: true, clamp: Clamp{-0.2, 0.3}},
}

func (tc *dwCase) normalise() {
	for _, p := range []*int{&tc.sh, &tc.sw, &tc.dh, &tc.dw, &tc.mult} {
		if *p == 0 {
			*p = 1
		}
	}
	if tc.clamp == (Clamp{}) {
		tc.clamp = NoClamp()
	}
}

func runDWCase(t *testing.T, tc dwCase, seed uint64) {
	r := seeded(t, seed)
	tc.normalise()
	oh := outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, false)
	ow := outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, false)
	cm := tc.c * tc.mult
	x := randSlice(r, tc.h*tc.w*tc.c)
	wt := randSlice(r, cm*tc.kh*tc.kw)
	var bias []float32
	if !tc.noBias {
		bias = randSlice(r, cm)
	}
	d := &DepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: tc.mult, OutH: oh, OutW: ow,
		KH: tc.kh, KW: tc.kw, StrideH: tc.sh, StrideW: tc.sw, DilH: tc.dh, DilW: tc.dw, PadT: tc.pt, PadL: tc.pl,
		OutStride: cm + tc.extra, Clamp: tc.clamp}
	packed := d.PackF32(wt)
	packedCopy := append([]float32(nil), packed...)
	// Depthwise is grouped convolution with one input channel per group.
	ref := convRef(nchwFromNHWC(x, tc.h, tc.w, tc.c), tc.c, tc.h, tc.w, wt, cm, tc.kh, tc.kw, bias,
		tc.sh, tc.sw, tc.dh, tc.dw, tc.pt, tc.pl, oh, ow, tc.c, float64(tc.clamp.Min), float64(tc.clamp.Max))
	in := inputGuarded(x)
	var biasIn []float32
	if bias != nil {
		biasIn = inputGuarded(bias).data()
	}
	out := newGuarded(outLen(oh*ow, cm, d.OutStride), sentinel)
	for _, ch := range chunks(r, oh, 1+r.IntN(3)) {
		d.RunF32(in.data(), packed, biasIn, out.data(), ch[0], ch[1])
	}
	requireNHWCClose(t, ref, out.data(), cm, oh, ow, d.OutStride, tc.String())
	out.checkGuards(t)
	in.checkGuards(t)
	requireUnchanged(t, "in", x, in.data())
	requireUnchanged(t, "packed", packedCopy, packed)
	if bias != nil {
		requireUnchanged(t, "bias", bias, biasIn)
	}
}

func TestDepthwiseConv2DTable(t *testing.T) {
	for i, tc := range dwTable {
		t.Run(tc.String(), func(t *testing.T) { runDWCase(t, tc, uint64(i)) })
	}
}

func TestDepthwiseConv2DRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 40
	}
	for i := 0; i < n; i++ {
		seed := uint64(9000 + i)
		r := seeded(t, seed)
		ks := []int{1, 2, 3, 3, 3, 5, 7}
		var tc dwCase
		for {
			tc = dwCase{name: "random", h: 1 + r.IntN(14), w: 1 + r.IntN(14), c: 1 + r.IntN(19), mult: []int{1, 1, 1, 2, 3}[r.IntN(5)],
				kh: ks[r.IntN(len(ks))], kw: ks[r.IntN(len(ks))], sh: 1 + r.IntN(3), sw: 1 + r.IntN(3),
				dh: 1 + r.IntN(2), dw: 1 + r.IntN(2), pt: r.IntN(4), pl: r.IntN(4), pb: r.IntN(4), pr: r.IntN(4),
				extra: r.IntN(2) * r.IntN(4), noBias: r.IntN(4) == 0}
			if r.IntN(2) == 0 {
				tc.clamp = relu6
			}
			tc.normalise()
			if outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, false) > 0 && outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, false) > 0 {
				break
			}
		}
		t.Run(fmt.Sprintf("%d/%s", seed, tc), func(t *testing.T) { runDWCase(t, tc, seed) })
	}
}

func TestDepthwiseConv2DPackLayout(t *testing.T) {
	d := &DepthwiseConv2D{C: 2, Mult: 1, KH: 1, KW: 2}
	// ONNX [C][1][KH][KW] = {{a0, a1}, {b0, b1}} → [tap][C] = {a0, b0, a1, b1}.
	require.Equal(t, []float32{1, 3, 2, 4}, d.PackF32([]float32{1, 2, 3, 4}))
}
