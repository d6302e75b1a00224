package asm

// The float Winograd F(2×2, 3×3) convolution of amd64's avx2 path
// (winof32_amd64.go runs it): for a one-group, stride-1, undilated 3×3
// Conv2D, each 2×2 block of output pixels ("tile") is
//
//	Y = Aᵀ [ Σ_ci (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// with d the tile's 4×4 input patch, g the 3×3 kernel of (co, ci) and
// Lavin & Gray's F(2, 3) matrices
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//	G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//	Aᵀ = [1 1 1 0; 0 1 −1 −1]
//
// so the sum over ci is 16 independent GEMMs M_p = V_p · U_p (p = 4i+j the
// element of the 4×4 transforms; V_p tiles × InC, U_p InC × OutC), 16
// multiplies per tile per (ci, co) instead of 36. PackF32 appends the 16
// U_p, packed as wide GEMM panels, after the direct weights; the GEMMs run
// on f32GemmBlockAVX2.

// winoF32MinC is the fewest input and output channels that take the
// Winograd path (a variable so tests can reach small channel counts):
// 56×56 layers C → C ran at 1.00, 0.86, 0.77, 0.66 × the direct path's CPU
// time for C = 8, 16, 24, 32 (the transforms' share grows as C shrinks).
var winoF32MinC = 16

// winoF32Tiles is the number of 2×2 tiles a TilePixels range aims at: the
// GEMMs' M dimension (rows stream past each panel's k block in L1) and the
// reuse of each U_p fetched from L2/L3; V and M of a range take
// 64·tiles·(InC+OutC) bytes.
var winoF32Tiles = 32

// winoFits reports whether the geometry takes the Winograd path (weights
// already packed wide). Small images (columnSplit) keep the direct path:
// their column blocks stream the weights once, and 7×7 wastes 30 % of an
// 8×8 tiling.
func (c *Conv2D) winoFits() bool {
	return c.wide && c.groups() == 1 && c.KH == 3 && c.KW == 3 && c.StrideH == 1 && c.StrideW == 1 &&
		c.DilH == 1 && c.DilW == 1 && c.InC >= winoF32MinC && c.OutC >= winoF32MinC && !c.columnSplit() &&
		c.OutH > 0 && c.OutW > 0
}

// winoRowPairs is the output row pairs of a TilePixels range.
func (c *Conv2D) winoRowPairs() int {
	rp := ceilDiv(c.OutH, 2)
	tw := ceilDiv(c.OutW, 2)
	n := min(rp, max(1, winoF32Tiles/tw))
	return ceilDiv(rp, ceilDiv(rp, n)) // balanced
}

// winoScratch is the scratch a Winograd range needs: the zero-padded input
// rows, V and M (16 × tiles × InC and OutC), and OutC zeros for a nil bias.
func (c *Conv2D) winoScratch() int {
	rp, tw := c.winoRowPairs(), ceilDiv(c.OutW, 2)
	t := rp * tw
	return (2*rp+2)*(2*tw+2)*c.InC + 16*t*(c.InC+c.OutC) + c.OutC
}

// packWinoF32 returns U_p = G g Gᵀ (element p = 4a+b) of every (ci, co) as
// 16 B matrices InC × OutC, each packed in wide panels (packF32GemmB).
// The transform is done in float64 and rounded once.
func (c *Conv2D) packWinoF32(w []float32) []float32 {
	gm := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	C, N := c.InC, c.OutC
	u := make([][]float32, 16)
	for p := range u {
		u[p] = make([]float32, C*N)
	}
	for o := 0; o < N; o++ {
		for ci := 0; ci < C; ci++ {
			g := w[(o*C+ci)*9:]
			var t [4][3]float64 // G g
			for a := 0; a < 4; a++ {
				for l := 0; l < 3; l++ {
					for k := 0; k < 3; k++ {
						t[a][l] += gm[a][k] * float64(g[k*3+l])
					}
				}
			}
			for a := 0; a < 4; a++ {
				for b := 0; b < 4; b++ {
					var s float64
					for l := 0; l < 3; l++ {
						s += t[a][l] * gm[b][l]
					}
					u[4*a+b][ci*N+o] = float32(s)
				}
			}
		}
	}
	var out []float32
	for p := range u {
		out = append(out, packF32GemmB(u[p], C, N, f32GemmWideNR, false)...)
	}
	return out
}

// winoF32InRef is the input transform of channels [c0, c1) of tiles tiles:
// tile t's 4×4 patch d_ij is src[i·rs + (2t+j)·cs + ch], and V_p (p = 4i+j)
// of it goes to v[p·vps + t·cs + ch]. It is the oracle of winoF32InAvx2,
// which does the same operations in the same order: t = Bᵀ d by rows, then
// V = t B by columns.
func winoF32InRef(c0, c1 int, src []float32, rs, cs, tiles int, v []float32, vps int) {
	for t := 0; t < tiles; t++ {
		for ch := c0; ch < c1; ch++ {
			var d [4][4]float32
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					d[i][j] = src[i*rs+(2*t+j)*cs+ch]
				}
			}
			var tt [4][4]float32
			for j := 0; j < 4; j++ {
				tt[0][j] = d[0][j] - d[2][j]
				tt[1][j] = d[1][j] + d[2][j]
				tt[2][j] = d[2][j] - d[1][j]
				tt[3][j] = d[1][j] - d[3][j]
			}
			for i := 0; i < 4; i++ {
				o := 4*i*vps + t*cs + ch
				v[o] = tt[i][0] - tt[i][2]
				v[o+vps] = tt[i][1] + tt[i][2]
				v[o+2*vps] = tt[i][2] - tt[i][1]
				v[o+3*vps] = tt[i][1] - tt[i][3]
			}
		}
	}
}

// winoF32OutRef is the output transform of channels [c0, c1) of tiles
// tiles: M_p (p = 4i+j) of tile t is m[p·mps + t·mts + ch]; y_ab + bias,
// clamped, goes to out[(2t+b)·os + a·orow + ch] for the (a, b) that
// rows × cols allow (rows, cols 1 or 2). bias may be nil. It is the oracle
// of winoF32OutAvx2: s = M A by rows, then Y = Aᵀ s.
func winoF32OutRef(c0, c1 int, m []float32, mps, mts, tiles int, out []float32, os, orow int, bias []float32, cl Clamp, rows, cols int) {
	for t := 0; t < tiles; t++ {
		for ch := c0; ch < c1; ch++ {
			var s [4][2]float32
			for i := 0; i < 4; i++ {
				r := m[4*i*mps+t*mts+ch:]
				s[i][0] = r[0] + r[mps] + r[2*mps]
				s[i][1] = r[mps] - r[2*mps] - r[3*mps]
			}
			var b float32
			if bias != nil {
				b = bias[ch]
			}
			for a := 0; a < rows; a++ {
				for j := 0; j < cols; j++ {
					var y float32
					if a == 0 {
						y = s[0][j] + s[1][j] + s[2][j]
					} else {
						y = s[1][j] - s[2][j] - s[3][j]
					}
					out[(2*t+j)*os+a*orow+ch] = cl.apply(y + b)
				}
			}
		}
	}
}
