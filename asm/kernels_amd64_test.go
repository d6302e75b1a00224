//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// archKernelTests maps every registered amd64 body to its test against the
// generic oracle.
var archKernelTests = map[string]func(t *testing.T, k Kernel){
	"f32_gemm_minmax_6x16__fma3_broadcast": func(t *testing.T, k Kernel) {
		for seed := uint64(1); seed <= 6; seed++ {
			f32CompareToGeneric(t, k.Path, seed)
		}
		f32WideCompareToGeneric(t, k.Path)
		f32ImplicitCompareToGeneric(t, k.Path)
		f32ArchNoAlloc(t, k.Path)
	},
	"f32_conv3x3_winograd_f2_transforms_c8__avx2": func(t *testing.T, k Kernel) {
		winoTransformsCompare(t)
		winoConvCompare(t, k.Path)
		winoRefusals(t, k.Path)
		winoNoAlloc(t, k.Path)
	},
	"f32_dwconv3x3_minmax_c8__fma3": func(t *testing.T, k Kernel) {
		for seed := uint64(1); seed <= 3; seed++ {
			dwCompareToGeneric(t, k.Path, seed)
		}
	},
	"qs8_qc8w_gemm_requant_3x4c16__avx2": func(t *testing.T, k Kernel) {
		require.NoError(t, Select(PathAVX2)) // the avx2 bodies, also on VNNI CPUs
		for seed := uint64(77); seed <= 79; seed++ {
			q8Avx2Compare(t, seed)
		}
		q8Avx2NoAlloc(t)
	},
	"qs8_qc7w_gemm_requant_3x4c32__avx2_maddubs": func(t *testing.T, k Kernel) {
		require.NoError(t, Select(PathAVX2))
		for seed := uint64(81); seed <= 83; seed++ {
			q8Avx2UBCompare(t, seed)
		}
		q8Avx2UBEdge(t)
		q8Avx2UBNoAlloc(t)
		for seed := uint64(84); seed <= 86; seed++ {
			q8Avx2ImplicitCompare(t, seed, false, false)
		}
		q8WinoChecks(t, PathAVX2, 87, 88)
		q8Avx2Upward1Edge(t, 89, false)
		q8Avx2TablesCheck(t, 90, PathAVX2)
	},
	"qs8_qc8w_gemm_requant_4x16c4__avx512vnni": func(t *testing.T, k Kernel) {
		require.NoError(t, Select(PathVNNI))
		for seed := uint64(101); seed <= 103; seed++ {
			q8Avx2Compare(t, seed) // 8-bit weights (those outside int8 stay on avx2 tiles)
		}
		for seed := uint64(104); seed <= 106; seed++ {
			q8Avx2UBCompare(t, seed) // 7-bit weights
		}
		q8VnniEdge(t)
		q8Avx2TablesCheck(t, 108, PathVNNI)
		q8VnniNoAlloc(t)
	},
	"qs8_qc8w_igemm_requant_4x64c4__avx512vnni": func(t *testing.T, k Kernel) {
		require.NoError(t, Select(PathVNNI))
		for seed := uint64(141); seed <= 142; seed++ {
			q8Avx2ImplicitCompare(t, seed, false, true)
			q8Avx2ImplicitCompare(t, seed+10, true, true)
		}
	},
	"qs8_qc8w_gemm_requant_4x64c4__avx512vnni": func(t *testing.T, k Kernel) {
		require.NoError(t, Select(PathVNNI))
		q8VnniC4ZShapes(t)
	},
	"qs8_qc8w_gemm_requant_3x8c16__avx512vnni": func(t *testing.T, k Kernel) {
		require.NoError(t, Select(PathVNNI))
		defer func(on bool) { q8VnniC4 = on }(q8VnniC4)
		q8VnniC4 = false // QGemm and 1×1 layers on the x8 VNNI tiles too
		for seed := uint64(131); seed <= 132; seed++ {
			q8Avx2Compare(t, seed)
			q8Avx2UBCompare(t, seed+10)
		}
		q8VnniEdge(t)
		q8Avx2Upward1Edge(t, 107, true)
		q8Avx2TablesCheck(t, 133, PathVNNI)
	},
	"qs8_qc8w_igemm_requant_3x8c16__avx512vnni": func(t *testing.T, k Kernel) {
		require.NoError(t, Select(PathVNNI))
		for seed := uint64(111); seed <= 113; seed++ {
			q8Avx2ImplicitCompare(t, seed, false, false)
			q8Avx2ImplicitCompare(t, seed+10, true, false)
		}
	},
	"qs8_qc8w_dwconv3x3_requant_c16__avx2": func(t *testing.T, k Kernel) {
		for seed := uint64(91); seed <= 94; seed++ {
			q8DWAvx2Compare(t, seed)
		}
		q8DWAvx2NoAlloc(t)
	},
	"qs8_conv3x3_winograd_gemm_6x16c2__avx512vnni": func(t *testing.T, k Kernel) {
		q8WinoChecks(t, k.Path, 95, 96)
	},
}

// q8Avx2Compare checks the AVX2 int8 GEMM tiles bit for bit against the
// generic body, through QConv2D (the table and random geometries, every
// rounding, zero-point extremes, −128 weights with weight zero points so
// that weight − zero point reaches ±255, im2col and direct 1×1, groups,
// pixel chunks) and QGemm (depths around the 16-k block, column ranges,
// A buffers that end exactly at the last row, so the K tail is taken in
// Go), with guard bands.
func q8Avx2Compare(t *testing.T, seed uint64) {
	r := q8Seeded(t, seed)
	cases := append([]q8ConvCase(nil), q8ConvTable...)
	for i := 0; i < 60; i++ {
		cases = append(cases, randomQ8ConvCase(r))
	}
	for ci, tc := range cases {
		c := tc.conv()
		c.InZero = q8Zero(r)
		cg := c.InC / c.Groups
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		w := q8Rand(r, c.OutC*cg*c.KH*c.KW, -128, 127)
		var zw []int32
		switch {
		case ci%5 == 1:
			zw = []int32{127} // w − zw down to −255
		case ci%5 == 2:
			zw = []int32{-128} // w − zw up to 255
		case tc.wzero > 0:
			zw = []int32{q8Zero(r)}
		}
		if ci%7 == 3 {
			for i := range w {
				w[i] = -128 // extreme products everywhere
			}
			for i := range x {
				x[i] = -128
			}
			zw, c.InZero = []int32{127}, 127
		}
		var bias []int32
		if !tc.noBias {
			bias = make([]int32, c.OutC)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<16) - 1<<15)
			}
		}
		mode := Rounding(ci % 3)
		c.Requant = q8RandRequant(r, c.OutC, math.Sqrt(float64(c.KH*c.KW*cg))*150, mode)
		q8NoUpward1(r, &c.Requant, ci)
		p := c.Pack(w, zw, bias)
		np := q8PackArchFor(p, c.Groups)
		checkQ8ConvArch(t, r, c, x, p, np, fmt.Sprintf("case %d %s %+v", ci, tc.name, *c))
	}
	// QGemm with depths around the 16-k block, a long one, and column
	// ranges that start at multiples of 8 and end anywhere.
	for _, k := range []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 64, 100, 1000, 4099} {
		for _, mn := range [][2]int{{1, 1}, {3, 4}, {2, 8}, {4, 5}, {9, 17}, {7, 70}, {16, 131}} {
			m, n := mn[0], mn[1]
			lda, ldc := k+r.IntN(3), n+r.IntN(3)
			g := &QGemm{M: m, N: n, K: k, InZero: q8Zero(r)}
			b := q8Rand(r, k*n, -128, 127)
			bias := make([]int32, n)
			for i := range bias {
				bias[i] = int32(r.IntN(1<<20) - 1<<19)
			}
			var zw []int32
			if k%2 == 1 {
				zw = make([]int32, n)
				for i := range zw {
					zw[i] = q8Zero(r)
				}
			}
			g.Requant = q8RandRequant(r, n, math.Sqrt(float64(k+1))*150, Rounding(k%3))
			q8NoUpward1(r, &g.Requant, k+m)
			p := g.Pack(b, k%2 == 0, zw, bias)
			np := q8PackArchFor(p, 1)
			a := newQ8Buf(max(0, (m-1)*lda+k), func(int) int8 { return int8(r.IntN(256) - 128) })
			checkQ8GemmArch(t, r, g, a, lda, ldc, p, np)
		}
	}
}

// q8Avx2NoAlloc checks that QConv2D.Run (im2col and direct) and QGemm.Run
// on the avx2 path do not allocate and really run the AVX2 tiles.
func q8Avx2NoAlloc(t *testing.T) {
	require.NoError(t, Select(PathAVX2))
	r := q8Seeded(t, 61)
	for _, tc := range []q8ConvCase{
		{h: 8, w: 8, c: 16, o: 12, kh: 1, kw: 1},
		{h: 8, w: 8, c: 16, o: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, group: 2, extra: 1, wzero: 1},
	} {
		c := tc.conv()
		c.Requant = q8RandRequant(r, c.OutC, 100, RoundSingle)
		x := q8Rand(r, c.InH*c.InW*c.InC, -128, 127)
		p := c.Pack(q8Rand(r, c.OutC*c.InC/c.Groups*c.KH*c.KW, -128, 127), []int32{3}, make([]int32, c.OutC))
		require.NotNil(t, p.arch, "QConv2D.Pack on avx2 did not repack")
		require.False(t, p.arch.ub, "8-bit weights packed for the 7-bit c32 tiles")
		out := make([]int8, c.OutH*c.OutW*c.OutStride)
		scratch := make([]byte, c.ScratchBytes())
		n := min(c.TilePixels(), c.OutH*c.OutW)
		require.Zero(t, testing.AllocsPerRun(10, func() { c.Run(x, p, out, scratch, 0, n) }), "QConv2D %+v", tc)
	}
	g := &QGemm{M: 5, N: 21, K: 70}
	g.Requant = q8RandRequant(r, 21, 100, RoundDouble)
	a, p := q8Rand(r, 5*70, -128, 127), g.Pack(q8Rand(r, 70*21, -128, 127), true, nil, nil)
	require.NotNil(t, p.arch, "QGemm.Pack on avx2 did not repack")
	cOut := make([]int8, 5*21)
	require.Zero(t, testing.AllocsPerRun(10, func() { g.Run(a, 70, p, cOut, 21, nil, 8, 21) }), "QGemm")
}

// TestQ8KernelsPinned runs this test binary again with EDGEINFER_KERNELS
// set to each supported path and checks that int8 weights are packed for
// that path's tiles (and only there) and that Kernels marks the matching
// qgemm body active.
func TestQ8KernelsPinned(t *testing.T) {
	if want := os.Getenv("EDGEINFER_Q8_PINNED"); want != "" {
		require.Equal(t, want, Selected())
		g := &QGemm{M: 1, N: 8, K: 16, Requant: Requant{Mult: make([]int32, 8), Shift: make([]int32, 8), Max: 127}}
		p := g.Pack(make([]int8, 16*8), false, nil, nil)
		require.Equal(t, want != PathGeneric, p.arch != nil, "path %s", want)
		// 8-bit weights take the VPDPBUSD tiles on the avx512vnni path only.
		g8 := &QGemm{M: 1, N: 16, K: 64, Requant: Requant{Mult: make([]int32, 16), Shift: make([]int32, 16), Max: 127}}
		w8 := make([]int8, 64*16)
		for i := range w8 {
			w8[i] = int8(i*37) | -128
		}
		p8 := g8.Pack(w8, false, nil, nil)
		require.Equal(t, want == PathVNNI, p8.arch != nil && p8.arch.vnni && p8.arch.c4 && p8.arch.ub, "path %s", want)
		// The active qgemm body is the pinned path's own, or the one it
		// inherits from the path below when it has none.
		own := false
		for _, k := range Kernels() {
			own = own || k.Op == "qgemm" && k.Path == want && !k.Complement
		}
		for _, k := range Kernels() {
			if k.Op == "qgemm" && k.Active && !k.Complement {
				if own {
					require.Equal(t, want, k.Path, "%s active", k.Name)
				} else {
					require.Equal(t, paths[pathLevel(want)-1], k.Path, "%s active", k.Name)
				}
			}
		}
		return
	}
	for _, path := range Supported() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestQ8KernelsPinned$", "-test.count=1")
		cmd.Env = append(os.Environ(), EnvKernels+"="+path, "EDGEINFER_Q8_PINNED="+path)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s=%s:\n%s", EnvKernels, path, out)
		require.Contains(t, string(out), "PASS", "%s=%s", EnvKernels, path)
	}
}

// dwCompareToGeneric checks DepthwiseConv2D.RunF32 on the given path against
// the generic path within 1e-5 relative: random 3×3 geometries with 8..48
// channels (and a few that the path must hand back to the generic body),
// strides and dilations 1..2, asymmetric padding, OutStride > C, no bias,
// row chunks, guard bands, and no allocations.
func dwCompareToGeneric(t *testing.T, path string, seed uint64) {
	r := seeded(t, seed)
	for i := 0; i < 60; i++ {
		tc := dwCase{name: "avx2", h: 1 + r.IntN(20), w: 1 + r.IntN(30), c: 8 * (1 + r.IntN(6)), kh: 3, kw: 3,
			sh: 1 + r.IntN(2), sw: 1 + r.IntN(2), dh: 1 + r.IntN(2), dw: 1 + r.IntN(2),
			pt: r.IntN(3), pl: r.IntN(3), pb: r.IntN(3), pr: r.IntN(3), extra: r.IntN(2) * r.IntN(4), noBias: r.IntN(4) == 0}
		switch i % 10 {
		case 0:
			tc.c = 1 + r.IntN(20) // not a multiple of 8: generic
		case 1:
			tc.mult = 2
		}
		if r.IntN(2) == 0 {
			tc.clamp = relu6
		}
		tc.normalise()
		oh := outDim(tc.h, tc.kh, tc.sh, tc.dh, tc.pt, tc.pb, false)
		ow := outDim(tc.w, tc.kw, tc.sw, tc.dw, tc.pl, tc.pr, false)
		if oh <= 0 || ow <= 0 {
			continue
		}
		cm := tc.c * tc.mult
		d := &DepthwiseConv2D{InH: tc.h, InW: tc.w, C: tc.c, Mult: tc.mult, OutH: oh, OutW: ow,
			KH: 3, KW: 3, StrideH: tc.sh, StrideW: tc.sw, DilH: tc.dh, DilW: tc.dw, PadT: tc.pt, PadL: tc.pl,
			OutStride: cm + tc.extra, Clamp: tc.clamp}
		x := inputGuarded(randSlice(r, tc.h*tc.w*tc.c))
		packed := d.PackF32(randSlice(r, cm*9))
		var bias []float32
		if !tc.noBias {
			bias = inputGuarded(randSlice(r, cm)).data()
		}
		rows := chunks(r, oh, 1+r.IntN(3))
		outs := [2]*guarded{}
		for pi, p := range []string{PathGeneric, path} {
			require.NoError(t, Select(p))
			out := newGuarded(outLen(oh*ow, cm, d.OutStride), sentinel)
			for _, ch := range rows {
				d.RunF32(x.data(), packed, bias, out.data(), ch[0], ch[1])
			}
			out.checkGuards(t)
			x.checkGuards(t)
			outs[pi] = out
		}
		want, got := outs[0].data(), outs[1].data()
		for j := range want {
			if math.Float32bits(want[j]) == math.Float32bits(got[j]) {
				continue
			}
			diff := math.Abs(float64(want[j]) - float64(got[j]))
			require.LessOrEqual(t, diff, 1e-5*math.Max(1, math.Abs(float64(want[j]))), "%s: element %d: generic %v, %s %v", tc, j, want[j], path, got[j])
		}
		o := outs[1].data()
		require.Zero(t, testing.AllocsPerRun(5, func() { d.RunF32(x.data(), packed, bias, o, 0, oh) }), "%s", tc)
	}
}

// f32WideCompareToGeneric checks Conv2D.RunF32 on the given path against the
// generic path, both reading the same wide-panel weights, on layers large
// enough for several tiles of tilePixelsWide (balanced last tile), k blocks
// (K > f32GemmKC with more than 6 rows), column tails of 1..15 past the last
// 16-column panel, and groups; within 1e-5 relative, with guard bands.
func f32WideCompareToGeneric(t *testing.T, path string) {
	noWino(t)
	r := seeded(t, 21)
	for _, cv := range []*Conv2D{
		{InH: 14, InW: 13, InC: 70, OutH: 14, OutW: 13, OutC: 45, KH: 3, KW: 3, PadT: 1, PadL: 1},
		{InH: 7, InW: 7, InC: 600, OutH: 7, OutW: 7, OutC: 37, KH: 1, KW: 1},
		{InH: 15, InW: 15, InC: 24, OutH: 8, OutW: 8, OutC: 61, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1},
		{InH: 9, InW: 9, InC: 64, OutH: 9, OutW: 9, OutC: 40, KH: 3, KW: 3, PadT: 1, PadL: 1, Groups: 2},
		{InH: 20, InW: 20, InC: 8, OutH: 20, OutW: 20, OutC: 24, KH: 1, KW: 1},
	} {
		cv.StrideH, cv.StrideW = max(1, cv.StrideH), max(1, cv.StrideW)
		cv.DilH, cv.DilW, cv.Groups = 1, 1, max(1, cv.Groups)
		cv.OutStride, cv.Clamp = cv.OutC+r.IntN(3), relu6
		require.NoError(t, Select(path))
		x := inputGuarded(randSlice(r, cv.InH*cv.InW*cv.InC))
		packed := cv.PackF32(randSlice(r, cv.OutC*cv.InC/cv.Groups*cv.KH*cv.KW))
		require.True(t, cv.wide, "%+v: not packed wide on %s", *cv, path)
		bias := randSlice(r, cv.OutC)
		tile, pixels := cv.TilePixels(), cv.OutH*cv.OutW
		outs := [2]*guarded{}
		for pi, p := range []string{PathGeneric, path} {
			require.NoError(t, Select(p))
			out := newGuarded(pixels*cv.OutStride, sentinel)
			scratch := newGuarded(cv.ScratchF32(), 0)
			for p0 := 0; p0 < pixels; p0 += tile {
				cv.RunF32(x.data(), packed, bias, out.data(), scratch.data(), p0, min(p0+tile, pixels))
			}
			out.checkGuards(t)
			scratch.checkGuards(t)
			x.checkGuards(t)
			outs[pi] = out
		}
		want, got := outs[0].data(), outs[1].data()
		for j := range want {
			if math.Float32bits(want[j]) == math.Float32bits(got[j]) {
				continue
			}
			d := math.Abs(float64(want[j]) - float64(got[j]))
			require.LessOrEqual(t, d, 1e-5*math.Max(1, math.Abs(float64(want[j]))), "%+v: element %d: generic %v, %s %v", *cv, j, want[j], path, got[j])
		}
	}
}

// f32ArchNoAlloc checks that Gemm.RunF32 and Conv2D.RunF32 on the given path
// do not allocate, with column tails that go through the stack tile
// (TestRunDoesNotAllocate pins the generic tilings).
func f32ArchNoAlloc(t *testing.T, path string) {
	require.NoError(t, Select(path))
	r := seeded(t, 12)
	g := &Gemm{M: 9, N: 21, K: 600, Clamp: relu6}
	a, packed, bias := randSlice(r, 9*600), g.PackF32(randSlice(r, 600*21), true), randSlice(r, 21)
	c := make([]float32, 9*21)
	require.Zero(t, testing.AllocsPerRun(10, func() { g.RunF32(a, 600, packed, bias, c, 21, nil, 4, 21) }), "Gemm on %s", path)
	cv := &Conv2D{InH: 9, InW: 9, InC: 20, OutH: 9, OutW: 9, OutC: 27, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1,
		PadT: 1, PadL: 1, Groups: 1, OutStride: 29, Clamp: relu6}
	x := randSlice(r, cv.InH*cv.InW*cv.InC)
	cp := cv.PackF32(randSlice(r, cv.OutC*cv.InC*cv.KH*cv.KW))
	out := make([]float32, cv.OutH*cv.OutW*cv.OutStride)
	scratch := make([]float32, cv.ScratchF32())
	cb, tile := randSlice(r, cv.OutC), cv.TilePixels()
	require.Zero(t, testing.AllocsPerRun(10, func() { cv.RunF32(x, cp, cb, out, scratch, 0, tile) }), "Conv2D on %s", path)
}

// q8ArchLayouts is np and p packed (groups groups) for the other panel
// width of np's family: the 8-column x8 tiles for a 4-column np (c16 or
// c32) and the 4-column ones for an x8 np, so that each comparison runs
// both whatever K selected.
//
// A VNNI np (any int8 weights) gets the other VNNI layout (c4 or x8) and
// the 4-column layout its weights take on the avx2 path: c32 for 7-bit
// weights with K > 16, else c16.
func q8ArchLayouts(p *QPacked, groups int, np *q8ArchPacked) []*q8ArchPacked {
	if np.vnni {
		other := q8PackArchC4(p, groups)
		if np.c4 {
			other = q8PackArchX8(p, groups, true)
			other.vnni, other.seven = true, q8Fits7(p)
		}
		return []*q8ArchPacked{np, other, q8PackArchAs(p, groups, p.k > q8Avx2KR && q8Fits7(p))}
	}
	if np.x8 {
		return []*q8ArchPacked{np, q8PackArchAs(p, groups, np.ub)}
	}
	return []*q8ArchPacked{np, q8PackArchX8(p, groups, np.ub)}
}

// checkQ8ConvArch runs c over x with the generic body and with the AVX2
// tiles (np, packed from p, and q8ArchLayouts' other layout; the 7-bit x8
// layout with and without q8ConvImplicit) in random row chunks and requires the same bytes, guard bands intact around output,
// input and scratch, and the input unchanged.
func checkQ8ConvArch(t *testing.T, r *rand.Rand, c *QConv2D, x []int8, p *QPacked, np *q8ArchPacked, msg string) {
	t.Helper()
	defer func(v, one bool) { q8Avx2Implicit, q8Avx2Upward1 = v, one }(q8Avx2Implicit, q8Avx2Upward1)
	for _, np := range q8ArchLayouts(p, c.groups(), np) {
		for _, implicit := range []bool{true, false} {
			if !implicit && !(np.x8 && np.ub) {
				continue // q8ConvImplicit takes only the 7-bit x8 layout
			}
			for _, one := range q8Upward1Forms(np, &c.Requant) {
				q8Avx2Implicit, q8Avx2Upward1 = implicit, one
				checkQ8ConvArchOne(t, r, c, x, p, np, fmt.Sprintf("%s (x8 %v, ub %v, vnni %v, implicit %v, Upward1 %v)", msg, np.x8, np.ub, np.vnni, implicit, one))
			}
		}
	}
}

// q8Upward1Forms lists the q8Avx2Upward1 settings to test np and rq with:
// both for RoundUpward on the x8 tiles (the Upward1 form where
// q8Avx2Params1 accepts a block, and the two-rounding form), else one.
func q8Upward1Forms(np *q8ArchPacked, rq *Requant) []bool {
	if np.x8 && rq.Rounding == RoundUpward {
		return []bool{true, false}
	}
	return []bool{true}
}

func checkQ8ConvArchOne(t *testing.T, r *rand.Rand, c *QConv2D, x []int8, p *QPacked, np *q8ArchPacked, msg string) {
	t.Helper()
	pixels := c.OutH * c.OutW
	xin := newQ8Buf(len(x), func(i int) int8 { return x[i] })
	want := q8OutBuf(pixels, c.OutC, c.OutStride)
	got := q8OutBuf(pixels, c.OutC, c.OutStride)
	s1 := make([]byte, c.ScratchBytes())
	s2 := newQ8Buf(c.ScratchBytes(), func(int) int8 { return 0 })
	for _, ch := range q8Chunks(r, pixels, c.TilePixels()) {
		q8ConvGeneric(c, xin.data(), p, want.data(), bytesAsInt8(s1), ch[0], ch[1])
		q8ConvArch(c, xin.data(), p, np, got.data(), s2.data(), ch[0], ch[1])
	}
	require.Equal(t, want.data(), got.data(), msg)
	got.checkGuards(t, "output")
	xin.checkGuards(t, "input")
	s2.checkGuards(t, "scratch")
	require.Equal(t, x, xin.data(), "input modified")
}

// checkQ8GemmArch runs g's rows over a (row stride lda) for a random column
// range with the generic body and with the AVX2 tiles (np, packed from p,
// and q8ArchLayouts' other layout) and requires the same bytes (row stride
// ldc), with guard bands intact around C and A.
func checkQ8GemmArch(t *testing.T, r *rand.Rand, g *QGemm, a *q8Buf, lda, ldc int, p *QPacked, np *q8ArchPacked) {
	t.Helper()
	defer func(one bool) { q8Avx2Upward1 = one }(q8Avx2Upward1)
	for _, np := range q8ArchLayouts(p, 1, np) {
		for _, one := range q8Upward1Forms(np, &g.Requant) {
			q8Avx2Upward1 = one
			checkQ8GemmArchOne(t, r, g, a, lda, ldc, p, np)
		}
	}
}

func checkQ8GemmArchOne(t *testing.T, r *rand.Rand, g *QGemm, a *q8Buf, lda, ldc int, p *QPacked, np *q8ArchPacked) {
	t.Helper()
	m, n, k := g.M, g.N, g.K
	want := newQ8Buf(max(0, (m-1)*ldc+n), q8Gap)
	got := newQ8Buf(max(0, (m-1)*ldc+n), q8Gap)
	n0 := 8 * r.IntN(q8CeilDiv(n, 8))
	n1 := n0 + 1 + r.IntN(n-n0)
	q8GemmBlock(q8GemmDefaultMR, m, k, a.data(), lda, p.w, p.bias, &g.Requant, 0, want.data(), ldc, n0, n1)
	q8GemmArch(g, a.data(), lda, p, np, got.data(), ldc, n0, n1)
	require.Equal(t, want.data(), got.data(), "QGemm %dx%dx%d columns [%d, %d) (x8 %v, ub %v, vnni %v, Upward1 %v)", m, n, k, n0, n1, np.x8, np.ub, np.vnni, q8Avx2Upward1)
	got.checkGuards(t, "C")
	a.checkGuards(t, "A")
}
