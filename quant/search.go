package quant

import "math"

// maxCandidates bounds the clipping bounds tried on each side of 0 by the
// MSE search, and the windows tried by the entropy search.
const maxCandidates = 256

// levels is the number of int8 values.
const levels = 256

// zeroBin returns the local index of the edge at real 0, clamped to the
// used bins [a, b].
func (h *histogram) zeroEdge(a, b int) int {
	z := -h.off
	return int(min(max(z, int64(a)), int64(b)))
}

// candidates returns up to maxCandidates indices from lo to hi inclusive,
// evenly spread, always including both ends.
func candidates(lo, hi int) []int {
	n := hi - lo + 1
	if n <= 0 {
		return nil
	}
	step := (n + maxCandidates - 1) / maxCandidates
	out := make([]int, 0, n/step+2)
	for j := lo; j < hi; j += step {
		out = append(out, j)
	}
	return append(out, hi)
}

// mseRange implements MSE.Range.
func mseRange(h *histogram) (float64, float64) {
	a, b := h.used()
	z := h.zeroEdge(a, b)
	nb := len(h.count)
	// Prefix sums of count, count·x and count·x² over bin centres, with
	// exact zeros taken out: they quantise without error whatever the range.
	c := append([]float64(nil), h.count...)
	if zb := -h.off; zb >= 0 && zb < int64(nb) {
		c[zb] = max(c[zb]-h.zeros, 0)
	}
	C := make([]float64, nb+1)
	S1 := make([]float64, nb+1)
	S2 := make([]float64, nb+1)
	for i, n := range c {
		x := h.centre(i)
		C[i+1] = C[i] + n
		S1[i+1] = S1[i] + n*x
		S2[i+1] = S2[i] + n*x*x
	}
	sq := func(i, j int, t float64) float64 { // Σ n·(x−t)² over bins [i, j)
		return (S2[j] - S2[i]) - 2*t*(S1[j]-S1[i]) + t*t*(C[j]-C[i])
	}
	loVal := func(j int) float64 {
		if j == a {
			return min(h.min, 0)
		}
		return h.edge(j)
	}
	hiVal := func(j int) float64 {
		if j == b {
			return max(h.max, 0)
		}
		return h.edge(j)
	}
	best := math.Inf(1)
	bestLo, bestHi := h.min, h.max
	for _, jl := range candidates(a, z) {
		lo := loVal(jl)
		below := sq(a, jl, lo)
		for _, jh := range candidates(z, b) {
			hi := hiVal(jh)
			if hi <= lo {
				continue
			}
			d := (hi - lo) / (levels - 1)
			e := below + sq(jh, b, hi) + (C[jh]-C[jl])*d*d/12
			if e < best {
				best, bestLo, bestHi = e, lo, hi
			}
		}
	}
	return bestLo, bestHi
}

// entropyRange implements Entropy.Range.
func entropyRange(h *histogram) (float64, float64) {
	a, b := h.used()
	z := h.zeroEdge(a, b)
	left, right := z-a, b-z
	total := left + right
	if total <= levels {
		return h.min, h.max // the histogram is no finer than int8 itself
	}
	// Exact zeros (ReLU's floor, padding) quantise without error whatever
	// the window; left in, their spike would be smeared over a level's
	// bins by Q and make every wide window look bad.
	count := append([]float64(nil), h.count...)
	if zb := -h.off; zb >= 0 && zb < int64(len(count)) {
		count[zb] = max(count[zb]-h.zeros, 0)
	}
	best := math.Inf(1)
	bestL, bestR := a, b
	p := make([]float64, total)
	q := make([]float64, total)
	for _, n := range candidates(levels, total) {
		t := float64(n) / float64(total)
		l := z - int(math.Round(t*float64(left)))
		r := z + int(math.Round(t*float64(right)))
		if r-l < levels {
			continue
		}
		kl := klDivergence(count, a, l, r, b, p[:r-l], q[:r-l])
		if kl < best {
			best, bestL, bestR = kl, l, r
		}
	}
	lo, hi := h.edge(bestL), h.edge(bestR)
	if bestL == a {
		lo = h.min
	}
	if bestR == b {
		hi = h.max
	}
	return lo, hi
}

// klDivergence returns KL(P‖Q) for the window [l, r) of count (used bins
// [a, b)): P is the window with the outliers folded into its edge bins, Q
// the window merged into 256 levels and expanded back over P's non-empty
// bins. p and q are scratch of length r−l.
func klDivergence(count []float64, a, l, r, b int, p, q []float64) float64 {
	w := r - l
	copy(p, count[l:r])
	for i := a; i < l; i++ {
		p[0] += count[i]
	}
	for i := r; i < b; i++ {
		p[w-1] += count[i]
	}
	for k := 0; k < levels; k++ {
		s, e := k*w/levels, (k+1)*w/levels
		var sum, nz float64
		for i := s; i < e; i++ {
			sum += count[l+i]
			if p[i] != 0 {
				nz++
			}
		}
		for i := s; i < e; i++ {
			q[i] = 0
			if p[i] != 0 && nz > 0 {
				q[i] = sum / nz
			}
		}
	}
	if !smooth(p) || !smooth(q) {
		return math.Inf(1)
	}
	var kl float64
	for i := range p {
		if p[i] > 0 {
			kl += p[i] * math.Log(p[i]/q[i])
		}
	}
	return kl
}

// smooth normalises d to sum 1 and moves a little mass (1e-4 per empty
// bin) from the non-empty bins to the empty ones, so that the divergence
// stays finite; false when d is all zero.
func smooth(d []float64) bool {
	var sum, zeros float64
	for _, v := range d {
		sum += v
		if v == 0 {
			zeros++
		}
	}
	nonzero := float64(len(d)) - zeros
	if sum <= 0 || nonzero == 0 {
		return false
	}
	const eps = 1e-4
	eps1 := eps * zeros / nonzero
	for i, v := range d {
		v /= sum
		if v == 0 {
			d[i] = eps
		} else {
			d[i] = max(v-eps1, eps*1e-3)
		}
	}
	return true
}
