//go:build !purego

package asm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIm2colRunsZ checks im2col with q8Im2colRunsZ copying whole windows
// against the per-pixel Go copy (each window's rows by copyRuns8to32, the
// borders by copy and fill), byte for byte with guard bytes after the
// tile: runs of 8…32 bytes (KW·InC), strides 1…3, vertical dilation,
// paddings, and pixel ranges that start and end inside output rows.
func TestIm2colRunsZ(t *testing.T) {
	if hwLevel < pathLevel(PathVNNI) {
		t.Skip("CPU (or build) without AVX512F/VL/BW + VNNI: q8Im2colRunsZ cannot run here")
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)); q8Im2colZ = true })
	require.NoError(t, Select(PathVNNI))
	r := q8Seeded(t, 112)
	ran := 0
	for ci := 0; ci < 300; ci++ {
		kw := 1 + r.IntN(7)
		cin := 1 + r.IntN(12)
		if kw*cin < 8 || kw*cin > 32 {
			continue
		}
		tc := q8ConvCase{kh: 1 + r.IntN(7), kw: kw, sh: 1 + r.IntN(3), sw: 1 + r.IntN(3), dh: 1 + r.IntN(2),
			c: cin, o: 4, pt: r.IntN(4), pl: r.IntN(4), pb: r.IntN(4), pr: r.IntN(4)}
		tc.h = tc.dh*(tc.kh-1) + 1 + r.IntN(12)
		tc.w = tc.kw + r.IntN(20)
		c := tc.conv()
		if c.OutH < 1 || c.OutW < 1 || c.KH*c.KW == 1 {
			continue
		}
		c.InZero = q8Zero(r)
		in := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		total := c.OutH * c.OutW
		p0 := r.IntN(total)
		p1 := p0 + 1 + r.IntN(total-p0)
		kg := c.KH * c.KW * c.InC
		msg := fmt.Sprintf("case %d %+v pixels [%d, %d)", ci, tc, p0, p1)
		var bufs [2][]int8
		for i, z := range []bool{false, true} {
			q8Im2colZ = z
			buf := make([]int8, (p1-p0)*kg+64)
			for j := range buf {
				buf[j] = 0x5a
			}
			c.im2col(in, buf[:(p1-p0)*kg], 0, p0, p1)
			for j := (p1 - p0) * kg; j < len(buf); j++ {
				require.Equal(t, int8(0x5a), buf[j], "%s: guard byte %d written", msg, j)
			}
			bufs[i] = buf
		}
		require.Equal(t, bufs[0], bufs[1], msg)
		ran++
	}
	require.Greater(t, ran, 100, "too few cases ran")
}
