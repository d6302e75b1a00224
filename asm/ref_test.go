package asm

// Independent references and test plumbing. The references follow ONNX
// semantics on NCHW / OIHW data in float64 and share no code with the
// kernels; nhwc/nchw transposes connect the two layouts.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// sentinel marks guard and gap elements; its bit pattern is checked exactly.
var sentinel = math.Float32frombits(0x7fc0dead) // a NaN no kernel produces

const guard = 37 // guard elements on each side of a carved buffer

// guarded is a test buffer with guard bands around the part a kernel sees.
type guarded struct {
	buf  []float32
	n    int
	fill float32
}

// newGuarded carves n elements from a larger buffer whose guards hold
// sentinel. The interior is filled with fill.
func newGuarded(n int, fill float32) *guarded {
	g := &guarded{buf: make([]float32, n+2*guard), n: n, fill: fill}
	for i := range g.buf {
		g.buf[i] = sentinel
	}
	for i := range g.data() {
		g.buf[guard+i] = fill
	}
	return g
}

// data is the interior. Its capacity reaches into the back guard, so an
// overrun through reslicing lands in a guard instead of panicking.
func (g *guarded) data() []float32 { return g.buf[guard : guard+g.n] }

// checkGuards fails if a guard element changed.
func (g *guarded) checkGuards(t testing.TB) {
	t.Helper()
	for i := 0; i < guard; i++ {
		require.Equal(t, math.Float32bits(sentinel), math.Float32bits(g.buf[i]), "front guard %d overwritten", guard-i)
		require.Equal(t, math.Float32bits(sentinel), math.Float32bits(g.buf[guard+g.n+i]), "back guard +%d overwritten", i)
	}
}

// randSlice returns n values uniform in [-1, 1).
func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// inputGuarded returns a guarded copy of src whose guards are NaN, so a
// kernel that reads past its input poisons its output.
func inputGuarded(src []float32) *guarded {
	g := newGuarded(len(src), 0)
	copy(g.data(), src)
	return g
}

// requireUnchanged checks that a read-only input kept its contents.
func requireUnchanged(t testing.TB, what string, want, got []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			require.FailNowf(t, "input modified", "%s[%d] = %v, was %v", what, i, got[i], want[i])
		}
	}
}

// tolerance is 1e-5 of the largest |reference| value (summation order
// differs from the reference), with a floor for all-zero outputs.
func tolerance(ref []float64) float64 {
	m := 0.0
	for _, v := range ref {
		m = max(m, math.Abs(v))
	}
	return max(m, 1e-3) * 1e-5
}

// nchwFromNHWC transposes one image.
func nchwFromNHWC(x []float32, h, w, c int) []float32 {
	y := make([]float32, len(x))
	for ch := 0; ch < c; ch++ {
		for i := 0; i < h*w; i++ {
			y[ch*h*w+i] = x[i*c+ch]
		}
	}
	return y
}

// convRef is ONNX Conv on one NCHW image x [C][H][W] with OIHW weights
// w [O][C/group][KH][KW], in float64. pads are begin/end; positions outside
// the input are 0. It returns [O][OH][OW].
func convRef(x []float32, c, h, w int, wt []float32, o, kh, kw int, bias []float32,
	sh, sw, dh, dw, pt, pl, oh, ow, group int, lo, hi float64) []float64 {
	cg, og := c/group, o/group
	y := make([]float64, o*oh*ow)
	for oc := 0; oc < o; oc++ {
		g := oc / og
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				s := 0.0
				if bias != nil {
					s = float64(bias[oc])
				}
				for ci := 0; ci < cg; ci++ {
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy := oy*sh - pt + ky*dh
							ix := ox*sw - pl + kx*dw
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							s += float64(x[((g*cg+ci)*h+iy)*w+ix]) * float64(wt[((oc*cg+ci)*kh+ky)*kw+kx])
						}
					}
				}
				y[(oc*oh+oy)*ow+ox] = math.Min(math.Max(s, lo), hi)
			}
		}
	}
	return y
}

// poolRef is ONNX MaxPool / AveragePool on one NCHW image, float64.
func poolRef(x []float32, c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow int, avg, includePad bool) []float64 {
	y := make([]float64, c*oh*ow)
	for ch := 0; ch < c; ch++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				m, s, valid, padded := math.Inf(-1), 0.0, 0, 0
				for ky := 0; ky < kh; ky++ {
					for kx := 0; kx < kw; kx++ {
						iy := oy*sh - pt + ky*dh
						ix := ox*sw - pl + kx*dw
						if iy >= -pt && iy < h+pb && ix >= -pl && ix < w+pr {
							padded++
						}
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						v := float64(x[(ch*h+iy)*w+ix])
						m = math.Max(m, v)
						s += v
						valid++
					}
				}
				r := m
				if avg {
					n := valid
					if includePad {
						n = padded
					}
					r = 0
					if valid > 0 && n > 0 {
						r = s / float64(n)
					}
				}
				y[(ch*oh+oy)*ow+ox] = r
			}
		}
	}
	return y
}

// requireNHWCClose compares an NHWC kernel output (pixel stride stride)
// with an NCHW reference, and checks that gap elements kept the sentinel.
func requireNHWCClose(t testing.TB, ref []float64, out []float32, c, oh, ow, stride int, msg string) {
	t.Helper()
	tol := tolerance(ref)
	for p := 0; p < oh*ow; p++ {
		for ch := 0; ch < c; ch++ {
			want, got := ref[ch*oh*ow+p], float64(out[p*stride+ch])
			if !(math.Abs(want-got) <= tol) && !(math.IsInf(want, 0) && want == got) {
				require.FailNowf(t, "mismatch", "%s: pixel %d channel %d: got %v, want %v (tol %.3g)", msg, p, ch, got, want, tol)
			}
		}
		for ch := c; ch < stride && p*stride+ch < len(out); ch++ {
			if math.Float32bits(out[p*stride+ch]) != math.Float32bits(sentinel) {
				require.FailNowf(t, "gap written", "%s: pixel %d gap channel %d = %v", msg, p, ch, out[p*stride+ch])
			}
		}
	}
}

// outLen is the number of elements a strided NHWC output spans.
func outLen(pixels, c, stride int) int {
	if pixels == 0 {
		return 0
	}
	return (pixels-1)*stride + c
}

// chunks splits [0, n) into random consecutive ranges of at most tile.
func chunks(r *rand.Rand, n, tile int) [][2]int {
	var out [][2]int
	for p := 0; p < n; {
		sz := tile
		if r.IntN(3) == 0 {
			sz = 1 + r.IntN(tile)
		}
		sz = min(sz, n-p)
		out = append(out, [2]int{p, p + sz})
		p += sz
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// outDim is the output extent of a window op; ceil selects ceil_mode, with
// PyTorch's rule that the last window starts inside the input or left pad.
func outDim(in, k, s, d, p0, p1 int, ceil bool) int {
	span := in + p0 + p1 - d*(k-1) - 1
	if span < 0 {
		return 0
	}
	if !ceil {
		return span/s + 1
	}
	o := (span+s-1)/s + 1
	if (o-1)*s >= in+p0 {
		o--
	}
	return o
}

// seeded returns a generator for seed, and logs the seed on failure.
func seeded(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d", seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// gemmTilings are the GEMM kernels from the table; every conv and gemm test
// runs once per tiling.
func gemmTilings(t testing.TB) []Kernel {
	var ks []Kernel
	for _, k := range Kernels() {
		if k.Op == "gemm" && k.ISA == "scalar" {
			ks = append(ks, k)
		}
	}
	require.NotEmpty(t, ks)
	return ks
}

func clampName(c Clamp) string {
	if c.isNone() {
		return "none"
	}
	return fmt.Sprintf("[%g,%g]", c.Min, c.Max)
}
