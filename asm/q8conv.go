package asm

import (
	"fmt"
	"unsafe"
)

// QConv2D is an NHWC int8 convolution of one image with TFLite's CONV_2D
// arithmetic (per-channel int8, or legacy uint8 shifted to int8 with a
// per-tensor weight zero point). The geometry fields mean what they mean in
// Conv2D: input pixel (y, x) channel c is in[(y·InW+x)·InC + c]; output pixel
// p = oy·OutW+ox, channel o is out[p·OutStride + o] (OutStride ≥ OutC, the
// elements between OutC and OutStride are never touched). With
// Cg = InC/Groups and Og = OutC/Groups, output channel o of group g = o/Og is
//
//	acc := bias[o] + Σ_{kh<KH, kw<KW, ci<Cg}
//	        (in[oy·StrideH - PadT + kh·DilH][ox·StrideW - PadL + kw·DilW][g·Cg + ci] − InZero) ·
//	        (w[o][ci][kh][kw] − wZero[o])
//	out[p][o] = Requant.Apply(acc, o)
//
// where positions outside the input read InZero, i.e. real 0. acc is an
// int32 that wraps like TFLite's. Requant needs OutC channels; TFLite 2.9
// computes it with NewRequant (int8) or NewRequantLegacy (uint8), and its
// optimised kernel (im2col + ruy) rounds with RoundSingle.
type QConv2D struct {
	InH, InW, InC, OutH, OutW, OutC                  int
	KH, KW, StrideH, StrideW, DilH, DilW, PadT, PadL int
	Groups, OutStride                                int
	InZero                                           int32
	Requant                                          Requant
	// Workers is how many threads will run the pixel chunks (≤ 1: one).
	// amd64's avx2 tiles make one worker's chunks larger (see
	// TilePixels).
	Workers int

	// mr overrides the generic register tile's row count (tests); 0
	// selects q8GemmDefaultMR. The arm64 tiles ignore it.
	mr int
	// rqOK is the key of the Requant Pack validated (zero if it was not
	// valid then); Run skips the per-channel validation while Requant
	// keeps those slices and scalars.
	rqOK requantKey
	// archTile records that Pack repacked the weights for arch tiles that
	// size their own im2col tile (q8TilePixelsArch; amd64's avx2 path).
	archTile bool
	// winoKP is the Winograd path's padded input channels (a multiple of
	// 16) plus its output tile side (2 or 3) when Pack made its
	// transformed weights (amd64's avx2 path; see q8ConvWino), else 0.
	winoKP int
	// packKP is the packed-A row size of the arm64 dotprod tiles (see
	// q8ArchPacked.packAKP), 0 when they read A in place.
	packKP int
}

// q8TileBudget is the im2col tile size in bytes QConv2D.TilePixels aims for.
const q8TileBudget = 64 << 10

// Pack packs ONNX-layout weights [OutC][InC/Groups][KH][KW] and folds the
// bias (nil or OutC values) and input zero point. wZero is nil, one value or
// OutC values. Call it once at prepare time, after setting InZero and
// Requant: on amd64's avx2 path Pack also builds the tiles' per-column
// parameter tables from Requant, which Run uses while Requant keeps the same
// Mult and Shift slices, scalars and rounding (else it builds them per
// call); Mult and Shift contents changed in place after Pack are not seen.
// It panics if the geometry is inconsistent or a slice is too short.
//
// Per group the packed weights are the B matrix of a GEMM with
// K = KH·KW·Cg rows ordered (kh, kw, ci) and Og columns, pair-packed in
// panels of 8 columns (see QPacked). On the neon and dotprod paths Pack also
// repacks them for the arm64 tiles of the selected path (see Select), which
// Run then uses.
func (c *QConv2D) Pack(w []int8, wZero []int32, bias []int32) *QPacked {
	if err := c.check(); err != nil {
		panic(err.Error())
	}
	g, cg, og := c.groups(), c.InC/c.groups(), c.OutC/c.groups()
	if len(w) < c.OutC*cg*c.KH*c.KW {
		panic(fmt.Sprintf("asm: QConv2D.Pack: got %d weights, need %d", len(w), c.OutC*cg*c.KH*c.KW))
	}
	checkQ8Zero("QConv2D", wZero, bias, c.OutC)
	kg := c.KH * c.KW * cg
	// implicit: the geometry q8ConvImplicit (amd64) can take, whose
	// weights keep the x8 layout there.
	implicit := c.groups() == 1 && c.KH*c.KW > 1 && c.DilW == 1 && c.KW*c.InC%16 == 0
	p := &QPacked{k: kg, panels: q8CeilDiv(og, q8NR), implicit: implicit}
	p.w = make([]q8Quad, g*p.panels*kg)
	p.bias = make([]int32, c.OutC)
	for gi := 0; gi < g; gi++ {
		at := func(k, ol int) int8 {
			ci, t := k%cg, k/cg
			kh, kw := t/c.KW, t%c.KW
			return w[(((gi*og+ol)*cg+ci)*c.KH+kh)*c.KW+kw]
		}
		packQ8Panels(p.w[gi*p.panels*kg:], p.bias[gi*og:], kg, og, c.InZero, wZero, bias, gi*og, at)
	}
	p.arch = q8PackArch(p, g)
	c.rqOK = c.Requant.checkedKey(c.OutC)
	c.archTile = p.arch != nil && q8ArchTilePixels
	c.packKP = p.arch.packAKP()
	c.winoKP = q8PackWinoArch(c, w, wZero, bias, p.arch)
	q8Avx2Tables(c, p, p.arch)
	return p
}

// ScratchBytes is the scratch Run needs for a range of at most TilePixels()
// pixels: the int8 im2col tile (none for a 1×1 stride-1 unpadded
// convolution, which reads its input in place), then, on the arm64
// dotprod tiles, the packed A of its whole 8-row groups; on amd64's
// Winograd path at least its buffers (q8WinoScratch).
func (c *QConv2D) ScratchBytes() int {
	n := 0
	if !c.direct() {
		n = c.TilePixels() * c.KH * c.KW * (c.InC / c.groups())
	}
	if c.packKP > 0 {
		n += c.TilePixels() / 8 * 8 * c.packKP
	}
	return max(n, q8WinoScratchBytes(c))
}

// TilePixels is the preferred number of output pixels per Run call. The
// runtime splits the OutH·OutW pixels into chunks of this size (the last one
// shorter). It sizes the im2col tile for L2 and, on small images, keeps at
// least 8 chunks so a worker pool has something to share. Arch tiles may
// choose their own size (q8TilePixelsArch, which also reads Workers; on
// amd64's Winograd path whole output row pairs, q8WinoTilePixels), so
// call it after Pack.
func (c *QConv2D) TilePixels() int {
	pixels := c.OutH * c.OutW
	kg := max(1, c.KH*c.KW*(c.InC/c.groups()))
	if t := q8WinoTilePixels(c); t > 0 {
		return t
	}
	if c.archTile {
		return q8TilePixelsArch(pixels, kg, c.Workers)
	}
	t := min(256, max(16, q8TileBudget/kg/8*8))
	t = min(t, max(8, q8CeilDiv(q8CeilDiv(pixels, 8), 8)*8))
	return max(1, min(t, pixels))
}

// Run computes output pixels [p0, p1), p1-p0 ≤ TilePixels(), of every output
// channel. p is from Pack and scratch holds at least ScratchBytes() bytes.
// Run does not allocate and may run concurrently on disjoint pixel ranges
// with separate scratch.
func (c *QConv2D) Run(in []int8, p *QPacked, out []int8, scratch []byte, p0, p1 int) {
	if p0 < 0 || p1 > c.OutH*c.OutW || p1-p0 > c.TilePixels() {
		panic(fmt.Sprintf("asm: QConv2D.Run pixels [%d, %d) of %d, tile %d", p0, p1, c.OutH*c.OutW, c.TilePixels()))
	}
	if p == nil || p.k != c.KH*c.KW*(c.InC/c.groups()) || len(p.bias) < c.OutC {
		panic("asm: QConv2D.Run: packed weights are not from this QConv2D")
	}
	if len(scratch) < c.ScratchBytes() {
		panic(fmt.Sprintf("asm: QConv2D.Run: scratch %d bytes, need %d", len(scratch), c.ScratchBytes()))
	}
	c.Requant.checkKeyed("QConv2D", c.OutC, c.rqOK)
	if p.arch != nil {
		q8ConvArch(c, in, p, p.arch, out, bytesAsInt8(scratch), p0, p1)
		return
	}
	q8ConvGeneric(c, in, p, out, bytesAsInt8(scratch), p0, p1)
}

func (c *QConv2D) groups() int { return max(1, c.Groups) }

func (c *QConv2D) tileMR() int {
	if c.mr != 0 {
		return c.mr
	}
	return q8GemmDefaultMR
}

// direct reports whether the input is already the GEMM A matrix.
func (c *QConv2D) direct() bool {
	return c.KH == 1 && c.KW == 1 && c.StrideH == 1 && c.StrideW == 1 &&
		c.PadT == 0 && c.PadL == 0 && c.OutH == c.InH && c.OutW == c.InW
}

func (c *QConv2D) check() error {
	g := c.groups()
	switch {
	case c.InH < 0 || c.InW < 0 || c.InC < 0 || c.OutH < 0 || c.OutW < 0 || c.OutC < 0:
		return fmt.Errorf("asm: QConv2D: negative dimension in %+v", *c)
	case c.PadT < 0 || c.PadL < 0:
		return fmt.Errorf("asm: QConv2D: negative padding in %+v", *c)
	case c.KH < 1 || c.KW < 1 || c.StrideH < 1 || c.StrideW < 1 || c.DilH < 1 || c.DilW < 1:
		return fmt.Errorf("asm: QConv2D: kernel, stride and dilation must be ≥ 1 in %+v", *c)
	case c.InC%g != 0 || c.OutC%g != 0:
		return fmt.Errorf("asm: QConv2D: InC %d and OutC %d must be multiples of Groups %d", c.InC, c.OutC, g)
	case c.OutStride < c.OutC:
		return fmt.Errorf("asm: QConv2D: OutStride %d < OutC %d", c.OutStride, c.OutC)
	case c.InZero < -128 || c.InZero > 127:
		return fmt.Errorf("asm: QConv2D: InZero %d outside int8", c.InZero)
	}
	return nil
}

// bytesAsInt8 views a scratch buffer as int8.
func bytesAsInt8(b []byte) []int8 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}
