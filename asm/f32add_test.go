package asm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAddClampF32 checks AddClampF32 against the scalar loop on random
// lengths (the SIMD body's 32-element blocks and the scalar tail), with
// and without a clamp, NaN and infinite sums, and dst aliasing a.
func TestAddClampF32(t *testing.T) {
	r := seeded(t, 77)
	for it := 0; it < 300; it++ {
		n := r.IntN(200)
		a, b := randSlice(r, n+3), randSlice(r, n+3)
		if n > 0 && it%5 == 0 {
			a[r.IntN(n)] = float32(math.NaN())
			b[r.IntN(n)] = float32(math.Inf(1))
		}
		c := NoClamp()
		switch it % 3 {
		case 1:
			c = Clamp{0, float32(math.Inf(1))}
		case 2:
			c = Clamp{-0.25, 0.5}
		}
		want := make([]float32, n)
		for i := range want {
			want[i] = min(max(a[i]+b[i], c.Min), c.Max)
		}
		dst := make([]float32, n)
		if it%4 == 0 {
			dst = a[:n]
		}
		AddClampF32(dst, a, b, c)
		for i := range want {
			if dst[i] != want[i] && !(math.IsNaN(float64(dst[i])) && math.IsNaN(float64(want[i]))) {
				t.Fatalf("n=%d clamp %+v: [%d] = %v, want %v", n, c, i, dst[i], want[i])
			}
		}
	}
}

func TestAddClampF32DoesNotAllocate(t *testing.T) {
	a, b, dst := make([]float32, 100), make([]float32, 100), make([]float32, 100)
	if n := testing.AllocsPerRun(10, func() { AddClampF32(dst, a, b, Clamp{0, 6}) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// TestInterleaveRGBF32 checks InterleaveRGBF32 against the scalar loop on
// random pixel counts (the SIMD body's 8-pixel blocks and the scalar
// tail), with sentinels after dst's 3n floats.
func TestInterleaveRGBF32(t *testing.T) {
	r := seeded(t, 78)
	for it := 0; it < 200; it++ {
		n := r.IntN(100)
		src := randSlice(r, 3*n+1)
		dst := make([]float32, 3*n+5)
		for i := range dst {
			dst[i] = -7
		}
		InterleaveRGBF32(dst, src[:n], src[n:2*n], src[2*n:3*n])
		for q := 0; q < n; q++ {
			for k := 0; k < 3; k++ {
				require.Equal(t, src[k*n+q], dst[3*q+k], "n=%d pixel %d channel %d", n, q, k)
			}
		}
		for i := 3 * n; i < len(dst); i++ {
			require.Equal(t, float32(-7), dst[i], "n=%d: sentinel %d overwritten", n, i)
		}
	}
}

func TestInterleaveRGBF32DoesNotAllocate(t *testing.T) {
	src, dst := make([]float32, 300), make([]float32, 300)
	if n := testing.AllocsPerRun(10, func() { InterleaveRGBF32(dst, src[:100], src[100:200], src[200:]) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// TestInterleaveRGB8 checks InterleaveRGB8 against the scalar loop on
// random pixel counts (the SIMD body's 16-pixel blocks and the scalar
// tail), with sentinels after dst's 3n bytes.
func TestInterleaveRGB8(t *testing.T) {
	r := seeded(t, 79)
	for it := 0; it < 200; it++ {
		n := r.IntN(150)
		src := make([]byte, 3*n+1)
		for i := range src {
			src[i] = byte(r.IntN(256))
		}
		dst := make([]byte, 3*n+5)
		for i := range dst {
			dst[i] = 0xA5
		}
		InterleaveRGB8(dst, src[:n], src[n:2*n], src[2*n:3*n])
		for q := 0; q < n; q++ {
			for k := 0; k < 3; k++ {
				require.Equal(t, src[k*n+q], dst[3*q+k], "n=%d pixel %d channel %d", n, q, k)
			}
		}
		for i := 3 * n; i < len(dst); i++ {
			require.Equal(t, byte(0xA5), dst[i], "n=%d: sentinel %d overwritten", n, i)
		}
	}
	dst := make([]byte, 300)
	src := make([]byte, 300)
	if n := testing.AllocsPerRun(10, func() { InterleaveRGB8(dst, src[:100], src[100:200], src[200:]) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
