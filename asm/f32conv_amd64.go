//go:build !purego

package asm

// The implicit (im2col-free) convolution on the avx2 path: the panel
// kernels f32GemmAvx2I6x{16,8} (f32gemm_avx2_amd64.s) read each pixel's
// window straight from the input, or from a zero-padded copy of the rows
// the tile needs, instead of from an im2col tile.

//go:noescape
func f32GemmAvx2I6x16(strips int, a *float32, segs *[2]int, nseg int, rows *int, b *float32, init *float32, istride int, c *float32, ldc int, lo, hi float32, pf *float32, pfn int)

//go:noescape
func f32GemmAvx2I6x8(strips int, a *float32, segs *[2]int, nseg int, rows *int, b *float32, init *float32, istride int, c *float32, ldc int, lo, hi float32, pf *float32, pfn int)

const (
	// f32ImplicitMinRun is the shortest run of contiguous k the implicit
	// kernels take (C, or KW·C when the taps of a kernel row are adjacent
	// in the input): each run is a segment with its own setup (≈ 20
	// instructions, against ≈ 20 per k step of the 6×16 tile).
	f32ImplicitMinRun = 8
	// f32ImplicitMaxRows bounds the pixels of one call (tilePixelsWide
	// returns at most 258), rounded up to whole strips.
	f32ImplicitMaxRows = 264
	// f32ImplicitMaxSegs bounds the segments of one k block: at most
	// f32Avx2KC+3 k steps in runs of ≥ f32ImplicitMinRun.
	f32ImplicitMaxSegs = (f32Avx2KC+3)/f32ImplicitMinRun + 2
)

// f32ImplicitPanel calls the 16- or 8-column implicit panel kernel.
func f32ImplicitPanel(wide bool, strips int, a *float32, segs *[2]int, nseg int, rows *int, b *float32, init *float32, istride int, c *float32, ldc int, lo, hi float32, pf *float32, pfn int) {
	if wide {
		f32GemmAvx2I6x16(strips, a, segs, nseg, rows, b, init, istride, c, ldc, lo, hi, pf, pfn)
		return
	}
	f32GemmAvx2I6x8(strips, a, segs, nseg, rows, b, init, istride, c, ldc, lo, hi, pf, pfn)
}

// convImplicitAVX2 runs output pixels [p0, p1) of a one-group convolution
// that is not direct on the implicit panel kernels and reports whether it
// did (false: runs shorter than f32ImplicitMinRun, or scratch too small for
// the padded rows). A pixel's GEMM row is its KH·KW windows of C channels;
// the kernels read them at the window origin plus one offset per tap, from
// the input itself when no window leaves it, otherwise from a zero-padded
// copy of the tile's input rows in scratch (about (rows·StrideH+KH)·W·C
// floats, against the im2col tile's pixels·KH·KW·C). k blocks, their order
// and the FMA order per element are those of f32GemmBlockAVX2 on the
// im2col tile, so the results are the same.
func convImplicitAVX2(c *Conv2D, in, packed, bias, out, scratch []float32, p0, p1 int) bool {
	C := c.InC
	m := p1 - p0
	// A segment is a run of k contiguous in every window: a kernel row's
	// KW taps × C channels when DilW is 1, else one tap's C channels.
	run := C
	if c.DilW == 1 {
		run = c.KW * C
	}
	if c.groups() != 1 || run < f32ImplicitMinRun || m > f32ImplicitMaxRows {
		return false
	}
	if c.OutC == 0 {
		return true
	}
	// Window origins in padded coordinates: pixel (oy, ox) at row oy·StrideH,
	// column ox·StrideW; the tile needs padded rows [py0, py1).
	oy0, oy1 := p0/c.OutW, (p1-1)/c.OutW
	py0 := oy0 * c.StrideH
	py1 := oy1*c.StrideH + (c.KH-1)*c.DilH + 1
	wp := (c.OutW-1)*c.StrideW + (c.KW-1)*c.DilW + 1
	var base []float32
	var rs int   // floats per row of base
	var need int // floats of scratch the padded rows take
	if c.PadT == 0 && c.PadL == 0 && py1 <= c.InH && wp <= c.InW {
		base, rs = in[py0*c.InW*C:], c.InW*C
	} else {
		need = (py1 - py0) * wp * C
		if need > len(scratch) {
			return false
		}
		base, rs = scratch[:need], wp*C
		x0 := min(c.PadL, wp)                // first padded column inside the input
		x1 := max(min(wp, c.PadL+c.InW), x0) // one past the last
		for py := py0; py < py1; py++ {
			dst := base[(py-py0)*rs : (py-py0+1)*rs]
			iy := py - c.PadT
			if iy < 0 || iy >= c.InH {
				clear(dst)
				continue
			}
			clear(dst[:x0*C])
			src := (iy*c.InW + x0 - c.PadL) * C
			copy(dst[x0*C:x1*C], in[src:src+(x1-x0)*C])
			clear(dst[x1*C:])
		}
	}
	// Byte offsets of each pixel's window origin; a short last strip is
	// padded with the last pixel's (for the stack tile, whose extra rows
	// are dropped).
	var rows [f32ImplicitMaxRows]int
	strips := m / f32Avx2MR
	mr := roundUp(m, f32Avx2MR)
	for i := 0; i < mr; i++ {
		p := p0 + min(i, m-1)
		oy, ox := p/c.OutW, p%c.OutW
		rows[i] = 4 * ((oy*c.StrideH-py0)*rs + ox*c.StrideW*C)
	}
	taps := c.KH * c.KW
	tapOff := func(t int) int { return (t/c.KW)*c.DilH*rs + (t%c.KW)*c.DilW*C }
	runOff := tapOff // offset of run t from a window's origin
	if run != C {
		runOff = func(t int) int { return t * c.DilH * rs }
	}
	// The kernels read up to the last pixel's last tap.
	_ = base[rows[m-1]/4+tapOff(taps-1)+C-1]

	K, n := taps*C, c.OutC
	ldc := c.OutStride
	cout := out[p0*ldc:]
	_ = cout[(m-1)*ldc+n-1]
	kc := K
	if K > f32Avx2KC {
		kc = roundUp(ceilDiv(K, ceilDiv(K, f32Avx2KC)), 4)
	}
	// The last r = m%6 rows: im2col'd once into scratch after the padded
	// rows and run, per k block and column tile, on the r-row tiles (r×32
	// over two panels for r ≤ 3) while the panel's B block is in L1, as in
	// f32GemmBlockAVX2; without room for them, on a 6-row stack tile.
	r := m - strips*f32Avx2MR
	m6 := strips * f32Avx2MR
	var at []float32
	if r > 0 && need+r*K <= len(scratch) {
		at = scratch[need : need+r*K]
		c.im2col(in, at, 0, p0+m6, p1)
	}
	var segs [f32ImplicitMaxSegs][2]int
	var zero [2 * f32Avx2NR]float32
	none := NoClamp()
	for k0 := 0; k0 < K; k0 += kc {
		kb := min(kc, K-k0)
		first, last := k0 == 0, k0+kb == K
		cl := none
		if last {
			cl = c.Clamp
		}
		nseg := 0
		for k := k0; k < k0+kb; nseg++ {
			t, i := k/run, k%run // run t, element i of it
			e := min(k0+kb, (t+1)*run)
			segs[nseg] = [2]int{4 * (runOff(t) + i), e - k}
			k = e
		}
		for j0 := 0; j0 < n; {
			o := j0 % f32Avx2NR // 0 or 8: tiles are 32, 16, 8 or < 8 columns
			pb := ((j0/f32Avx2NR)*K + k0) * f32Avx2NR
			if at != nil && o == 0 && n-j0 >= 2*f32Avx2NR && r <= 3 {
				// Two panels, then the last r rows against both as one
				// r×32 tile.
				const w = 2 * f32Avx2NR
				_ = packed[pb+K*f32Avx2NR+(kb-1)*f32Avx2NR+f32Avx2NR-1]
				init, istride := &zero[0], 0
				switch {
				case !first:
					init, istride = &cout[j0], ldc
				case bias != nil:
					_ = bias[j0+w-1]
					init = &bias[j0]
				}
				for h := 0; h < 2 && strips > 0; h++ {
					jh, ph := j0+h*f32Avx2NR, pb+h*K*f32Avx2NR
					pf, pfn := &packed[ph], 0
					if next := ph + K*f32Avx2NR; jh+f32Avx2NR < n && next+kb*f32Avx2NR <= len(packed) {
						pf, pfn = &packed[next], kb
					}
					ih := init
					if !first {
						ih = &cout[jh]
					} else if bias != nil {
						ih = &bias[jh]
					}
					f32GemmAvx2I6x16(strips, &base[0], &segs[0], nseg, &rows[0], &packed[ph], ih, istride,
						&cout[jh], ldc, cl.Min, cl.Max, pf, pfn)
				}
				if !first {
					init = &cout[m6*ldc+j0]
				}
				f32Avx2Tile32(r, kb, &at[k0], K, &packed[pb], 4*K*f32Avx2NR, init, istride, &cout[m6*ldc+j0], ldc, cl.Min, cl.Max)
				j0 += w
				continue
			}
			w := n - j0
			switch {
			case o == 0 && w >= 16:
				w = 16
			case w >= 8:
				w = 8
			}
			_ = packed[pb+(kb-1)*f32Avx2NR+o+max(w, 8)-1]
			if w < 8 {
				// 1..7 columns: every strip on a stack tile.
				for s := 0; s*f32Avx2MR < m; s++ {
					f32ImplicitTile(s, m, w, o, first, kb, base, &segs, nseg, &rows, packed[pb:], bias, cout, j0, ldc, cl)
				}
				j0 += w
				continue
			}
			init, istride := &zero[0], 0
			switch {
			case !first:
				init, istride = &cout[j0], ldc
			case bias != nil:
				_ = bias[j0+w-1]
				init = &bias[j0]
			}
			if strips > 0 {
				// Prefetch the next panel's k block, as f32GemmBlockAVX2.
				pf, pfn := &packed[pb], 0
				if next := pb + K*f32Avx2NR; j0+w < n && next+kb*f32Avx2NR <= len(packed) {
					pf, pfn = &packed[next], kb
				}
				f32ImplicitPanel(w == 16, strips, &base[0], &segs[0], nseg, &rows[0], &packed[pb+o], init, istride,
					&cout[j0], ldc, cl.Min, cl.Max, pf, pfn)
			}
			switch {
			case r > 0 && at != nil:
				if !first {
					init = &cout[m6*ldc+j0]
				}
				f32Avx2Tile(r, w == 16, kb, &at[k0], K, &packed[pb+o], init, istride, &cout[m6*ldc+j0], ldc, cl.Min, cl.Max)
			case r > 0:
				f32ImplicitTile(strips, m, w, o, first, kb, base, &segs, nseg, &rows, packed[pb:], bias, cout, j0, ldc, cl)
			}
			j0 += w
		}
	}
	return true
}

// f32ImplicitTile runs strip s (rows 6s.. of m) of a k block against
// columns o..o+w-1 of the panel block b (w ≤ 16; 16 only at o = 0) through
// a 6×16 stack tile, for the last, short strip and for tiles of fewer than 8
// columns, which the kernels cannot store in place.
func f32ImplicitTile(s, m, w, o int, first bool, kb int, base []float32, segs *[f32ImplicitMaxSegs][2]int, nseg int,
	rows *[f32ImplicitMaxRows]int, b, bias, c []float32, j0, ldc int, cl Clamp) {
	var tmp [f32Avx2MR * f32Avx2NR]float32
	i0 := s * f32Avx2MR
	r := min(f32Avx2MR, m-i0)
	for i := 0; i < r; i++ {
		t := tmp[i*f32Avx2NR : i*f32Avx2NR+w]
		switch {
		case !first:
			copy(t, c[(i0+i)*ldc+j0:])
		case bias != nil:
			copy(t, bias[j0:])
		}
	}
	h := o &^ 7
	_ = b[(kb-1)*f32Avx2NR+h+max(w, 8)-1]
	f32ImplicitPanel(w > 8, 1, &base[0], &segs[0], nseg, &rows[i0], &b[h], &tmp[0], f32Avx2NR,
		&tmp[0], f32Avx2NR, cl.Min, cl.Max, &b[0], 0)
	for i := 0; i < r; i++ {
		copy(c[(i0+i)*ldc+j0:(i0+i)*ldc+j0+w], tmp[i*f32Avx2NR:])
	}
}
