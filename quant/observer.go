package quant

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Observer collects the values of one tensor over a calibration set and
// proposes the real range [lo, hi] to quantise it to. Observe and Range are
// safe to call from several goroutines; the cheaper pattern is one copy
// per worker (New) merged at the end (Merge), which gives the same range:
// every observer here depends only on the multiset of values seen.
type Observer interface {
	// Observe adds the finite values of x (NaN and ±Inf are ignored).
	Observe(x []float32)
	// Range returns the clipping range chosen from what was observed; it
	// need not include 0 (ActivationParams extends it). With nothing
	// observed it is (0, 0).
	Range() (lo, hi float32)
	// Merge adds the observations of o, which must be of the same kind
	// and configuration (a copy made by New).
	Merge(o Observer) error
	// New returns an empty observer of the same kind and configuration.
	New() Observer
	// Name describes the method, e.g. "minmax" or "percentile(99.99)".
	Name() string
}

// Method names an observer kind, as the quantize command's --method.
type Method string

// The calibration methods.
const (
	MethodMinMax     Method = "minmax"
	MethodPercentile Method = "percentile"
	MethodMSE        Method = "mse"
	MethodEntropy    Method = "entropy"
)

// Methods lists the calibration methods.
var Methods = []Method{MethodMinMax, MethodPercentile, MethodMSE, MethodEntropy}

// DefaultPercentile is the percentile of NewPercentile(0).
const DefaultPercentile = 99.99

// NewObserver returns an empty observer for method m: "minmax",
// "percentile" (DefaultPercentile) or "percentile(P)", "mse", "entropy".
func NewObserver(m Method) (Observer, error) {
	s := strings.ToLower(strings.TrimSpace(string(m)))
	switch {
	case s == string(MethodMinMax) || s == "":
		return NewMinMax(), nil
	case s == string(MethodPercentile):
		return NewPercentile(0), nil
	case strings.HasPrefix(s, "percentile(") && strings.HasSuffix(s, ")"):
		p, err := strconv.ParseFloat(s[len("percentile("):len(s)-1], 64)
		if err != nil || !(p > 50 && p <= 100) {
			return nil, fmt.Errorf("method %q: the percentile must be a number in (50, 100]", m)
		}
		return NewPercentile(p), nil
	case s == string(MethodMSE):
		return NewMSE(), nil
	case s == string(MethodEntropy):
		return NewEntropy(), nil
	}
	return nil, fmt.Errorf("unknown calibration method %q (want minmax, percentile, percentile(P), mse or entropy)", m)
}

// MinMax is the observer of TFLite's post-training quantiser: the range is
// the smallest and largest value seen.
type MinMax struct {
	mu       sync.Mutex
	min, max float32
	seen     bool
}

// NewMinMax returns an empty MinMax observer.
func NewMinMax() *MinMax { return &MinMax{} }

// Observe implements Observer.
func (o *MinMax) Observe(x []float32) {
	lo, hi, ok := finiteMinMax(x)
	if !ok {
		return
	}
	o.mu.Lock()
	o.add(lo, hi)
	o.mu.Unlock()
}

// orderKey maps float32 bits to an int32 whose order is the floats' total
// order: −NaN < −Inf < … < −0 < +0 < … < +Inf < +NaN.
func orderKey(v float32) int32 {
	b := int32(math.Float32bits(v))
	return b ^ int32(uint32(b>>31)>>1)
}

// keyFloat inverts orderKey.
func keyFloat(k int32) float32 {
	return math.Float32frombits(uint32(k ^ int32(uint32(k>>31)>>1)))
}

// finiteMinMax returns the smallest and largest finite value of x (ok is
// false when there is none), as min and max over the finite values would:
// −0 counts as below +0. It compares the values' order keys without
// branches and only walks x again, skipping NaNs and infinities, when the
// extremes show there are some.
func finiteMinMax(x []float32) (lo, hi float32, ok bool) {
	lo, hi, ok, _ = scanMinMax(x)
	return lo, hi, ok
}

// scanMinMax is finiteMinMax that also reports whether every value of x
// is finite.
func scanMinMax(x []float32) (lo, hi float32, ok, allFinite bool) {
	if len(x) == 0 {
		return 0, 0, false, true
	}
	k := orderKey(x[0])
	lo0, lo1, lo2, lo3 := k, k, k, k
	hi0, hi1, hi2, hi3 := k, k, k, k
	i := 0
	for ; i+4 <= len(x); i += 4 {
		k0, k1, k2, k3 := orderKey(x[i]), orderKey(x[i+1]), orderKey(x[i+2]), orderKey(x[i+3])
		lo0, hi0 = min(lo0, k0), max(hi0, k0)
		lo1, hi1 = min(lo1, k1), max(hi1, k1)
		lo2, hi2 = min(lo2, k2), max(hi2, k2)
		lo3, hi3 = min(lo3, k3), max(hi3, k3)
	}
	for ; i < len(x); i++ {
		k := orderKey(x[i])
		lo0, hi0 = min(lo0, k), max(hi0, k)
	}
	kl, kh := min(lo0, lo1, lo2, lo3), max(hi0, hi1, hi2, hi3)
	if kl > negInfKey && kh < posInfKey {
		return keyFloat(kl), keyFloat(kh), true, true
	}
	// Some value is not finite: the slow walk.
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range x {
		if v != v || math.IsInf(float64(v), 0) {
			continue
		}
		lo = min(lo, v)
		hi = max(hi, v)
	}
	return lo, hi, lo <= hi, false
}

var (
	negInfKey = orderKey(float32(math.Inf(-1)))
	posInfKey = orderKey(float32(math.Inf(1)))
)

func (o *MinMax) add(lo, hi float32) {
	if !o.seen {
		o.min, o.max, o.seen = lo, hi, true
		return
	}
	o.min, o.max = min(o.min, lo), max(o.max, hi)
}

// Range implements Observer.
func (o *MinMax) Range() (float32, float32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.min, o.max
}

// Merge implements Observer.
func (o *MinMax) Merge(other Observer) error {
	p, ok := other.(*MinMax)
	if !ok {
		return fmt.Errorf("merge %s into minmax", other.Name())
	}
	if p == o {
		return nil
	}
	p.mu.Lock()
	lo, hi, seen := p.min, p.max, p.seen
	p.mu.Unlock()
	if seen {
		o.mu.Lock()
		o.add(lo, hi)
		o.mu.Unlock()
	}
	return nil
}

// New implements Observer.
func (o *MinMax) New() Observer { return NewMinMax() }

// Name implements Observer.
func (o *MinMax) Name() string { return string(MethodMinMax) }

// histObserver is the shared part of the histogram observers.
type histObserver struct {
	mu sync.Mutex
	h  histogram
}

func (o *histObserver) observe(x []float32) {
	o.mu.Lock()
	o.h.add(x)
	o.mu.Unlock()
}

func (o *histObserver) merge(p *histObserver) {
	if p == o {
		return
	}
	p.mu.Lock()
	c := p.h.clone()
	p.mu.Unlock()
	o.mu.Lock()
	o.h.merge(&c)
	o.mu.Unlock()
}

// rangeOf computes a range from the histogram under the lock; choose is
// only called when the histogram has at least two distinct values.
func (o *histObserver) rangeOf(choose func(h *histogram) (float64, float64)) (float32, float32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := &o.h
	if h.n == 0 {
		return 0, 0
	}
	if h.degenerate() {
		return float32(h.min), float32(h.max)
	}
	lo, hi := choose(h)
	// The choice never widens what was seen.
	lo, hi = max(lo, h.min), min(hi, h.max)
	return float32(lo), float32(hi)
}

// Percentile clips both tails of the distribution: the range runs from the
// (100−P)th to the Pth percentile, read from a DefaultBins-bin histogram
// with linear interpolation inside a bin. Values at 0 count like any other,
// so a ReLU output's lower end stays at 0.
type Percentile struct {
	histObserver
	p float64
}

// NewPercentile returns a Percentile observer for percentile p in (50, 100]
// (p ≤ 0 selects DefaultPercentile).
func NewPercentile(p float64) *Percentile {
	if p <= 0 {
		p = DefaultPercentile
	}
	return &Percentile{histObserver: histObserver{h: newHistogram(DefaultBins)}, p: p}
}

// Observe implements Observer.
func (o *Percentile) Observe(x []float32) { o.observe(x) }

// Range implements Observer.
func (o *Percentile) Range() (float32, float32) {
	return o.rangeOf(func(h *histogram) (float64, float64) {
		q := o.p / 100
		return h.quantile(1 - q), h.quantile(q)
	})
}

// Merge implements Observer.
func (o *Percentile) Merge(other Observer) error {
	p, ok := other.(*Percentile)
	if !ok || p.p != o.p {
		return fmt.Errorf("merge %s into %s", other.Name(), o.Name())
	}
	o.merge(&p.histObserver)
	return nil
}

// New implements Observer.
func (o *Percentile) New() Observer { return NewPercentile(o.p) }

// Name implements Observer.
func (o *Percentile) Name() string {
	return fmt.Sprintf("percentile(%s)", strconv.FormatFloat(o.p, 'g', -1, 64))
}

// MSE chooses the clipping range that minimises the expected squared error
// of int8 quantisation over the histogram: values outside [lo, hi] cost
// their squared distance to the bound, values inside the rounding noise
// Δ²/12 with Δ = (hi−lo)/255 (exact zeros, which quantise exactly, cost
// nothing). lo and hi are searched jointly over bin edges (at most 256
// candidates on each side of 0).
type MSE struct{ histObserver }

// NewMSE returns an empty MSE observer.
func NewMSE() *MSE { return &MSE{histObserver{h: newHistogram(DefaultBins)}} }

// Observe implements Observer.
func (o *MSE) Observe(x []float32) { o.observe(x) }

// Range implements Observer.
func (o *MSE) Range() (float32, float32) { return o.rangeOf(mseRange) }

// Merge implements Observer.
func (o *MSE) Merge(other Observer) error {
	p, ok := other.(*MSE)
	if !ok {
		return fmt.Errorf("merge %s into mse", other.Name())
	}
	o.merge(&p.histObserver)
	return nil
}

// New implements Observer.
func (o *MSE) New() Observer { return NewMSE() }

// Name implements Observer.
func (o *MSE) Name() string { return string(MethodMSE) }

// Entropy is TensorRT's entropy calibration adapted to asymmetric int8:
// among clipping windows that keep 0 inside and shrink both sides of 0 in
// proportion, it picks the one whose quantised distribution (the window's
// bins merged into 256 levels and spread back over their non-empty bins)
// has the smallest KL divergence from the clipped reference distribution
// (the window's bins with the outliers added to the edge bins). For a
// non-negative tensor (after ReLU) this is TensorRT's search over the
// upper threshold, with 256 levels instead of 128. Exact zeros are left
// out of both distributions: they quantise exactly whatever the window,
// and a ReLU's spike at 0, smeared over a level's bins by Q, would
// otherwise pull every threshold down to about 2σ.
type Entropy struct{ histObserver }

// NewEntropy returns an empty Entropy observer.
func NewEntropy() *Entropy { return &Entropy{histObserver{h: newHistogram(DefaultBins)}} }

// Observe implements Observer.
func (o *Entropy) Observe(x []float32) { o.observe(x) }

// Range implements Observer.
func (o *Entropy) Range() (float32, float32) { return o.rangeOf(entropyRange) }

// Merge implements Observer.
func (o *Entropy) Merge(other Observer) error {
	p, ok := other.(*Entropy)
	if !ok {
		return fmt.Errorf("merge %s into entropy", other.Name())
	}
	o.merge(&p.histObserver)
	return nil
}

// New implements Observer.
func (o *Entropy) New() Observer { return NewEntropy() }

// Name implements Observer.
func (o *Entropy) Name() string { return string(MethodEntropy) }
