package asm

import "fmt"

// Conv2D is an NHWC float32 convolution of one image, with groups. Depthwise
// convolutions (Groups == InC) go to DepthwiseConv2D instead.
//
// Input pixel (y, x) channel c is in[(y·InW+x)·InC + c]. Output pixel
// p = oy·OutW+ox, channel o is out[p·OutStride + o]; OutStride ≥ OutC lets the
// runtime write straight into a channel slice of a concat, and the elements
// between OutC and OutStride are never touched. With Cg = InC/Groups and
// Og = OutC/Groups, output channel o of group g = o/Og is
//
//	out[p][o] = Clamp(bias[o] + Σ_{kh<KH, kw<KW, ci<Cg}
//	        in[oy·StrideH - PadT + kh·DilH][ox·StrideW - PadL + kw·DilW][g·Cg + ci] ·
//	        w[o][ci][kh][kw])
//
// where positions outside the input read 0. Bottom and right padding are
// implied by OutH and OutW.
type Conv2D struct {
	InH, InW, InC, OutH, OutW, OutC                  int
	KH, KW, StrideH, StrideW, DilH, DilW, PadT, PadL int
	Groups                                           int
	OutStride                                        int
	Clamp                                            Clamp

	// mr overrides the register tile's row count (tests); 0 selects
	// f32GemmDefaultMR.
	mr int
	// wide records that PackF32 wrote 16-column panels (the avx2 path).
	wide bool
	// wino records that PackF32 appended the Winograd weights (winof32.go)
	// at packed[winoOff:]: the avx2 path's stride-1 3×3 layers.
	wino    bool
	winoOff int
}

// PackF32 packs ONNX-layout weights [OutC][InC/Groups][KH][KW] into the
// layout RunF32 reads and returns the new slice. Call it once at prepare
// time. It panics if the geometry is inconsistent or w is too short.
//
// Per group the packed weights are the B matrix of a GEMM with
// K = KH·KW·Cg rows ordered (kh, kw, ci) and Og columns, stored as ⌈Og/W⌉
// k-major panels of W columns, W = 4, or 16 on amd64's avx2 path (see
// Gemm.PackF32: the choice is recorded in c). For a layer of the avx2
// path's Winograd convolution (winoFits) the 16 transformed weight matrices
// follow, see packWinoF32.
func (c *Conv2D) PackF32(w []float32) []float32 {
	if err := c.check(); err != nil {
		panic(err.Error())
	}
	g, cg, og := c.groups(), c.InC/c.groups(), c.OutC/c.groups()
	if len(w) < c.OutC*cg*c.KH*c.KW {
		panic(fmt.Sprintf("asm: Conv2D.PackF32: got %d weights, need %d", len(w), c.OutC*cg*c.KH*c.KW))
	}
	kg := c.KH * c.KW * cg
	c.wide = f32PackWide()
	pw := c.panelWidth()
	panels := ceilDiv(og, pw)
	p := make([]float32, g*panels*kg*pw)
	for gi := 0; gi < g; gi++ {
		for ol := 0; ol < og; ol++ {
			o := gi*og + ol
			dst := p[(gi*panels+ol/pw)*kg*pw:]
			j := ol % pw
			for ci := 0; ci < cg; ci++ {
				for kh := 0; kh < c.KH; kh++ {
					for kw := 0; kw < c.KW; kw++ {
						k := (kh*c.KW+kw)*cg + ci
						dst[k*pw+j] = w[((o*cg+ci)*c.KH+kh)*c.KW+kw]
					}
				}
			}
		}
	}
	if c.wino = c.winoFits(); c.wino {
		c.winoOff = len(p)
		p = append(p, c.packWinoF32(w)...)
	}
	return p
}

// PackBiasF32 returns bias (len OutC, or nil) in the form RunF32 reads
// fastest; call it once at prepare time, after PackF32. On arm64 that is
// bias followed, per group, by each whole 8-column tile's 8 values twice
// (the NEON 8×8 tile then starts its accumulators with half the loads);
// elsewhere bias itself. RunF32 takes either form.
func (c *Conv2D) PackBiasF32(bias []float32) []float32 {
	g, og := c.groups(), c.OutC/c.groups()
	if bias == nil || f32BiasTile == 0 || og < f32BiasTile {
		return bias
	}
	if len(bias) < c.OutC {
		panic(fmt.Sprintf("asm: Conv2D.PackBiasF32: got %d values, need %d", len(bias), c.OutC))
	}
	tiles := og / max(1, f32BiasTile)
	p := make([]float32, 0, c.OutC+g*tiles*2*f32BiasTile)
	p = append(p, bias[:c.OutC]...)
	for gi := 0; gi < g; gi++ {
		for t := 0; t < tiles; t++ {
			row := bias[gi*og+t*f32BiasTile : gi*og+(t+1)*f32BiasTile]
			p = append(p, row...)
			p = append(p, row...)
		}
	}
	return p
}

// panelWidth is the column width of the packed panels.
func (c *Conv2D) panelWidth() int {
	if c.wide {
		return f32GemmWideNR
	}
	return f32GemmNR
}

// ScratchF32 is the number of scratch elements RunF32 needs for a range of
// at most TilePixels() pixels: the im2col tile (none for a 1×1 stride-1
// unpadded convolution, which reads its input in place), plus on arm64 the
// NEON driver's packed A buffer (64 KB); for a Winograd layer at least its
// padded rows and transforms (winoScratch).
func (c *Conv2D) ScratchF32() int {
	if c.direct() {
		return convScratchF32Arch()
	}
	n := c.TilePixels()*c.KH*c.KW*(c.InC/c.groups()) + convScratchF32Arch()
	if c.wino {
		n = max(n, c.winoScratch())
	}
	return n
}

// TilePixels is the preferred number of output pixels per RunF32 call. The
// runtime splits the OutH·OutW pixels into chunks of this size (the last one
// shorter). It sizes the im2col tile for L2 and, on small images, keeps at
// least 8 chunks so a worker pool has something to share. On amd64's avx2
// path (weights packed in wide panels) the tiles are larger, see
// tilePixelsWide, and for the Winograd layers (winof32.go) whole output row
// pairs, about winoF32Tiles 2×2 tiles; so call it after PackF32.
func (c *Conv2D) TilePixels() int {
	pixels := c.OutH * c.OutW
	kg := max(1, c.KH*c.KW*(c.InC/c.groups()))
	if c.wino {
		// Whole output row pairs: the Winograd tiles are 2×2.
		return min(pixels, c.winoRowPairs()*2*c.OutW)
	}
	if c.wide {
		return c.tilePixelsWide(pixels, kg)
	}
	// 32K floats (128 KB) of A per tile, 16..256 pixels, a multiple of 8.
	t := min(256, max(16, (32<<10)/kg/8*8))
	t = min(t, max(8, roundUp(ceilDiv(pixels, 8), 8)))
	return max(1, min(t, pixels))
}

// ColumnBlocks is the number of output-channel ranges the runtime splits
// each pixel tile into (ColumnRange; RunF32Cols runs one). It is 1 except
// on amd64's avx2 path for a small image (≤ 64 output pixels, one group,
// ≥ 32 channels, e.g. ResNet-50's 7×7 layers): there the whole image is
// one tile, so each weight is streamed from memory once per inference
// instead of once per pixel tile (up to 9.4 MB per layer), and the work
// items are ≥ 2 column ranges of ≤ 256 channels, whole 16-column panels.
// Call it after PackF32.
func (c *Conv2D) ColumnBlocks() int {
	if !c.columnSplit() {
		return 1
	}
	return ceilDiv(c.OutC, c.columnBlockWidth())
}

// ColumnRange is the output channels [j0, j1) of column block i.
func (c *Conv2D) ColumnRange(i int) (j0, j1 int) {
	if !c.columnSplit() {
		return 0, c.OutC
	}
	w := c.columnBlockWidth()
	return i * w, min(c.OutC, (i+1)*w)
}

func (c *Conv2D) columnSplit() bool {
	return c.wide && c.groups() == 1 && c.OutH*c.OutW <= 64 && c.OutC >= 32
}

func (c *Conv2D) columnBlockWidth() int {
	return roundUp(ceilDiv(c.OutC, max(2, ceilDiv(c.OutC, 256))), f32GemmWideNR)
}

// RunF32Cols is RunF32 for output channels [j0, j1) only, a ColumnRange
// (j0 a multiple of the packed panel width). Other channels of out are not
// touched.
func (c *Conv2D) RunF32Cols(in, packed, bias, out, scratch []float32, p0, p1, j0, j1 int) {
	if j0 == 0 && j1 == c.OutC {
		c.RunF32(in, packed, bias, out, scratch, p0, p1)
		return
	}
	pw := c.panelWidth()
	if c.groups() != 1 || j0 < 0 || j0 >= j1 || j1 > c.OutC || j0%pw != 0 ||
		p0 < 0 || p1 > c.OutH*c.OutW || p1-p0 > c.TilePixels() {
		panic(fmt.Sprintf("asm: Conv2D.RunF32Cols pixels [%d, %d) of %d, tile %d, columns [%d, %d) of %d, groups %d",
			p0, p1, c.OutH*c.OutW, c.TilePixels(), j0, j1, c.OutC, c.groups()))
	}
	// The columns [j0, j1) are a convolution of their own: its packed
	// panels, bias and output start at column j0.
	cc := *c
	cc.OutC = j1 - j0
	if bias != nil {
		bias = bias[j0:j1]
	}
	packed, out = packed[(j0/pw)*c.KH*c.KW*c.InC*pw:], out[j0:]
	if !convF32Arch(&cc, in, packed, bias, out, scratch, p0, p1) {
		convF32Generic(&cc, in, packed, bias, out, scratch, p0, p1)
	}
}

// RunF32 computes output pixels [p0, p1), p1-p0 ≤ TilePixels(), of every
// output channel. packed is from PackF32, bias (len OutC, or from
// PackBiasF32) may be nil, and scratch holds at least ScratchF32()
// elements. RunF32 does not allocate and may run concurrently on disjoint
// pixel ranges with separate scratch.
func (c *Conv2D) RunF32(in, packed, bias, out, scratch []float32, p0, p1 int) {
	if p0 < 0 || p1 > c.OutH*c.OutW || p1-p0 > c.TilePixels() {
		panic(fmt.Sprintf("asm: Conv2D.RunF32 pixels [%d, %d) of %d, tile %d", p0, p1, c.OutH*c.OutW, c.TilePixels()))
	}
	if convF32Arch(c, in, packed, bias, out, scratch, p0, p1) {
		return
	}
	convF32Generic(c, in, packed, bias, out, scratch, p0, p1)
}

func (c *Conv2D) groups() int { return max(1, c.Groups) }

func (c *Conv2D) tileMR() int {
	if c.mr != 0 {
		return c.mr
	}
	return f32GemmDefaultMR
}

// direct reports whether the input is already the GEMM A matrix.
func (c *Conv2D) direct() bool {
	return c.KH == 1 && c.KW == 1 && c.StrideH == 1 && c.StrideW == 1 &&
		c.PadT == 0 && c.PadL == 0 && c.OutH == c.InH && c.OutW == c.InW
}

func (c *Conv2D) check() error {
	g := c.groups()
	switch {
	case c.InH < 0 || c.InW < 0 || c.InC < 0 || c.OutH < 0 || c.OutW < 0 || c.OutC < 0:
		return fmt.Errorf("asm: Conv2D: negative dimension in %+v", *c)
	case c.PadT < 0 || c.PadL < 0:
		return fmt.Errorf("asm: Conv2D: negative padding in %+v", *c)
	case c.KH < 1 || c.KW < 1 || c.StrideH < 1 || c.StrideW < 1 || c.DilH < 1 || c.DilW < 1:
		return fmt.Errorf("asm: Conv2D: kernel, stride and dilation must be ≥ 1 in %+v", *c)
	case c.InC%g != 0 || c.OutC%g != 0:
		return fmt.Errorf("asm: Conv2D: InC %d and OutC %d must be multiples of Groups %d", c.InC, c.OutC, g)
	case c.OutStride < c.OutC:
		return fmt.Errorf("asm: Conv2D: OutStride %d < OutC %d", c.OutStride, c.OutC)
	}
	return nil
}

// tilePixelsWide is TilePixels for the AVX2 body (wide panels): every tile
// streams the layer's whole packed B, so tiles are made large enough that
// B's traffic stays small next to the arithmetic (≥ 32 pixels: ≤ 1 byte of
// B per 8 MACs; the 8 KB .. 9 MB weights of ResNet-50's 14×14 and 7×7
// layers come from L3 or DRAM), and up to 1M floats (4 MB) of im2col A
// (the kernel's k blocks keep a tile's A working set at 256 × 512 floats).
// At least 8 chunks where that leaves ≥ 32 pixels each, and the last chunk
// balanced: a 1-pixel remainder would stream B for one row. The balanced
// size is a multiple of 6, the AVX2 tile's rows, so only the last chunk
// ends in a short strip (a 2-row strip runs at half the FMA rate); an
// item's output then starts at a multiple of 6·OutStride floats, a whole
// number of 64-byte lines when OutStride % 8 == 0 (every zoo layer).
func (c *Conv2D) tilePixelsWide(pixels, kg int) int {
	if c.columnSplit() {
		return pixels
	}
	t := min(256, max(16, (1<<20)/kg/8*8))
	t = min(t, max(32, roundUp(ceilDiv(pixels, 8), 8)))
	if t >= pixels {
		return max(1, pixels)
	}
	return roundUp(ceilDiv(pixels, ceilDiv(pixels, t)), 6)
}
