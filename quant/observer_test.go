package quant

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gaussian(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

func relu(x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = max(v, 0)
	}
	return out
}

func allObservers() []Observer {
	return []Observer{NewMinMax(), NewPercentile(0), NewPercentile(99.9), NewMSE(), NewEntropy()}
}

// TestObserversMergeExactly checks that per-worker copies merged in any
// split and order give the same range as one observer fed sequentially,
// also when the batches have very different ranges (the histograms regrid).
func TestObserversMergeExactly(t *testing.T) {
	seed := uint64(7)
	r := rand.New(rand.NewPCG(seed, 1))
	var batches [][]float32
	for i := 0; i < 40; i++ {
		scale := math.Pow(10, float64(r.IntN(5))-2) // 0.01 … 100
		b := gaussian(r, 1+r.IntN(3000), scale)
		if i%3 == 0 {
			b = relu(b)
		}
		batches = append(batches, b)
	}
	batches = append(batches, []float32{0, 0, 0}, []float32{5, 5}, []float32{float32(math.NaN()), float32(math.Inf(1))})
	for _, proto := range allObservers() {
		t.Run(proto.Name(), func(t *testing.T) {
			seq := proto.New()
			for _, b := range batches {
				seq.Observe(b)
			}
			wantLo, wantHi := seq.Range()
			for _, workers := range []int{2, 3, 7} {
				parts := make([]Observer, workers)
				for i := range parts {
					parts[i] = proto.New()
				}
				perm := r.Perm(len(batches))
				for k, i := range perm {
					parts[k%workers].Observe(batches[i])
				}
				merged := proto.New()
				for _, p := range parts {
					require.NoError(t, merged.Merge(p))
				}
				lo, hi := merged.Range()
				assert.Equal(t, wantLo, lo, "lo, %d workers (seed %d)", workers, seed)
				assert.Equal(t, wantHi, hi, "hi, %d workers (seed %d)", workers, seed)
			}
		})
	}
}

// TestObserversConcurrent feeds one observer from several goroutines (run
// with -race) and compares with sequential feeding.
func TestObserversConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	batches := make([][]float32, 64)
	for i := range batches {
		batches[i] = gaussian(r, 500, 1+float64(i%5))
	}
	for _, proto := range allObservers() {
		seq, par := proto.New(), proto.New()
		for _, b := range batches {
			seq.Observe(b)
		}
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(batches); i += 8 {
					par.Observe(batches[i])
				}
			}(w)
		}
		wg.Wait()
		lo1, hi1 := seq.Range()
		lo2, hi2 := par.Range()
		assert.Equal(t, lo1, lo2, proto.Name())
		assert.Equal(t, hi1, hi2, proto.Name())
	}
}

func TestObserverDegenerate(t *testing.T) {
	for _, proto := range allObservers() {
		o := proto.New()
		lo, hi := o.Range()
		assert.Equal(t, [2]float32{0, 0}, [2]float32{lo, hi}, "%s empty", o.Name())
		o.Observe([]float32{0, 0, 0})
		lo, hi = o.Range()
		assert.Equal(t, [2]float32{0, 0}, [2]float32{lo, hi}, "%s zeros", o.Name())
		o.Observe([]float32{3})
		lo, hi = o.Range()
		assert.Equal(t, float32(0), lo, "%s zeros and 3", o.Name())
		assert.InDelta(t, 3, hi, 0.01, "%s zeros and 3", o.Name())

		c := proto.New()
		c.Observe([]float32{2.5, 2.5})
		lo, hi = c.Range()
		assert.Equal(t, [2]float32{2.5, 2.5}, [2]float32{lo, hi}, "%s constant", c.Name())
	}
}

func TestMinMax(t *testing.T) {
	o := NewMinMax()
	o.Observe([]float32{1, -2, float32(math.NaN()), float32(math.Inf(-1)), 3.5})
	o.Observe(nil)
	lo, hi := o.Range()
	assert.Equal(t, float32(-2), lo)
	assert.Equal(t, float32(3.5), hi)
	require.Error(t, o.Merge(NewMSE()))
}

func TestPercentile(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, 200000)
	for i := range x {
		x[i] = float32(r.Float64()*10 - 2) // uniform [−2, 8)
	}
	o := NewPercentile(99)
	o.Observe(x)
	lo, hi := o.Range()
	// 1 % of a uniform [−2, 8) is 0.1 from each end; the bin width is
	// 2^-8 and sampling adds ~0.01.
	assert.InDelta(t, -1.9, lo, 0.03)
	assert.InDelta(t, 7.9, hi, 0.03)
	require.Error(t, o.Merge(NewPercentile(99.9)), "different percentiles must not merge")
	assert.Equal(t, "percentile(99)", o.Name())
}

// TestMSEClipsOutliers: a Gaussian with a few far outliers is clipped well
// inside the outliers; a uniform distribution is not clipped (clipping
// only adds error there).
func TestMSEClipsOutliers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	// With 10⁶ samples the rounding noise of the full range outweighs
	// clipping the two outliers: the optimum is near ±11.
	x := gaussian(r, 1000000, 1)
	x = append(x, 40, -35)
	o := NewMSE()
	o.Observe(x)
	lo, hi := o.Range()
	assert.Greater(t, hi, float32(3), "hi")
	assert.Less(t, hi, float32(15), "hi")
	assert.Less(t, lo, float32(-3), "lo")
	assert.Greater(t, lo, float32(-15), "lo")

	u := make([]float32, 100000)
	for i := range u {
		u[i] = float32(r.Float64() * 4)
	}
	m := NewMSE()
	m.Observe(u)
	lo, hi = m.Range()
	assert.InDelta(t, 0, lo, 1e-3)
	assert.InDelta(t, 4, hi, 0.02)
}

// TestEntropyReLU: on a ReLU'd Gaussian with a long tail the KL search
// clips the tail but keeps the bulk, and the lower end stays at 0.
func TestEntropyReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := relu(gaussian(r, 200000, 1))
	x = append(x, 30)
	o := NewEntropy()
	o.Observe(x)
	lo, hi := o.Range()
	assert.Equal(t, float32(0), lo)
	assert.Greater(t, hi, float32(2.5))
	assert.Less(t, hi, float32(20))
}

func TestNewObserver(t *testing.T) {
	for _, tc := range []struct {
		m    Method
		name string
	}{
		{"minmax", "minmax"}, {"", "minmax"}, {"percentile", "percentile(99.99)"},
		{"percentile(99.9)", "percentile(99.9)"}, {"MSE", "mse"}, {"entropy", "entropy"},
	} {
		o, err := NewObserver(tc.m)
		require.NoError(t, err, tc.m)
		assert.Equal(t, tc.name, o.Name())
	}
	for _, bad := range []Method{"kl", "percentile(20)", "percentile(x)"} {
		_, err := NewObserver(bad)
		assert.Error(t, err, bad)
	}
}

// TestHistogramGrid checks the invariants the exact merging relies on: the
// width is the smallest power of two that fits [min, max], and the counts
// add up to the number of finite values.
func TestHistogramGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := newHistogram(64)
	var n float64
	for i := 0; i < 50; i++ {
		b := gaussian(r, 100, math.Pow(2, float64(r.IntN(10))-5))
		h.add(b)
		n += float64(len(b))
		require.LessOrEqual(t, span(h.min, h.max, h.exp), int64(64))
		require.Greater(t, span(h.min, h.max, h.exp-1), int64(64), "width 2^%d is not minimal", h.exp)
		var sum float64
		for _, c := range h.count {
			sum += c
		}
		require.Equal(t, n, sum)
		require.Equal(t, n, h.n)
	}
}

// TestFiniteMinMax checks the branch-free extremes against the obvious
// loop (skip NaN and ±Inf, Go's min and max, which order −0 below +0).
func TestFiniteMinMax(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	r := rand.New(rand.NewPCG(3, 4))
	long := gaussian(r, 1001, 3)
	withInf := append(append([]float32(nil), long...), inf, -inf)
	withNaN := append([]float32{nan}, long...)
	for _, tc := range []struct {
		name string
		x    []float32
	}{
		{"empty", nil},
		{"one", []float32{2.5}},
		{"negative", []float32{-3, -1, -2, -7, -0.5}},
		{"zeros +0 first", []float32{0, negZero, 0, 0, 0}},
		{"zeros -0 first", []float32{negZero, 0, negZero}},
		{"only -0", []float32{negZero, negZero, negZero, negZero, negZero}},
		{"relu", relu(long)},
		{"gaussian", long},
		{"tail", long[:7]},
		{"infinities", withInf},
		{"nan", withNaN},
		{"only non-finite", []float32{nan, inf, -inf, nan, nan}},
		{"tiny", []float32{math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLo, wantHi := float32(math.Inf(1)), float32(math.Inf(-1))
			for _, v := range tc.x {
				if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
					wantLo, wantHi = min(wantLo, v), max(wantHi, v)
				}
			}
			lo, hi, ok := finiteMinMax(tc.x)
			require.Equal(t, wantLo <= wantHi, ok)
			if !ok {
				return
			}
			assert.Equal(t, math.Float32bits(wantLo), math.Float32bits(lo), "lo %v, want %v", lo, wantLo)
			assert.Equal(t, math.Float32bits(wantHi), math.Float32bits(hi), "hi %v, want %v", hi, wantHi)
		})
	}
}

func BenchmarkMinMaxObserve(b *testing.B) {
	x := relu(gaussian(rand.New(rand.NewPCG(1, 2)), 1<<20, 1))
	o := NewMinMax()
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		o.Observe(x)
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	x := relu(gaussian(rand.New(rand.NewPCG(1, 2)), 1<<20, 1))
	o := NewPercentile(0)
	o.Observe(x)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		o.Observe(x)
	}
}

// refHistAdd is the straightforward histogram.add: one pass for the
// extremes, counts and zeros, one for the bins with math.Floor.
func refHistAdd(h *histogram, x []float32) {
	bmin, bmax := math.Inf(1), math.Inf(-1)
	var n, zeros float64
	for _, v := range x {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		bmin, bmax = min(bmin, f), max(bmax, f)
		n++
		if v == 0 {
			zeros++
		}
	}
	if n == 0 {
		return
	}
	h.n += n
	h.zeros += zeros
	h.min, h.max = min(h.min, bmin), max(h.max, bmax)
	if h.count == nil {
		if h.min == h.max {
			h.pending += n
			h.pendingVal = bmin
			return
		}
		h.start()
		if bmin == bmax {
			h.addPoint(bmin, n)
			return
		}
	} else {
		h.cover(h.min, h.max)
	}
	inv := math.Ldexp(1, -h.exp)
	for _, v := range x {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		h.count[int64(math.Floor(f*inv))-h.off]++
	}
}

// TestHistogramAdd checks the histogram's one-scan binning against
// refHistAdd on batch sequences with NaNs, infinities, signed zeros,
// constant batches, negative and tiny values.
func TestHistogramAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	for _, tc := range []struct {
		name    string
		batches [][]float32
	}{
		{"gaussian", [][]float32{gaussian(r, 5000, 1), gaussian(r, 3000, 10), gaussian(r, 10, 0.01)}},
		{"relu", [][]float32{relu(gaussian(r, 4000, 2)), relu(gaussian(r, 4000, 7))}},
		{"constant first", [][]float32{{3, 3, 3}, {3}, gaussian(r, 100, 1), {0, 0, negZero}}},
		{"zeros then data", [][]float32{{0, negZero, 0}, relu(gaussian(r, 999, 1))}},
		{"non-finite", [][]float32{{nan, inf, -inf}, append(gaussian(r, 500, 1), nan, 0, inf), {nan}, {-inf, 2, 2}}},
		{"negative", [][]float32{{-5, -4, -1e-3}, gaussian(r, 100, 100)}},
		{"tiny", [][]float32{{1e-40, -1e-41, 0}, {math.SmallestNonzeroFloat32, 2e-45}}},
		{"huge", [][]float32{{-math.MaxFloat32, math.MaxFloat32, 1}, gaussian(r, 100, 1e30)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := newHistogram(DefaultBins), newHistogram(DefaultBins)
			for i, b := range tc.batches {
				got.add(b)
				refHistAdd(&want, b)
				require.Equal(t, want, got, "after batch %d", i)
			}
		})
	}
}
