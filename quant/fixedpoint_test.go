package quant

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected values below are derived by hand from gemmlowp's definitions
// ((2ab + nudge) / 2^32 truncated, nudge 2^30 or 1−2^30: ties round up;
// x/2^e rounded half away from zero), not from this code.
func TestSaturatingRoundingDoublingHighMul(t *testing.T) {
	cases := []struct{ a, b, want int32 }{
		{0, 12345, 0},
		{1 << 30, 1 << 30, 1 << 29},                   // 2·2^60 / 2^32 = 2^29
		{math.MinInt32, math.MinInt32, math.MaxInt32}, // the saturating case
		{math.MaxInt32, math.MaxInt32, math.MaxInt32 - 1},
		{3, 1 << 30, 2},   // 2·3·2^30/2^32 = 1.5 → 2
		{-3, 1 << 30, -1}, // −1.5 → −1: gemmlowp's negative nudge is 1−2^30, so ties go up
		{1, 1 << 30, 1},   // 0.5 → 1
		{-1, 1 << 30, 0},  // −0.5 → 0
	}
	for _, c := range cases {
		assert.Equal(t, c.want, SaturatingRoundingDoublingHighMul(c.a, c.b), "a=%d b=%d", c.a, c.b)
	}
}

func TestRoundingDivideByPOT(t *testing.T) {
	cases := []struct {
		x    int32
		e    int
		want int32
	}{
		{5, 1, 3}, {-5, 1, -3}, {4, 1, 2}, {-4, 1, -2}, {6, 2, 2}, {-6, 2, -2},
		{7, 0, 7}, {1, 31, 0}, {math.MaxInt32, 31, 1}, {math.MinInt32, 31, -1},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, RoundingDivideByPOT(c.x, c.e), "x=%d e=%d", c.x, c.e)
	}
}

// TestMultiplyMatchesExactRounding checks the double-rounded product
// against exact rational arithmetic: the result may differ from
// round(x·m·2^(shift−31)) by at most one, and equals it whenever the
// first rounding is exact.
func TestMultiplyMatchesExactRounding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		real := math.Exp(r.Float64()*20 - 16) // 1e-7 … 50
		m, shift := QuantizeMultiplier(real)
		x := int32(r.Int64N(1<<24) - 1<<23)
		got := MultiplyByQuantizedMultiplier(x, m, shift)
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(x)), big.NewInt(int64(m))), new(big.Int).Lsh(big.NewInt(1), 31))
		if shift >= 0 {
			exact.Mul(exact, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(shift))))
		} else {
			exact.Quo(exact, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(-shift))))
		}
		f, _ := exact.Float64()
		require.InDelta(t, math.Round(f), float64(got), 1, "x=%d real=%g", x, real)
	}
}

func TestQuantizeMultiplier(t *testing.T) {
	cases := []struct {
		real  float64
		m     int32
		shift int
	}{
		{0.5, 1 << 30, 0},   // 0.5 = 0.5·2^0 → m = 0.5·2^31
		{1, 1 << 30, 1},     // 1 = 0.5·2^1
		{0.25, 1 << 30, -1}, // 0.25 = 0.5·2^−1
		{0.75, 3 << 29, 0},  // 0.75·2^31
		{0, 0, 0},
	}
	for _, c := range cases {
		m, s := QuantizeMultiplier(c.real)
		assert.Equal(t, c.m, m, "real=%g", c.real)
		assert.Equal(t, c.shift, s, "real=%g", c.real)
	}
	// A mantissa that rounds up to 1.0 renormalises.
	m, s := QuantizeMultiplier(math.Nextafter(1, 0))
	assert.Equal(t, int32(1<<30), m)
	assert.Equal(t, 1, s)
}

func TestActivationRange(t *testing.T) {
	lo, hi := ActivationRange(0, 6, 0.05, -10, -128, 127)
	assert.Equal(t, int32(-10), lo) // real 0
	assert.Equal(t, int32(110), hi) // −10 + 6/0.05
	lo, hi = ActivationRange(float32(math.Inf(-1)), float32(math.Inf(1)), 0.05, -10, -128, 127)
	assert.Equal(t, []int32{-128, 127}, []int32{lo, hi})
}
