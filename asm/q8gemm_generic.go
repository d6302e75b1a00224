package asm

// The portable int8 GEMM computes two int32 dot products with one 64-bit
// multiply-add. A packed weight lane pair holds two columns, v0 + v1·2^32,
// with |v| ≤ 255 (a weight minus its zero point); multiplying by an input
// x ∈ [-128, 127] and summing over k gives S0 + S1·2^32 exactly in int64, as
// long as |S0|, |S1| < 2^31 − 2^15: at most 2^16 steps of |x·v| ≤ 32640. The
// low half is then int32(s), and the high half (s − S0) >> 32. Sums over
// longer depths are split into chunks of q8KC steps and added in int32 (which
// wraps like TFLite's accumulator, so the result is the same modulo 2^32).

// q8GemmBlock computes output columns [j0, j1) of rows [0, m): j0 is a
// multiple of 8 and indexes both the panels in w and the columns of c; bias
// holds the folded bias of those columns; Requant channel ch0+j serves
// column j.
func q8GemmBlock(mr, m, k int, a []int8, lda int, w []q8Quad, bias []int32, rq *Requant, ch0 int, c []int8, ldc int, j0, j1 int) {
	var acc [4 * q8NR]int32
	for j := j0; j < j1; j += q8NR {
		nj := min(q8NR, j1-j)
		panel := w[(j/q8NR)*k : (j/q8NR+1)*k]
		for i := 0; i < m; {
			rows := min(mr, m-i)
			if rows == 3 {
				rows = 2
			}
			q8TileAcc(rows, k, a[i*lda:], lda, panel, &acc)
			for r := 0; r < rows; r++ {
				q8Epilogue(acc[r*q8NR:r*q8NR+nj], bias[j:j+nj], rq, ch0+j, c[(i+r)*ldc+j:(i+r)*ldc+j+nj])
			}
			i += rows
		}
	}
}

// q8TileAcc sets acc[r·8+j] = Σ_k a[r·lda+k]·B[k][j] (wrapping int32) for
// r < rows ∈ {1, 2, 4} and the 8 columns of a packed panel, summing lane
// pairs over chunks of at most q8KC steps.
func q8TileAcc(rows, k int, a []int8, lda int, panel []q8Quad, acc *[4 * q8NR]int32) {
	*acc = [4 * q8NR]int32{}
	for kk := 0; kk < k; kk += q8KC {
		kc := min(q8KC, k-kk)
		b := panel[kk : kk+kc]
		a0 := a[kk : kk+kc]
		switch rows {
		case 1:
			q8Kernel1x8(a0, b, (*[8]int32)(acc[:8]))
		case 2:
			q8Kernel2x8(a0, a[lda+kk:lda+kk+kc], b, (*[16]int32)(acc[:16]))
		default:
			q8Kernel4x8(a0, a[lda+kk:lda+kk+kc], a[2*lda+kk:2*lda+kk+kc], a[3*lda+kk:3*lda+kk+kc], b, acc)
		}
	}
}

// q8Epilogue adds the folded bias to a row of accumulators and requantises
// them into out; channel ch serves acc[0]. The rounding switch sits outside
// the loops so that each loop inlines its arithmetic.
func q8Epilogue(acc, bias []int32, rq *Requant, ch int, out []int8) {
	n := len(acc)
	out = out[:n]
	bias = bias[:n]
	mult := rq.Mult[ch : ch+n]
	shift := rq.Shift[ch : ch+n]
	zo, lo, hi := rq.OutZero, rq.Min, rq.Max
	switch rq.Rounding {
	case RoundDouble:
		// Branch-free: a left shift of max(s, 0), the doubling high multiply
		// (Requant.check guarantees m ≥ 0, so it cannot saturate), and a
		// rounding right shift of max(−s, 0), which is exact for 0.
		for i, v := range acc {
			s := shift[i]
			l, r := uint(max(s, 0)), uint(max(-s, 0))
			mask := int32(1)<<r - 1
			x := srdhmPos((v+bias[i])<<l, int64(mult[i]))
			x = rdivPOTMask(x, r, mask, mask>>1)
			out[i] = int8(min(max(zo+x, lo), hi))
		}
	default:
		mode := rq.Rounding
		for i, v := range acc {
			r := zo + rescale(mode, v+bias[i], mult[i], shift[i])
			out[i] = int8(min(max(r, lo), hi))
		}
	}
}

// lanes splits a lane-pair sum into its two int32 dot products.
func lanes(s int64) (lo, hi int32) {
	lo = int32(s)
	return lo, int32((s - int64(lo)) >> 32)
}

// q8Kernel1x8 adds Σ_k a0[k]·B[k][0:8] to acc; b holds len(a0) quads of
// lane pairs.
func q8Kernel1x8(a0 []int8, b []q8Quad, acc *[8]int32) {
	var s0, s1, s2, s3 int64
	b = b[:len(a0)]
	for i, x := range a0 {
		x0, bb := int64(x), &b[i]
		s0 += x0 * bb[0]
		s1 += x0 * bb[1]
		s2 += x0 * bb[2]
		s3 += x0 * bb[3]
	}
	for q, s := range [4]int64{s0, s1, s2, s3} {
		lo, hi := lanes(s)
		acc[2*q] += lo
		acc[2*q+1] += hi
	}
}

// q8Kernel2x8 is q8Kernel1x8 for two rows; acc[r·8+j] is row r column j.
// Each weight quad element is loaded once and used for both rows right
// away, which keeps the live registers (8 sums, 2 inputs, 1 weight, 4
// indices) within amd64's 14.
func q8Kernel2x8(a0, a1 []int8, b []q8Quad, acc *[16]int32) {
	var s00, s01, s02, s03, s10, s11, s12, s13 int64
	a1 = a1[:len(a0)]
	b = b[:len(a0)]
	for i, x := range a0 {
		x0, x1, bb := int64(x), int64(a1[i]), &b[i]
		v := bb[0]
		s00 += x0 * v
		s10 += x1 * v
		v = bb[1]
		s01 += x0 * v
		s11 += x1 * v
		v = bb[2]
		s02 += x0 * v
		s12 += x1 * v
		v = bb[3]
		s03 += x0 * v
		s13 += x1 * v
	}
	for q, s := range [8]int64{s00, s01, s02, s03, s10, s11, s12, s13} {
		lo, hi := lanes(s)
		acc[(q/4)*8+2*(q%4)] += lo
		acc[(q/4)*8+2*(q%4)+1] += hi
	}
}

// q8Kernel4x8 is q8Kernel1x8 for four rows; acc[r·8+j] is row r column j.
// Its 16 sums exceed amd64's registers; it is meant for arm64 (31).
func q8Kernel4x8(a0, a1, a2, a3 []int8, b []q8Quad, acc *[32]int32) {
	var s00, s01, s02, s03, s10, s11, s12, s13 int64
	var s20, s21, s22, s23, s30, s31, s32, s33 int64
	n := len(a0)
	a1, a2, a3 = a1[:n], a2[:n], a3[:n]
	b = b[:n]
	for i, x := range a0 {
		x0, x1, x2, x3, bb := int64(x), int64(a1[i]), int64(a2[i]), int64(a3[i]), &b[i]
		v := bb[0]
		s00 += x0 * v
		s10 += x1 * v
		s20 += x2 * v
		s30 += x3 * v
		v = bb[1]
		s01 += x0 * v
		s11 += x1 * v
		s21 += x2 * v
		s31 += x3 * v
		v = bb[2]
		s02 += x0 * v
		s12 += x1 * v
		s22 += x2 * v
		s32 += x3 * v
		v = bb[3]
		s03 += x0 * v
		s13 += x1 * v
		s23 += x2 * v
		s33 += x3 * v
	}
	for q, s := range [16]int64{s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33} {
		lo, hi := lanes(s)
		acc[(q/4)*8+2*(q%4)] += lo
		acc[(q/4)*8+2*(q%4)+1] += hi
	}
}
