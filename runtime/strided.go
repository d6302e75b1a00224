package runtime

import "github.com/edgeinfer/edgeinfer/asm"

// copyPlan copies a tensor of logical shape between two storages, each
// addressed by its own logical strides. Layout conversions, transposes,
// slices, concat and split all reduce to it. The plan is built at prepare
// time (dims merged so the inner loop is long) and runs without allocating.
type copyPlan struct {
	shape, ds, ss []int
	empty         bool
	// planes is C when the copy interleaves C contiguous planes of
	// shape[1] elements into pixels of C (an NCHW input to NHWC), which
	// runs pixel by pixel instead of as C strided passes.
	planes int
}

func newCopyPlan(shape, dstStr, srcStr []int) *copyPlan {
	p := &copyPlan{}
	for _, d := range shape {
		if d == 0 {
			p.empty = true
		}
	}
	p.shape, p.ds, p.ss = simplifyDims(shape, dstStr, srcStr)
	if sh := p.shape; len(sh) == 2 && sh[0] <= 4 && p.ds[0] == 1 && p.ds[1] == sh[0] && p.ss[0] == sh[1] && p.ss[1] == 1 {
		p.planes = sh[0]
	}
	return p
}

// interleave writes out[q·c + k] = in[k·hw + q]: c planes of hw elements
// into hw pixels of c, with c = 3 (RGB) unrolled.
func interleave[T any](dst, src []T, c, hw int) {
	if c == 3 {
		r, g, b := src[:hw], src[hw:2*hw], src[2*hw:3*hw]
		dst = dst[:3*hw]
		for q := range r {
			d := dst[3*q : 3*q+3 : 3*q+3]
			d[0], d[1], d[2] = r[q], g[q], b[q]
		}
		return
	}
	for q := 0; q < hw; q++ {
		for k := 0; k < c; k++ {
			dst[q*c+k] = src[k*hw+q]
		}
	}
}

// f32 copies float32 elements.
func (p *copyPlan) f32(dst, src []float32) {
	if p.empty {
		return
	}
	if len(p.shape) == 0 {
		dst[0] = src[0]
		return
	}
	if p.planes == 3 {
		// An RGB image (the models' input copy): the SIMD body.
		hw := p.shape[1]
		asm.InterleaveRGBF32(dst, src[:hw], src[hw:2*hw], src[2*hw:3*hw])
		return
	}
	if p.planes > 0 {
		interleave(dst, src, p.planes, p.shape[1])
		return
	}
	copyRec(dst, p.ds, src, p.ss, p.shape, 0, 0, 0)
}

// copyRec walks the outer dims recursively; the innermost dim is a plain
// indexed loop (or one copy when both sides are contiguous), so a layout
// transpose such as an NCHW input's costs a few instructions per element.
func copyRec[T any](dst []T, ds []int, src []T, ss []int, shape []int, d, do, so int) {
	n := shape[d]
	if d == len(shape)-1 {
		a, b := ds[d], ss[d]
		if a == 1 && b == 1 {
			copy(dst[do:do+n], src[so:so+n])
			return
		}
		if n > 0 {
			_, _ = dst[do+(n-1)*a], src[so+(n-1)*b]
		}
		for i := 0; i < n; i++ {
			dst[do+i*a] = src[so+i*b]
		}
		return
	}
	for i := 0; i < n; i++ {
		copyRec(dst, ds, src, ss, shape, d+1, do+i*ds[d], so+i*ss[d])
	}
}

// bytes copies elements of es bytes.
func (p *copyPlan) bytes(dst, src []byte, es int) {
	if p.empty {
		return
	}
	if len(p.shape) == 0 {
		copy(dst[:es], src[:es])
		return
	}
	if es == 1 && p.planes == 3 {
		// A quantised RGB image (an int8 model's input copy).
		hw := p.shape[1]
		asm.InterleaveRGB8(dst, src[:hw], src[hw:2*hw], src[2*hw:3*hw])
		return
	}
	if es == 1 && p.planes > 0 {
		interleave(dst, src, p.planes, p.shape[1])
		return
	}
	if es == 1 {
		copyRec(dst, p.ds, src, p.ss, p.shape, 0, 0, 0)
		return
	}
	copyRecBytes(dst, p.ds, src, p.ss, p.shape, 0, 0, 0, es)
}

func copyRecBytes(dst []byte, ds []int, src []byte, ss []int, shape []int, d, do, so, es int) {
	for i := 0; i < shape[d]; i++ {
		o, s := do+i*ds[d], so+i*ss[d]
		if d == len(shape)-1 {
			copy(dst[o*es:o*es+es], src[s*es:s*es+es])
		} else {
			copyRecBytes(dst, ds, src, ss, shape, d+1, o, s, es)
		}
	}
}

// stridedCopy is a one-shot copyPlan (prepare time only: it allocates).
func stridedCopy(dst []float32, dstStr []int, src []float32, srcStr []int, shape []int) {
	newCopyPlan(shape, dstStr, srcStr).f32(dst, src)
}

// simplifyDims drops size-1 dims and merges dims that are contiguous in
// both operands, so the innermost loop is as long as possible. It returns
// new slices only when something changes; callers use it at prepare time
// or on small shapes.
func simplifyDims(shape, a, b []int) ([]int, []int, []int) {
	var s2, a2, b2 []int
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if n := len(s2); n > 0 && a2[n-1] == a[i]*d && b2[n-1] == b[i]*d {
			s2[n-1] *= d
			a2[n-1], b2[n-1] = a[i], b[i]
			continue
		}
		s2 = append(s2, d)
		a2 = append(a2, a[i])
		b2 = append(b2, b[i])
	}
	return s2, a2, b2
}

// forEach calls f with every multi-index of shape in row-major order (the
// slow general path; prepare-time and rare ops only).
func forEach(shape []int, f func(ix []int)) {
	for _, d := range shape {
		if d == 0 {
			return
		}
	}
	ix := make([]int, len(shape))
	for {
		f(ix)
		d := len(shape) - 1
		for ; d >= 0; d-- {
			ix[d]++
			if ix[d] < shape[d] {
				break
			}
			ix[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
