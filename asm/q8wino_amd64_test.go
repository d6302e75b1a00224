//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// q8WinoCase is one Winograd geometry: a 3×3 stride-1 layer.
type q8WinoCase struct {
	h, w, c, o     int
	pt, pl, pb, pr int
	extra          int  // OutStride − OutC
	seven          bool // 7-bit weights (else the full int8 range)
	wzero          int  // 0 none, 1 per-tensor, 2 per-channel
	edge           bool // activations and weights at their extremes
	mode           Rounding
}

// q8WinoSetup lets the Winograd path take any size (the production
// thresholds skip small layers) and restores the settings after t.
func q8WinoSetup(t *testing.T) {
	t.Helper()
	if hwLevel < pathLevel(PathAVX2) || level < pathLevel(PathAVX2) {
		t.Skip("avx2 path not selected")
	}
	c, px, px7, pxv, on := q8WinoMinC, q8WinoMinPixels, q8WinoMinPixels7, q8WinoMinPixelsVnni, q8Avx2Wino
	t.Cleanup(func() {
		q8WinoMinC, q8WinoMinPixels, q8WinoMinPixels7, q8WinoMinPixelsVnni, q8Avx2Wino = c, px, px7, pxv, on
	})
	q8WinoMinC, q8WinoMinPixels, q8WinoMinPixels7, q8WinoMinPixelsVnni, q8Avx2Wino = 1, 1, 1, 1, true
}

// q8WinoCompare checks the Winograd path bit for bit against
// q8ConvGeneric on random geometries it must take: 1…20 and up to 512
// input and output channels (odd, below and across the 16-channel blocks
// of V and U' and the 64-column parameter blocks), images from 1×1 to odd
// sizes, paddings 0…2 per side, gaps between output pixels, 7-bit and
// 8-bit weights (at their edges, incl. −128), no, per-tensor and
// per-channel weight zero points, activations at −128 / 127 with extreme
// InZero, RoundUpward and RoundDouble, every GEMM tail, chunks of
// TilePixels row pairs
// (a short last one, any order) and of random whole row pairs, on 1 and 2
// workers, with guard bands on input, output and scratch.
func q8WinoCompare(t *testing.T, seed uint64) {
	q8WinoSetup(t)
	r := q8Seeded(t, seed)
	var cases []q8WinoCase
	for i := 0; i < 60; i++ {
		tc := q8WinoCase{c: 1 + r.IntN(20), o: 1 + r.IntN(20), pt: r.IntN(3), pl: r.IntN(3), pb: r.IntN(3), pr: r.IntN(3),
			extra: r.IntN(2) * r.IntN(9), seven: r.IntN(2) == 0, wzero: r.IntN(3), edge: i%4 == 3,
			mode: []Rounding{RoundUpward, RoundDouble}[i%2]}
		switch i % 6 {
		case 1:
			tc.c = 16 * (1 + r.IntN(4))
		case 2:
			tc.o = 16*(1+r.IntN(5)) + r.IntN(2)*r.IntN(16)
		case 5:
			tc.c, tc.o = 64+r.IntN(80), 60+r.IntN(80)
		}
		tc.h = max(1, 3-tc.pt-tc.pb) + r.IntN(9)
		tc.w = max(1, 3-tc.pl-tc.pr) + r.IntN(9)
		cases = append(cases, tc)
	}
	// Each GEMM tail (tiles mod 6 = 1…5, with and without 6-tile blocks
	// before it, for 2×2 and 3×3 tiles) in one chunk.
	for i, hw := range [][2]int{{2, 4}, {2, 6}, {4, 4}, {2, 10}, {2, 14}, {4, 8}, {6, 6}, {4, 10}, {6, 10}, {14, 14}, {9, 9}, {3, 7}} {
		cases = append(cases, q8WinoCase{h: hw[0], w: hw[1], c: 16 + 7*i, o: 17 + 5*i, pt: 1, pl: 1, pb: 1, pr: 1,
			seven: i%2 == 0, mode: []Rounding{RoundUpward, RoundDouble}[i%2]})
	}
	cases = append(cases,
		q8WinoCase{h: 1, w: 1, c: 5, o: 3, pt: 1, pl: 1, pb: 1, pr: 1, mode: RoundUpward},
		q8WinoCase{h: 7, w: 7, c: 512, o: 512, pt: 1, pl: 1, pb: 1, pr: 1, seven: true, mode: RoundUpward},
		q8WinoCase{h: 5, w: 4, c: 300, o: 70, pt: 1, pl: 1, pb: 1, pr: 1, wzero: 2, edge: true, mode: RoundDouble})
	for ci, tc := range cases {
		q8WinoCheck(t, r, ci, tc)
	}
}

func q8WinoCheck(t *testing.T, rr *rand.Rand, ci int, tc q8WinoCase) {
	c := (&q8ConvCase{h: tc.h, w: tc.w, c: tc.c, o: tc.o, kh: 3, kw: 3, pt: tc.pt, pl: tc.pl, pb: tc.pb, pr: tc.pr, extra: tc.extra}).conv()
	if c.OutH < 1 || c.OutW < 1 {
		return
	}
	c.InZero = q8Zero(rr)
	c.Workers = 1 + rr.IntN(2)
	k := 9 * c.InC
	x := q8Rand(rr, c.InH*c.InW*c.InC, -128, 127)
	var wz []int32
	switch tc.wzero {
	case 1:
		wz = []int32{int32(rr.IntN(129) - 64)}
	case 2:
		wz = make([]int32, c.OutC)
		for i := range wz {
			wz[i] = int32(rr.IntN(129) - 64)
		}
	}
	w := make([]int8, c.OutC*k)
	for o := 0; o < c.OutC; o++ {
		zw := q8ZeroAt(wz, o)
		for i := range w[o*k : (o+1)*k] {
			var d int32
			switch {
			case tc.seven && tc.edge:
				d = [2]int32{-64, 63}[rr.IntN(2)]
			case tc.seven:
				d = int32(rr.IntN(128) - 64)
			case tc.edge:
				d = [2]int32{-128, 127}[rr.IntN(2)] - zw // the int8 extremes
			default:
				d = int32(rr.IntN(256)-128) - zw
			}
			w[o*k+i] = int8(zw + d)
		}
	}
	if tc.edge {
		for i := range x {
			x[i] = [2]int8{-128, 127}[rr.IntN(2)]
		}
		c.InZero = [2]int32{-128, 127}[rr.IntN(2)]
	}
	bias := make([]int32, c.OutC)
	for i := range bias {
		bias[i] = int32(rr.IntN(1<<16) - 1<<15)
	}
	c.Requant = q8RandRequant(rr, c.OutC, math.Sqrt(float64(k))*80, tc.mode)
	q8NoUpward1(rr, &c.Requant, ci) // some blocks keep the two-round output
	p := c.Pack(w, wz, bias)
	msg := fmt.Sprintf("case %d %+v %+v", ci, tc, *c)
	require.NotNil(t, p.arch.wino, "%s: not packed for Winograd", msg)

	pixels := c.OutH * c.OutW
	want := q8OutBuf(pixels, c.OutC, c.OutStride)
	q8ConvGeneric(c, x, p, want.data(), make([]int8, pixels*k), 0, pixels)
	xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
	tile := c.TilePixels()
	mt := p.arch.wino.m
	require.Zero(t, tile%(mt*c.OutW)*(pixels-tile), "%s: tile %d not whole tile rows", msg, tile)
	// Chunks of TilePixels through Run, then of random whole row pairs
	// straight into q8ConvWino.
	for pass := 0; pass < 2; pass++ {
		got := q8OutBuf(pixels, c.OutC, c.OutStride)
		s := newQ8Buf(c.ScratchBytes(), func(int) int8 { return 0 })
		if pass == 0 {
			for _, ch := range q8Chunks(rr, pixels, tile) {
				if ch[0]%(mt*c.OutW) != 0 || (ch[1]%(mt*c.OutW) != 0 && ch[1] != pixels) {
					continue // q8Chunks' random ranges: below
				}
				require.True(t, q8ConvWino(c, xin.data(), p.arch.wino, got.data(), s.data(), ch[0], ch[1]), "%s: [%d, %d) not taken", msg, ch[0], ch[1])
			}
			// Whatever q8Chunks cut at random goes through Run (and
			// its fallbacks).
			for _, ch := range q8Chunks(rr, pixels, tile) {
				c.Run(xin.data(), p, got.data(), int8AsBytes(s.data()), ch[0], ch[1])
			}
		} else {
			pairs := q8CeilDiv(c.OutH, mt)
			for y := 0; y < pairs; {
				n := 1 + rr.IntN(min(pairs-y, max(1, tile/(mt*c.OutW))))
				p0, p1 := mt*y*c.OutW, min(pixels, mt*(y+n)*c.OutW)
				require.True(t, q8ConvWino(c, xin.data(), p.arch.wino, got.data(), s.data(), p0, p1), "%s: [%d, %d) not taken", msg, p0, p1)
				y += n
			}
		}
		require.Equal(t, want.data(), got.data(), "%s pass %d", msg, pass)
		got.checkGuards(t, "output")
		s.checkGuards(t, "scratch")
	}
	xin.checkGuards(t, "input")
	require.Equal(t, x, xin.data(), "input modified")
}

// int8AsBytes views an int8 buffer as scratch bytes.
func int8AsBytes(s []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// q8WinoRefuses checks what the Winograd path must leave to the direct
// tiles: strides, dilation, groups, other kernels, sums that could reach
// 2^31, RoundSingle, and ranges that are not whole row pairs; the results
// stay the generic body's.
func q8WinoRefuses(t *testing.T) {
	q8WinoSetup(t)
	r := q8Seeded(t, 3)
	base := q8ConvCase{h: 6, w: 7, c: 16, o: 16, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}
	for _, tc := range []struct {
		name string
		cc   q8ConvCase
		fix  func(c *QConv2D, w []int8)
	}{
		{"stride2", q8ConvCase{h: 6, w: 7, c: 16, o: 16, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1}, nil},
		{"stride1x2", q8ConvCase{h: 6, w: 7, c: 16, o: 16, kh: 3, kw: 3, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1}, nil},
		{"dilation", q8ConvCase{h: 6, w: 7, c: 16, o: 16, kh: 3, kw: 3, dh: 2, dw: 2, pt: 2, pl: 2, pb: 2, pr: 2}, nil},
		{"groups", q8ConvCase{h: 6, w: 7, c: 16, o: 16, kh: 3, kw: 3, group: 2, pt: 1, pl: 1, pb: 1, pr: 1}, nil},
		{"5x5", q8ConvCase{h: 6, w: 7, c: 16, o: 16, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2}, nil},
		{"overflow", q8ConvCase{h: 3, w: 2, c: 920, o: 3, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}, func(c *QConv2D, w []int8) {
			c.InZero = 127 // |d| up to 255, |w − 127| up to 255: 4·9·920·255² ≥ 2^31
			w[0] = -128
		}},
	} {
		c := tc.cc.conv()
		c.Requant = q8RandRequant(r, c.OutC, 2000, RoundUpward)
		w := q8Rand(r, c.OutC*c.InC/c.groups()*c.KH*c.KW, -10, 10)
		if tc.fix != nil {
			tc.fix(c, w)
		}
		p := c.Pack(w, []int32{127}, nil)
		require.True(t, p.arch.wino == nil, tc.name)
		require.Zero(t, c.winoKP, tc.name)
	}
	// Taken just below the bound (Cin = 910: 4·9·910·255² < 2^31), and
	// exact there with every activation and weight at the extremes.
	ok := (&q8ConvCase{h: 3, w: 2, c: 910, o: 3, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
	ok.InZero = 127
	ok.Requant = q8RandRequant(r, 3, 1e7, RoundUpward)
	wk := make([]int8, 3*910*9)
	for i := range wk {
		wk[i] = -128
	}
	pk := ok.Pack(wk, []int32{127}, nil)
	require.True(t, pk.arch.wino != nil, "bound")
	xk := make([]int8, 3*2*910)
	for i := range xk {
		xk[i] = -128
	}
	wantK, gotK := make([]int8, 3*2*3), make([]int8, 3*2*3)
	q8ConvGeneric(ok, xk, pk, wantK, make([]int8, 6*9*910), 0, 6)
	require.True(t, q8ConvWino(ok, xk, pk.arch.wino, gotK, make([]int8, ok.ScratchBytes()), 0, 6))
	require.Equal(t, wantK, gotK, "bound")

	// F(3×3, 3×3) up to its bound (36·9·101·255² < 2^31 ≤ 36·9·102·255²),
	// exact there at the extremes; F(2×2, 3×3) past it.
	for _, tc := range []struct{ cin, m int }{{101, 3}, {102, 2}} {
		c := (&q8ConvCase{h: 4, w: 5, c: tc.cin, o: 3, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
		c.InZero = 127
		c.Requant = q8RandRequant(r, 3, 1e7, RoundUpward)
		w := make([]int8, 3*tc.cin*9)
		for i := range w {
			w[i] = -128
		}
		p := c.Pack(w, []int32{127}, nil)
		require.Equal(t, tc.m, p.arch.wino.m, "F3 bound %d", tc.cin)
		x := make([]int8, 4*5*tc.cin)
		for i := range x {
			x[i] = -128
		}
		want, got := make([]int8, 4*5*3), make([]int8, 4*5*3)
		q8ConvGeneric(c, x, p, want, make([]int8, 20*9*tc.cin), 0, 20)
		require.True(t, q8ConvWino(c, x, p.arch.wino, got, make([]int8, c.ScratchBytes()), 0, 20))
		require.Equal(t, want, got, "F3 bound %d", tc.cin)
	}

	c := base.conv()
	c.InZero = 5
	c.Requant = q8RandRequant(r, c.OutC, 300, RoundUpward)
	w := q8Rand(r, c.OutC*c.InC*9, -128, 127)
	x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
	p := c.Pack(w, []int32{3}, nil)
	require.NotNil(t, p.arch.wino)
	out := make([]int8, c.OutH*c.OutW*c.OutStride)
	s := make([]int8, c.ScratchBytes())
	for _, rg := range [][2]int{{1, 14}, {0, 7}, {7, 21}, {14, 27}, {14, 14}} {
		require.False(t, q8ConvWino(c, x, p.arch.wino, out, s, rg[0], rg[1]), "range %v", rg)
	}
	require.False(t, q8ConvWino(c, x, p.arch.wino, out, s[:100], 0, 14), "short scratch")
	c.Requant.Rounding = RoundSingle
	require.False(t, q8ConvWino(c, x, p.arch.wino, out, s, 0, 14), "RoundSingle")
	require.Equal(t, q8TilePixelsArch(c.OutH*c.OutW, 9*c.InC, c.Workers), c.TilePixels(), "RoundSingle keeps the direct tiles' chunks")
	// Unaligned ranges, RoundSingle and the switch off run the direct tiles
	// with the same bits.
	for _, mode := range []Rounding{RoundUpward, RoundSingle} {
		c.Requant.Rounding = mode
		want := make([]int8, len(out))
		q8ConvGeneric(c, x, p, want, make([]int8, c.OutH*c.OutW*9*c.InC), 0, c.OutH*c.OutW)
		got := make([]int8, len(out))
		scratch := make([]byte, c.ScratchBytes())
		for p0 := 0; p0 < c.OutH*c.OutW; p0 += 5 {
			c.Run(x, p, got, scratch, p0, min(p0+5, c.OutH*c.OutW))
		}
		require.Equal(t, want, got, mode.String())
	}
}

// q8WinoNoAlloc checks that Run on the Winograd path does not allocate.
func q8WinoNoAlloc(t *testing.T) {
	q8WinoSetup(t)
	r := q8Seeded(t, 4)
	c := (&q8ConvCase{h: 14, w: 14, c: 64, o: 64, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
	c.Requant = q8RandRequant(r, c.OutC, 2000, RoundUpward)
	p := c.Pack(q8Rand(r, 64*64*9, -63, 63), nil, nil)
	require.NotNil(t, p.arch.wino)
	x := q8Rand(r, 14*14*64, -128, 127)
	out := make([]int8, 14*14*64)
	scratch := make([]byte, c.ScratchBytes())
	tile := c.TilePixels()
	allocs := testing.AllocsPerRun(5, func() {
		for p0 := 0; p0 < 196; p0 += tile {
			c.Run(x, p, out, scratch, p0, min(p0+tile, 196))
		}
	})
	require.Zero(t, allocs)
}

// q8WinoDefaults pins which layers the production thresholds take:
// ResNet-50's 3×3 stride-1 layers, the 7×7 ones only with weights that
// are not on the 7-bit x8 tiles, nothing below 16 channels, on the
// avx512vnni path only images of at least 28×28; and their chunks.
func q8WinoDefaults(t *testing.T) {
	if hwLevel < pathLevel(PathAVX2) || level < pathLevel(PathAVX2) {
		t.Skip("avx2 path not selected")
	}
	r := q8Seeded(t, 5)
	for _, tc := range []struct {
		hw, c  int
		seven  bool
		expect bool
	}{
		{56, 64, true, true}, {14, 256, true, true}, {14, 256, false, true},
		{7, 512, true, false}, {7, 512, false, true}, {6, 64, false, false},
		{28, 8, false, false}, {28, 15, true, false},
	} {
		if level >= pathLevel(PathVNNI) && tc.hw*tc.hw < q8WinoMinPixelsVnni {
			tc.expect = false // the direct VPDPBUSD tiles take small images
		}
		c := (&q8ConvCase{h: tc.hw, w: tc.hw, c: tc.c, o: tc.c, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
		c.Requant = q8RandRequant(r, c.OutC, 2000, RoundUpward)
		lim := 127
		if tc.seven {
			lim = 63
		}
		p := c.Pack(q8Rand(r, c.OutC*c.InC*9, -lim, lim), nil, nil)
		require.Equal(t, tc.expect, p.arch.wino != nil, "%+v", tc)
	}
	// Chunks (3×3 tiles): 4 tile rows (76 tiles) at 56², 3 (30 tiles, no
	// GEMM tail) at 28², the whole image at 14², and two per worker for
	// two.
	for _, tc := range []struct{ hw, c, workers, pixels int }{
		{56, 64, 1, 4 * 3 * 56}, {28, 128, 1, 3 * 3 * 28}, {14, 256, 1, 196}, {14, 256, 2, 2 * 3 * 14},
	} {
		if level >= pathLevel(PathVNNI) && tc.hw*tc.hw < q8WinoMinPixelsVnni {
			continue // direct tiles, their own chunks
		}
		c := (&q8ConvCase{h: tc.hw, w: tc.hw, c: tc.c, o: tc.c, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
		c.Requant = q8RandRequant(r, c.OutC, 2000, RoundUpward)
		c.Workers = tc.workers
		c.Pack(q8Rand(r, c.OutC*c.InC*9, -63, 63), nil, nil)
		require.Equal(t, tc.pixels, c.TilePixels(), "%+v", tc)
	}
}

// TestQ8Wino runs the Winograd checks on their own on the avx2 path and
// the avx512vnni one (they also run in TestKernelBodies).
func TestQ8Wino(t *testing.T) {
	for _, path := range []string{PathAVX2, PathVNNI} {
		t.Run(path, func(t *testing.T) { q8WinoChecks(t, path, 1) })
	}
}

// q8WinoChecks runs the Winograd checks as subtests on path (avx2: the
// VPMADDWD GEMMs, avx512vnni: the VPDPWSSD ones; skipped where the CPU
// lacks it), q8WinoCompare with the given seeds. q8WinoSetup's settings
// and the path end with each.
func q8WinoChecks(t *testing.T, path string, seeds ...uint64) {
	if hwLevel < pathLevel(path) {
		t.Skipf("CPU lacks the %s path: its Winograd GEMMs are not tested here", path)
	}
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.NoError(t, Select(path))
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("compare/seed=%d", seed), func(t *testing.T) { q8WinoCompare(t, seed) })
		// F(2×2, 3×3) where F(3×3, 3×3) would take the layer.
		t.Run(fmt.Sprintf("compare-f2/seed=%d", seed), func(t *testing.T) {
			defer func(f3 bool) { q8WinoF3 = f3 }(q8WinoF3)
			q8WinoF3 = false
			q8WinoCompare(t, seed)
		})
	}
	t.Run("refuses", q8WinoRefuses)
	t.Run("noalloc", q8WinoNoAlloc)
	t.Run("defaults", q8WinoDefaults)
}

// BenchmarkQ8Wino times ResNet-50's 3×3 stride-1 layers (7-bit weights,
// one thread) on the Winograd path (wino=true) and on the direct tiles
// (wino=false), on the avx2 path and (where the CPU has it) avx512vnni.
func BenchmarkQ8Wino(b *testing.B) {
	if hwLevel < pathLevel(PathAVX2) || level < pathLevel(PathAVX2) {
		b.Skip("avx2 path not selected")
	}
	defer func(on bool, path string) { q8Avx2Wino = on; _ = Select(path) }(q8Avx2Wino, Selected())
	for _, zc := range []struct{ h, c int }{{56, 64}, {28, 128}, {14, 256}, {7, 512}} {
		for _, run := range []struct {
			on   bool
			path string
		}{{false, PathAVX2}, {true, PathAVX2}, {false, PathVNNI}, {true, PathVNNI}} {
			if hwLevel < pathLevel(run.path) {
				continue
			}
			on := run.on
			name := fmt.Sprintf("%dx%dx%d/%s/wino=%v", zc.h, zc.h, zc.c, run.path, on)
			b.Run(name, func(b *testing.B) {
				q8Avx2Wino = on
				require.NoError(b, Select(run.path))
				r := q8Seeded(b, 1)
				cv := (&q8ConvCase{h: zc.h, w: zc.h, c: zc.c, o: zc.c, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1}).conv()
				cv.InZero = -3
				cv.Requant = q8RandRequant(r, zc.c, 400, RoundUpward)
				x := q8Rand(r, zc.h*zc.h*zc.c, -128, 127)
				p := cv.Pack(q8Rand(r, zc.c*zc.c*9, -63, 63), nil, make([]int32, zc.c))
				out := make([]int8, zc.h*zc.h*zc.c)
				scratch := make([]byte, cv.ScratchBytes())
				tile, pixels := cv.TilePixels(), zc.h*zc.h
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for p0 := 0; p0 < pixels; p0 += tile {
						cv.Run(x, p, out, scratch, p0, min(p0+tile, pixels))
					}
				}
			})
		}
	}
}
