package input

import (
	"image"
	"math"
)

// Antialiased resampling (Spec.Antialias): Pillow's Image.resize with
// Image.BILINEAR, bit for bit (Pillow's libImaging/Resample.c). The triangle
// filter's support widens by the scale factor when downscaling, so every
// source pixel contributes; weights are normalised per output pixel and
// turned into fixed-point integers with aaPrecisionBits fraction bits. The
// image is resampled horizontally, each value rounded and clipped to 8
// bits, then vertically, rounded and clipped again. When upscaling the
// weights are those of plain bilinear interpolation, but the per-pass
// rounding still applies, so the result can differ from the unrounded
// default path by a level.

// aaPrecisionBits is Pillow's PRECISION_BITS (32 − 8 − 2).
const aaPrecisionBits = 32 - 8 - 2

// aaAxis is the filter of one axis for output positions [off, off+n) of a
// src → dst resize: output i reads kcount[i] source pixels from kmin[i],
// with weights k[i*ksize:][:kcount[i]].
type aaAxis struct {
	ksize        int
	kmin, kcount []int32
	k            []int32
	tmp          []float64
}

// plan fills the axis as Pillow's precompute_coeffs and
// normalize_coeffs_8bpc do for a full src → dst resize, keeping only the
// outputs off..off+n−1 (a centre crop of the resized image).
func (a *aaAxis) plan(src, dst, off, n int) {
	scale := float64(src) / float64(dst)
	filterscale := max(scale, 1)
	support := 1.0 * filterscale // the bilinear filter's support is 1
	a.ksize = int(math.Ceil(support))*2 + 1
	a.kmin, a.kcount = grow(a.kmin, n), grow(a.kcount, n)
	a.k = grow(a.k, n*a.ksize)
	a.tmp = grow(a.tmp, a.ksize)
	ss := 1 / filterscale
	for i := 0; i < n; i++ {
		center := (float64(i+off) + 0.5) * scale
		// int() truncates toward zero, as C's (int) cast.
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), src) - xmin
		ww := 0.0
		w := a.tmp[:xmax]
		for x := range w {
			t := math.Abs((float64(x+xmin) - center + 0.5) * ss)
			w[x] = 0
			if t < 1 {
				w[x] = 1 - t
			}
			ww += w[x]
		}
		k := a.k[i*a.ksize : (i+1)*a.ksize]
		for x := range k {
			k[x] = 0
		}
		for x, v := range w {
			if ww != 0 {
				v /= ww
			}
			// Weights are never negative for the triangle filter.
			k[x] = int32(0.5 + v*(1<<aaPrecisionBits))
		}
		a.kmin[i], a.kcount[i] = int32(xmin), int32(xmax)
	}
}

// aaState holds the antialiased resampler's tables and buffers.
type aaState struct {
	x, y aaAxis
	// Ring of horizontally resampled source rows, Width·Channels bytes
	// each: source row r lives in slot r mod len(tag) once tag says so.
	ring []byte
	tag  []int
	out  []byte // one output row before normalisation
}

// planAA builds the antialiased tables for a sw×sh source resized to
// rw×rh and cropped at (left, top).
func (p *Preprocessor) planAA(sw, sh, rw, rh, left, top int) {
	s := &p.spec
	a := &p.aa
	a.x.plan(sw, rw, left, s.Width)
	a.y.plan(sh, rh, top, s.Height)
	rowLen := s.Width * s.Channels
	a.ring = grow(a.ring, a.y.ksize*rowLen)
	a.tag = grow(a.tag, a.y.ksize)
	a.out = grow(a.out, rowLen)
	// The source columns read: the union of the (ascending) windows.
	p.cols = p.cols[:0]
	last := int32(-1)
	for i := range a.x.kmin {
		for c := max(a.x.kmin[i], last+1); c < a.x.kmin[i]+a.x.kcount[i]; c++ {
			p.cols = append(p.cols, c)
			last = c
		}
	}
}

// clip8 is Pillow's clip8: a fixed-point sum to 8 bits, clamped.
func clip8(v int32) byte {
	v >>= aaPrecisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// runAA is Run with antialiased resampling; the tables are planned.
func (p *Preprocessor) runAA(img image.Image, dst []float32) {
	s := &p.spec
	a := &p.aa
	W, H, C := s.Width, s.Height, s.Channels
	rowLen := W * C
	for i := range a.tag {
		a.tag[i] = -1
	}
	ks := a.y.ksize
	const half = 1 << (aaPrecisionBits - 1)
	for dy := 0; dy < H; dy++ {
		ymin, ycnt := int(a.y.kmin[dy]), int(a.y.kcount[dy])
		for r := ymin; r < ymin+ycnt; r++ {
			if a.tag[r%ks] != r {
				p.resampleRowAA(img, r, a.ring[(r%ks)*rowLen:][:rowLen])
				a.tag[r%ks] = r
			}
		}
		k := a.y.k[dy*ks:][:ycnt]
		out := a.out[:rowLen]
		for i := range out {
			sum := int32(half)
			for j, w := range k {
				sum += int32(a.ring[((ymin+j)%ks)*rowLen+i]) * w
			}
			out[i] = clip8(sum)
		}
		for oc := 0; oc < C; oc++ {
			mul, add, kc := p.mul[oc], p.add[oc], p.src[oc]
			if C == 1 {
				kc = 0
			}
			if s.Layout == NHWC {
				o := dst[dy*rowLen : (dy+1)*rowLen]
				for i := kc; i < rowLen; i += C {
					o[i-kc+oc] = float32(out[i])*mul + add
				}
				continue
			}
			o := dst[(oc*H+dy)*W : (oc*H+dy+1)*W]
			for dx := range o {
				o[dx] = float32(out[dx*C+kc])*mul + add
			}
		}
	}
}

// resampleRowAA converts source row y and resamples it horizontally into
// out (Width·Channels bytes), rounding as Pillow's horizontal pass.
func (p *Preprocessor) resampleRowAA(img image.Image, y int, out []byte) {
	row := p.convertRow(img, y)
	ax := &p.aa.x
	const half = 1 << (aaPrecisionBits - 1)
	if p.spec.Channels == 1 {
		for dx := range out {
			xmin := int(ax.kmin[dx])
			k := ax.k[dx*ax.ksize:][:ax.kcount[dx]]
			src := row[xmin:][:len(k)]
			sum := int32(half)
			for j, w := range k {
				sum += int32(src[j]) * w
			}
			out[dx] = clip8(sum)
		}
		return
	}
	for dx := 0; dx < len(out)/3; dx++ {
		xmin := int(ax.kmin[dx])
		k := ax.k[dx*ax.ksize:][:ax.kcount[dx]]
		src := row[3*xmin:][:3*len(k)]
		s0, s1, s2 := int32(half), int32(half), int32(half)
		for j, w := range k {
			q := src[3*j : 3*j+3]
			s0 += int32(q[0]) * w
			s1 += int32(q[1]) * w
			s2 += int32(q[2]) * w
		}
		o := out[3*dx : 3*dx+3]
		o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
	}
}
