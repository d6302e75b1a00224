package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKernelBodies runs every registered non-generic body this CPU supports
// against the generic oracle. A registered body without a test here fails,
// so an untested body cannot ship.
func TestKernelBodies(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	for _, k := range Kernels() {
		if k.Path == PathGeneric {
			continue
		}
		run, ok := archKernelTests[k.Name]
		if !k.Supported {
			t.Logf("%s: not supported on this CPU/build, skipped", k.Name)
			continue
		}
		require.True(t, ok, "%s is registered but has no test in archKernelTests", k.Name)
		t.Run(k.Name, func(t *testing.T) { run(t, k) })
	}
}

func TestSelect(t *testing.T) {
	saved := Selected()
	t.Cleanup(func() { require.NoError(t, Select(saved)) })
	require.Error(t, Select("avx9000"))
	require.Equal(t, saved, Selected(), "a failed Select must not change the path")
	for _, p := range Supported() {
		require.NoError(t, Select(p))
		require.Equal(t, p, Selected())
		active := map[string]int{}
		for _, k := range Kernels() {
			if k.Active && !k.Complement {
				active[k.Op]++
				require.LessOrEqual(t, pathLevel(k.Path), pathLevel(p), "%s active on path %s", k.Name, p)
			}
		}
		for op, n := range active {
			require.Equal(t, 1, n, "op %s has %d active bodies on %s", op, n, p)
		}
	}
	require.NoError(t, Select("auto"))
	require.Equal(t, Supported()[len(Supported())-1], Selected())
	require.Equal(t, PathGeneric, Supported()[0])
}

// f32CompareToGeneric checks the float GEMM and Conv2D of the given path
// against the generic path within 1e-5 relative, over seeded random shapes
// with tails in M, N and K, OutStride > OutC, column splits and guards.
func f32CompareToGeneric(t *testing.T, path string, seed uint64) {
	noWino(t)
	r := seeded(t, seed)
	run := func(p string, f func()) {
		require.NoError(t, Select(p))
		f()
	}
	close := func(want, got []float32, what string) {
		t.Helper()
		for i := range want {
			w, g := want[i], got[i]
			if math.Float32bits(w) == math.Float32bits(g) {
				continue
			}
			d := math.Abs(float64(w) - float64(g))
			require.LessOrEqual(t, d, 1e-5*math.Max(1, math.Abs(float64(w))), "%s: element %d: generic %v, %s %v", what, i, w, path, g)
		}
	}
	shapes := [][3]int{{1, 1, 1}, {8, 8, 4}, {9, 9, 5}, {7, 3, 3}, {16, 20, 1300}, {17, 13, 17}, {3, 4, 0}, {65, 12, 600},
		// The NEON packed tile's 64-k loop and its 32/16/8/4/1 tails.
		{9, 17, 127}, {16, 8, 100}, {24, 9, 80}, {8, 8, 72}, {40, 24, 192}, {8, 16, 65}, {16, 8, 63}}
	for i := 0; i < 30; i++ {
		shapes = append(shapes, [3]int{1 + r.IntN(40), 1 + r.IntN(40), r.IntN(70)})
	}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		lda, ldc := k+r.IntN(3), n+r.IntN(3)
		clamp := []Clamp{NoClamp(), {0, float32(math.Inf(1))}, {-0.5, 0.5}}[r.IntN(3)]
		g := &Gemm{M: m, N: n, K: k, Clamp: clamp}
		a := inputGuarded(randSlice(r, max(0, (m-1)*lda+k)))
		packed := g.PackF32(randSlice(r, k*n), r.IntN(2) == 0)
		var bias []float32
		if r.IntN(3) > 0 {
			bias = randSlice(r, n)
		}
		outs := [2]*guarded{}
		for pi, p := range []string{PathGeneric, path} {
			c := newGuarded(max(0, (m-1)*ldc+n), sentinel)
			run(p, func() {
				for n0 := 0; n0 < n; {
					n1 := min(n, n0+g.ColumnBlock()*(1+r.IntN(3)))
					g.RunF32(a.data(), lda, packed, bias, c.data(), ldc, nil, n0, n1)
					n0 = n1
				}
			})
			c.checkGuards(t)
			a.checkGuards(t)
			outs[pi] = c
		}
		close(outs[0].data(), outs[1].data(), fmt.Sprintf("Gemm %dx%dx%d", m, n, k))
	}
	for i := 0; i < 25; i++ {
		cv := randomConvF32(r)
		x := inputGuarded(randSlice(r, cv.InH*cv.InW*cv.InC))
		packed := cv.PackF32(randSlice(r, cv.OutC*cv.InC/cv.Groups*cv.KH*cv.KW))
		bias := randSlice(r, cv.OutC)
		if i%2 == 1 {
			// The arm64 packed tile's doubled-bias start.
			bias = cv.PackBiasF32(bias)
		}
		outs := [2]*guarded{}
		for pi, p := range []string{PathGeneric, path} {
			out := newGuarded(cv.OutH*cv.OutW*cv.OutStride, sentinel)
			scratch := newGuarded(cv.ScratchF32(), 0)
			run(p, func() {
				tile := cv.TilePixels()
				for p0 := 0; p0 < cv.OutH*cv.OutW; p0 += tile {
					cv.RunF32(x.data(), packed, bias, out.data(), scratch.data(), p0, min(p0+tile, cv.OutH*cv.OutW))
				}
			})
			out.checkGuards(t)
			scratch.checkGuards(t)
			outs[pi] = out
		}
		close(outs[0].data(), outs[1].data(), fmt.Sprintf("Conv2D %+v", *cv))
	}
}

func randomConvF32(r *rand.Rand) *Conv2D {
	k := []int{1, 1, 3, 3, 5}[r.IntN(5)]
	s := 1 + r.IntN(2)
	g := []int{1, 1, 1, 2}[r.IntN(4)]
	inC := g * (1 + r.IntN(20))
	outC := g * (1 + r.IntN(24))
	h, w := k+r.IntN(9), k+r.IntN(9)
	pad := r.IntN(k/2 + 1)
	if k == 1 && r.IntN(2) == 0 {
		s, pad = 1, 0
	}
	oh, ow := (h+2*pad-k)/s+1, (w+2*pad-k)/s+1
	return &Conv2D{InH: h, InW: w, InC: inC, OutH: oh, OutW: ow, OutC: outC, KH: k, KW: k,
		StrideH: s, StrideW: s, DilH: 1, DilW: 1, PadT: pad, PadL: pad, Groups: g,
		OutStride: outC + r.IntN(3), Clamp: []Clamp{NoClamp(), relu6}[r.IntN(2)]}
}
