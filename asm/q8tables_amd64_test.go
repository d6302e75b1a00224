//go:build !purego

package asm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// q8Avx2TablesCheck checks the parameter tables QConv2D.Pack builds for the
// fused AVX2 tiles: Run uses them for the Requant Pack saw (1×1, im2col
// and implicit convolutions, groups, 7- and 8-bit weights, Upward and
// Double) and gives the generic body's bytes; a Requant replaced after Pack
// (new slices), a changed rounding or q8Avx2Upward1 toggled must not use
// them and must still match; Run with the tables allocates nothing.
//
// path is the kernel path to pack and run on (avx2 or avx512vnni).
func q8Avx2TablesCheck(t *testing.T, seed uint64, path string) {
	require.NoError(t, Select(path))
	r := q8Seeded(t, seed)
	for ci, tc := range []q8ConvCase{
		{h: 7, w: 9, c: 64, o: 136, kh: 1, kw: 1},                                      // 1×1, three column blocks
		{h: 6, w: 5, c: 16, o: 70, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1},           // implicit
		{h: 9, w: 8, c: 3, o: 20, kh: 3, kw: 3, sh: 2, sw: 2},                          // im2col
		{h: 5, w: 6, c: 32, o: 144, kh: 1, kw: 1, group: 2, extra: 3},                  // groups
		{h: 8, w: 8, c: 48, o: 66, kh: 2, kw: 2, pt: 1, pr: 1, sh: 1, sw: 1, extra: 1}, // 8-bit below
		{h: 4, w: 4, c: 256, o: 130, kh: 1, kw: 1, sh: 1, sw: 1},                       // deep K
	} {
		c := tc.conv()
		c.InZero = q8Zero(r)
		k := c.KH * c.KW * c.InC / c.Groups
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		w := q8Seven(r, c.OutC*k, 0, ci%2)
		if ci == 4 {
			w = q8Rand(r, c.OutC*k, -128, 127)
		}
		bias := make([]int32, c.OutC)
		for i := range bias {
			bias[i] = int32(r.IntN(1<<16) - 1<<15)
		}
		mode := []Rounding{RoundUpward, RoundDouble}[ci%2]
		c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(k))*80, mode)
		p := c.Pack(w, nil, bias)
		msg := fmt.Sprintf("case %d %+v", ci, tc)
		require.NotNil(t, p.arch.tabs, msg)
		pixels := c.OutH * c.OutW
		want := make([]int8, pixels*c.OutStride)
		got := make([]int8, pixels*c.OutStride)
		scratch := make([]byte, max(c.ScratchBytes(), (c.InH+c.PadT+4*c.KH)*(c.OutW*c.StrideW+c.KW)*c.InC))
		run := func(step string, cached bool) {
			require.Equal(t, cached, p.arch.tables(&c.Requant, c.OutC) != nil, "%s: %s: tables used", msg, step)
			clear(got)
			for _, ch := range q8Chunks(r, pixels, c.TilePixels()) {
				q8ConvGeneric(c, x, p, want, bytesAsInt8(scratch), ch[0], ch[1])
				c.Run(x, p, got, scratch, ch[0], ch[1])
			}
			require.Equal(t, want, got, "%s: %s", msg, step)
		}
		run("packed", true)
		n := min(c.TilePixels(), pixels)
		require.Zero(t, testing.AllocsPerRun(5, func() { c.Run(x, p, got, scratch, 0, n) }), msg)
		q8Avx2Upward1 = false
		run("Upward1 off", false)
		q8Avx2Upward1 = true
		run("Upward1 on again", true)
		c.Requant.Rounding = RoundUpward + RoundDouble - mode
		run("other rounding", false)
		c.Requant.Rounding = mode
		run("rounding back", true)
		c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(k))*80, mode)
		run("new Requant", false)
	}
}
