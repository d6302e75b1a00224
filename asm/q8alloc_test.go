package asm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQ8RunDoesNotAllocate checks testing.AllocsPerRun == 0 for every int8
// Run.
func TestQ8RunDoesNotAllocate(t *testing.T) {
	r := q8Seeded(t, 61)
	for _, mr := range []int{1, 2, 4} {
		for _, tc := range []q8ConvCase{
			{h: 8, w: 8, c: 16, o: 12, kh: 1, kw: 1},
			{h: 8, w: 8, c: 16, o: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, group: 2, extra: 1, wzero: 1},
		} {
			c := tc.conv()
			c.mr = mr
			c.Requant = q8RandRequant(r, c.OutC, 100, q8Roundings[mr%3])
			x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
			p := c.Pack(q8Rand(r, c.OutC*c.InC/c.Groups*c.KH*c.KW, -128, 127), []int32{3}, make([]int32, c.OutC))
			out := make([]int8, c.OutH*c.OutW*c.OutStride)
			scratch := make([]byte, c.ScratchBytes())
			n := min(c.TilePixels(), c.OutH*c.OutW)
			require.Zero(t, testing.AllocsPerRun(10, func() { c.Run(x, p, out, scratch, 0, n) }), "QConv2D mr %d %+v", mr, tc)
		}
		g := &QGemm{M: 5, N: 21, K: 70, mr: mr}
		g.Requant = q8RandRequant(r, 21, 100, RoundSingle)
		a, p := q8Rand(r, 5*70, -128, 127), g.Pack(q8Rand(r, 70*21, -128, 127), true, nil, nil)
		cOut := make([]int8, 5*21)
		require.Zero(t, testing.AllocsPerRun(10, func() { g.Run(a, 70, p, cOut, 21, nil, 8, 21) }), "QGemm mr %d", mr)
	}
	d := (&q8DWCase{h: 9, w: 9, c: 8, mult: 1, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
	d.Requant = q8RandRequant(r, 8, 30, RoundUpward)
	x := q8Rand(r, 9*9*8, -128, 127)
	dp := d.Pack(q8Rand(r, 8*9, -128, 127), nil, nil)
	out := make([]int8, 9*9*8)
	require.Zero(t, testing.AllocsPerRun(10, func() { d.Run(x, dp, out, 0, 9) }), "QDepthwiseConv2D")
	d.Mult, d.C = 2, 4
	dp = d.Pack(q8Rand(r, 8*9, -128, 127), nil, nil)
	require.Zero(t, testing.AllocsPerRun(10, func() { d.Run(x, dp, out, 0, 9) }), "QDepthwiseConv2D mult 2")

	y := q8Rand(r, len(x), -128, 127)
	add := NewQAdd(0.1, 1, 0.2, 2, 0.3, 3, -128, 127)
	mul := NewQMul(0.1, 1, 0.2, 2, 0.3, 3, -128, 127)
	require.Zero(t, testing.AllocsPerRun(10, func() { add.Run(x, y, out) }), "QAdd.Run")
	require.Zero(t, testing.AllocsPerRun(10, func() { add.RunBroadcast(x, y, out, 8) }), "QAdd.RunBroadcast")
	require.Zero(t, testing.AllocsPerRun(10, func() { add.RunScalar(x, 5, out) }), "QAdd.RunScalar")
	require.Zero(t, testing.AllocsPerRun(10, func() { mul.Run(x, y, out) }), "QMul.Run")
	require.Zero(t, testing.AllocsPerRun(10, func() { mul.RunBroadcast(x, y, out, 8) }), "QMul.RunBroadcast")
	require.Zero(t, testing.AllocsPerRun(10, func() { mul.RunScalar(x, 5, out) }), "QMul.RunScalar")

	pool := &QPool2D{InH: 9, InW: 9, C: 8, OutH: 5, OutW: 5, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1,
		PadB: 1, PadR: 1, OutStride: 8, ActMin: -128, ActMax: 127}
	require.Zero(t, testing.AllocsPerRun(10, func() { pool.Max(x, out, 0, 5) }), "QPool2D.Max")
	require.Zero(t, testing.AllocsPerRun(10, func() { pool.Avg(x, out, 0, 5) }), "QPool2D.Avg")
	mean, keep := NewQMean(81, 8, 0.1, 0, 0.05, 1), NewQMeanKeepDims(81, 8, 0.1, 0, 0.05, 1)
	require.Zero(t, testing.AllocsPerRun(10, func() { mean.Run(x, out, 0, 8) }), "QMean")
	require.Zero(t, testing.AllocsPerRun(10, func() { keep.Run(x, out, 0, 8) }), "QMean keep_dims")
	rq, cr := NewQRequantize(0.1, 3, 0.2, -4), NewQConcatRescale(0.1, 3, 0.2, -4)
	require.Zero(t, testing.AllocsPerRun(10, func() { rq.Run(x, out) }), "QRequantize")
	require.Zero(t, testing.AllocsPerRun(10, func() { cr.Run(x, out) }), "QConcatRescale")
	f := make([]float32, len(x))
	require.Zero(t, testing.AllocsPerRun(10, func() { DequantizeS8(x, f, 0.1, 3) }), "DequantizeS8")
	require.Zero(t, testing.AllocsPerRun(10, func() { QuantizeF32(f, out, 0.1, 3) }), "QuantizeF32")
	lut := NewQLogisticLUT(0.1, 0, 1.0/256, -128)
	require.Zero(t, testing.AllocsPerRun(10, func() { lut.Run(x, out) }), "QLUT")
	sm := NewQSoftmax(1, 0.1, 0, 1.0/256, -128)
	require.Zero(t, testing.AllocsPerRun(10, func() { sm.Run(x, out, 9, 72) }), "QSoftmax")
}
