package quant

import (
	"math"
)

// DefaultBins is the number of bins of the histogram observers.
const DefaultBins = 2048

// histogram counts values in bins of width 2^exp placed on a global grid:
// bin i covers [(off+i)·w, (off+i+1)·w). Because widths are powers of two
// and edges are multiples of the width, a histogram grows (its width
// doubles, pairs of bins merge) and two histograms merge without any
// interpolation: the counts are exact, and the final histogram depends only
// on the multiset of values observed — not on their order or on how they
// were split between per-worker copies. The width is always the smallest
// power of two for which [min, max] fits in the bins.
type histogram struct {
	nbins int
	count []float64 // nil until the first non-degenerate data
	exp   int       // bin width 2^exp
	off   int64     // grid index of bin 0

	n          float64 // finite values seen
	zeros      float64 // values exactly 0
	min, max   float64 // exact extremes of the finite values
	pending    float64 // values equal to pendingVal seen before count exists
	pendingVal float64
}

func newHistogram(nbins int) histogram {
	if nbins < 16 {
		nbins = 16
	}
	return histogram{nbins: nbins, min: math.Inf(1), max: math.Inf(-1)}
}

// span reports how many bins [lo, hi] needs at exponent e.
func span(lo, hi float64, e int) int64 {
	return int64(math.Floor(math.Ldexp(hi, -e))) - int64(math.Floor(math.Ldexp(lo, -e))) + 1
}

// minExp returns the smallest exponent e ≥ floor for which [lo, hi] fits
// in n bins (lo < hi).
func minExp(lo, hi float64, n int, floor int) int {
	_, e := math.Frexp((hi - lo) / float64(n))
	e = max(e-2, floor)
	for span(lo, hi, e) > int64(n) {
		e++
	}
	// Frexp's estimate can only be high by a little; walk down while the
	// smaller width still fits (fits is monotone in e).
	for e > floor && span(lo, hi, e-1) <= int64(n) {
		e--
	}
	return e
}

// add counts the finite values of x.
func (h *histogram) add(x []float32) {
	lo, hi, ok, allFinite := scanMinMax(x)
	if !ok {
		return
	}
	bmin, bmax := float64(lo), float64(hi)
	n := float64(len(x))
	if !allFinite {
		n = 0
		for _, v := range x {
			if v == v && !math.IsInf(float64(v), 0) {
				n++
			}
		}
	}
	if bmin == bmax && bmin == 0 {
		h.zeros += n // otherwise zeros are counted while binning
	}
	h.n += n
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
	zeros := 0
	if allFinite {
		count, off := h.count, h.off
		for _, v := range x {
			if v == 0 {
				zeros++
			}
			// floor(v·inv); v·inv is exact (inv is a power of two) and
			// lies in the bins' range.
			g := float64(v) * inv
			k := int64(g)
			if float64(k) > g {
				k--
			}
			count[k-off]++
		}
	} else {
		for _, v := range x {
			f := float64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			if v == 0 {
				zeros++
			}
			h.count[int64(math.Floor(f*inv))-h.off]++
		}
	}
	if bmin != bmax {
		h.zeros += float64(zeros)
	}
}

// start allocates the bins for [h.min, h.max] and adds the pending point
// mass (the values seen while the range was a single point).
func (h *histogram) start() {
	h.exp = minExp(h.min, h.max, h.nbins, math.MinInt32)
	h.off = int64(math.Floor(math.Ldexp(h.min, -h.exp)))
	h.count = make([]float64, h.nbins)
	if h.pending > 0 {
		h.addPoint(h.pendingVal, h.pending)
		h.pending = 0
	}
}

func (h *histogram) addPoint(v, n float64) {
	h.count[int64(math.Floor(math.Ldexp(v, -h.exp)))-h.off] += n
}

// cover regrids so that [lo, hi] fits: the exponent grows to the smallest
// that fits and the offset moves to lo's bin.
func (h *histogram) cover(lo, hi float64) {
	e := h.exp
	if span(lo, hi, e) > int64(h.nbins) {
		e = minExp(lo, hi, h.nbins, h.exp)
	}
	off := int64(math.Floor(math.Ldexp(lo, -e)))
	if e == h.exp && off == h.off {
		return
	}
	h.count = regrid(h.count, h.exp, h.off, e, off, h.nbins)
	h.exp, h.off = e, off
}

// regrid moves counts from grid (exp, off) to the coarser or equal grid
// (e, o): bin index k of the old grid lands in k >> (e−exp).
func regrid(count []float64, exp int, off int64, e int, o int64, nbins int) []float64 {
	out := make([]float64, nbins)
	sh := uint(e - exp)
	for i, c := range count {
		if c == 0 {
			continue
		}
		out[((off+int64(i))>>sh)-o] += c
	}
	return out
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	h.n += o.n
	h.zeros += o.zeros
	lo, hi := min(h.min, o.min), max(h.max, o.max)
	if h.count == nil && o.count == nil {
		h.min, h.max = lo, hi
		if lo == hi {
			h.pending += o.pending
			h.pendingVal = lo
			return
		}
		// Two different point masses.
		pv, pn := o.pendingVal, o.pending
		h.start()
		h.addPoint(pv, pn)
		return
	}
	if h.count == nil {
		// Take o's grid, then add h's point mass.
		pv, pn := h.pendingVal, h.pending
		h.count = append([]float64(nil), o.count...)
		h.exp, h.off, h.pending = o.exp, o.off, 0
		h.min, h.max = lo, hi
		h.cover(lo, hi)
		if pn > 0 {
			h.addPoint(pv, pn)
		}
		return
	}
	h.min, h.max = lo, hi
	e := max(h.exp, o.exp)
	if o.count == nil {
		h.cover(lo, hi)
		h.addPoint(o.pendingVal, o.pending)
		return
	}
	if span(lo, hi, e) > int64(h.nbins) {
		e = minExp(lo, hi, h.nbins, e)
	}
	off := int64(math.Floor(math.Ldexp(lo, -e)))
	a := regrid(h.count, h.exp, h.off, e, off, h.nbins)
	b := regrid(o.count, o.exp, o.off, e, off, h.nbins)
	for i := range a {
		a[i] += b[i]
	}
	h.count, h.exp, h.off = a, e, off
}

// clone returns a deep copy.
func (h *histogram) clone() histogram {
	c := *h
	c.count = append([]float64(nil), h.count...)
	if h.count == nil {
		c.count = nil
	}
	return c
}

// edge returns the real position of bin edge j (0 ≤ j ≤ nbins).
func (h *histogram) edge(j int) float64 { return math.Ldexp(float64(h.off+int64(j)), h.exp) }

// centre returns the midpoint of bin i, clamped to the observed range.
func (h *histogram) centre(i int) float64 {
	c := math.Ldexp(float64(h.off+int64(i))+0.5, h.exp)
	return min(max(c, h.min), h.max)
}

// degenerate reports whether the histogram has at most one distinct value,
// in which case the observed [min, max] is the only sensible range.
func (h *histogram) degenerate() bool { return h.count == nil }

// used returns the first and one past the last non-empty bins.
func (h *histogram) used() (int, int) {
	a, b := 0, len(h.count)
	for a < b && h.count[a] == 0 {
		a++
	}
	for b > a && h.count[b-1] == 0 {
		b--
	}
	return a, b
}

// quantile returns the value below which a fraction q of the values lie,
// interpolating linearly inside the bin where the cumulative count crosses.
func (h *histogram) quantile(q float64) float64 {
	target := q * h.n
	zb := -h.off // the bin whose left edge is 0 holds the exact zeros
	var cum float64
	for i, c := range h.count {
		if c == 0 {
			continue
		}
		lo := h.edge(i)
		if int64(i) == zb && h.zeros > 0 {
			// Exact zeros are a point mass at the bin's left edge.
			if cum+h.zeros >= target {
				return 0
			}
			cum += h.zeros
			c -= h.zeros
			if c <= 0 {
				continue
			}
		}
		if cum+c >= target {
			f := (target - cum) / c
			v := lo + f*(h.edge(i+1)-lo)
			return min(max(v, h.min), h.max)
		}
		cum += c
	}
	return h.max
}
