//go:build !purego && (arm64 || amd64)

package asm

import "unsafe"

// q8PoolMaxTaps is the largest window q8MaxPoolArch takes (4×4).
const q8PoolMaxTaps = 16

// q8MaxPoolArch runs QPool2D.Max on qs8_maxpool_minmax_c16 (q8PoolPath)
// when that path is selected, C ≥ 16 and the window has at most 16 taps,
// and reports whether it did. The channels after the last whole 16 run in
// Go.
func q8MaxPoolArch(p *QPool2D, in, out []int8, r0, r1 int) bool {
	c := p.C
	nb := c / 16 * 16
	if level < pathLevel(q8PoolPath) || nb == 0 || p.KH*p.KW > q8PoolMaxTaps {
		return false
	}
	lo, hi := int8(p.ActMin), int8(p.ActMax)
	var taps [q8PoolMaxTaps]unsafe.Pointer
	var offs [q8PoolMaxTaps]int
	full := p.KH * p.KW
	step := max(1, p.StrideW) * c
	for oy := r0; oy < r1; oy++ {
		n := 0
		for ox := 0; ox < p.OutW; ox++ {
			q := oy*p.OutW + ox
			o := out[q*p.OutStride : q*p.OutStride+c]
			// The taps of a whole window are the previous pixel's, one
			// stride on (its tap list costs more than the SIMD body).
			if n == full && ox*max(1, p.StrideW)-p.PadL+(p.KW-1)*max(1, p.DilW) < p.InW {
				for i := range taps[:n] {
					taps[i] = unsafe.Add(taps[i], step)
					offs[i] += step
				}
			} else {
				n = p.tapList(in, oy, ox, taps[:], offs[:])
			}
			if n == 0 {
				fillInt8(o, min(max(-128, lo), hi))
				continue
			}
			q8MaxPoolSIMD16(&taps[0], n, nb, &o[0], p.ActMin, p.ActMax)
			for i := nb; i < c; i++ {
				v := int8(-128)
				for _, off := range offs[:n] {
					v = max(v, in[off+i])
				}
				o[i] = min(max(v, lo), hi)
			}
		}
	}
	return true
}

// q8MeanArch runs QMean.Run (HW ≥ 1, arguments checked) with the channel
// sums of each whole block of 16 from c0 on qs8_gavgpool_sum_c16
// (q8PoolPath) when that path is selected, and reports whether it did. The
// sums are exact, so every mode's epilogue (finish) is unchanged.
func q8MeanArch(m *QMean, in, out []int8, c0, c1 int) bool {
	nb := (c1 - c0) / 16 * 16
	if level < pathLevel(q8PoolPath) || nb == 0 || m.HW >= 1<<24 {
		return false
	}
	var s [16]int32
	for c := c0; c < c0+nb; c += 16 {
		x := in[c : (m.HW-1)*m.C+c+16]
		q8SumColsSIMD16(&x[0], m.HW, m.C, &s)
		for j, v := range s {
			out[c+j] = m.finish(v, true)
		}
	}
	for c := c0 + nb; c < c1; c++ {
		var v int32
		for p := 0; p < m.HW; p++ {
			v += int32(in[p*m.C+c])
		}
		out[c] = m.finish(v, false)
	}
	return true
}

// q8AvgPoolTaps is the largest window q8AvgPoolArch takes (MobileNet v1's
// 7×7 average pool has 49 taps); q8AvgPoolChans the channels summed per
// call (the sums stay on the stack).
const (
	q8AvgPoolTaps  = 64
	q8AvgPoolChans = 256
)

// q8AvgPoolArch runs QPool2D.Avg with the window sums of whole blocks of 16
// channels from qs8_avgpool_sum_c16 (q8PoolPath) when that path is
// selected, C ≥ 16 and the window has at most q8AvgPoolTaps taps, and
// reports whether it did. The sums are exact, so the rounding division
// (avg) and clamp are the Go body's; the channels after the last whole 16
// are summed in Go.
func q8AvgPoolArch(p *QPool2D, in, out []int8, r0, r1 int) bool {
	c := p.C
	nb := c / 16 * 16
	if level < pathLevel(q8PoolPath) || nb == 0 || p.KH*p.KW > q8AvgPoolTaps {
		return false
	}
	var taps [q8AvgPoolTaps]unsafe.Pointer
	var offs [q8AvgPoolTaps]int
	var sums [q8AvgPoolChans]int32
	for oy := r0; oy < r1; oy++ {
		for ox := 0; ox < p.OutW; ox++ {
			q := oy*p.OutW + ox
			o := out[q*p.OutStride : q*p.OutStride+c]
			n := p.tapList(in, oy, ox, taps[:], offs[:])
			if n == 0 {
				fillInt8(o, int8(min(max(0, p.ActMin), p.ActMax)))
				continue
			}
			for c0 := 0; c0 < nb; c0 += q8AvgPoolChans {
				m := min(q8AvgPoolChans, nb-c0)
				q8SumTapsSIMD16(&taps[0], n, m, &sums[0])
				oc := o[c0 : c0+m]
				for j, v := range sums[:m] {
					oc[j] = int8(min(max(p.avg(v, int32(n)), p.ActMin), p.ActMax))
				}
				for t := range taps[:n] {
					taps[t] = unsafe.Add(taps[t], m)
				}
			}
			for i := nb; i < c; i++ {
				var v int32
				for _, off := range offs[:n] {
					v += int32(in[off+i])
				}
				o[i] = int8(min(max(p.avg(v, int32(n)), p.ActMin), p.ActMax))
			}
		}
	}
	return true
}

// tapList stores the address and byte offset in in of each valid window
// tap of output pixel (oy, ox) in taps and offs (long enough for KH·KW) and
// returns their number.
func (p *QPool2D) tapList(in []int8, oy, ox int, taps []unsafe.Pointer, offs []int) int {
	c := p.C
	iy0, ix0, dh, dw, kh0, kh1, kw0, kw1 := p.window(oy, ox)
	n := 0
	for kh := kh0; kh < kh1; kh++ {
		row := (iy0 + kh*dh) * p.InW
		for kw := kw0; kw < kw1; kw++ {
			off := (row + ix0 + kw*dw) * c
			x := in[off : off+c]
			taps[n], offs[n] = unsafe.Pointer(&x[0]), off
			n++
		}
	}
	return n
}
