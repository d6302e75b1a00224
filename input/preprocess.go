package input

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// Layout is the memory order of a preprocessed image in dst.
type Layout uint8

const (
	// NCHW stores channel planes: dst[c*H*W + y*W + x]. It is the logical
	// layout of ONNX image inputs.
	NCHW Layout = iota
	// NHWC interleaves channels: dst[(y*W+x)*C + c] (TFLite's layout).
	NHWC
)

func (l Layout) String() string {
	switch l {
	case NCHW:
		return "NCHW"
	case NHWC:
		return "NHWC"
	}
	return fmt.Sprintf("Layout(%d)", uint8(l))
}

// The normalisation of torchvision's ImageNet models, for Spec.Mean and
// Spec.Std with Scale 255.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// Spec describes how an image becomes a tensor. Each output element is
//
//	(pixel/Scale − Mean[k]) / Std[k]
//
// where pixel is the resampled 8-bit value (0..255, not rounded) and k is
// the pixel's colour in RGB order — Mean[0] and Std[0] belong to red even
// when BGR puts red last. A grayscale spec (Channels 1) uses Mean[0] and
// Std[0].
type Spec struct {
	Width, Height int // output size in pixels
	Channels      int // 3 for colour, 1 for grayscale (ITU-R 601 luma, as PIL's "L")
	Mean, Std     [3]float32
	Scale         float32 // 255 maps pixels to [0,1] before Mean/Std; 1 keeps 0..255
	BGR           bool    // emit colour channels in B, G, R order
	// ResizeShorter, when > 0, resizes the image so its shorter side is
	// this many pixels (the longer side in proportion, truncated, as
	// torchvision's Resize) and then centre-crops Width×Height out of it.
	// When 0 the image is resized to Width×Height, ignoring aspect ratio.
	ResizeShorter int
	Layout        Layout
	// Antialias resamples as Pillow's Image.resize(size, Image.BILINEAR):
	// when downscaling, the triangle filter widens by the scale factor so
	// every source pixel is averaged in, and each of the horizontal and
	// vertical passes rounds to 8 bits (antialias.go). False keeps plain
	// bilinear sampling (OpenCV's INTER_LINEAR).
	Antialias bool
}

// Len is the number of float32 values one image takes: Width·Height·Channels.
func (s Spec) Len() int { return s.Width * s.Height * s.Channels }

// Shape is the tensor shape of one image with a batch dimension of 1:
// [1 C H W] for NCHW, [1 H W C] for NHWC.
func (s Spec) Shape() []int {
	if s.Layout == NHWC {
		return []int{1, s.Height, s.Width, s.Channels}
	}
	return []int{1, s.Channels, s.Height, s.Width}
}

func (s Spec) validate() error {
	if s.Width <= 0 || s.Height <= 0 {
		return fmt.Errorf("input: output size %dx%d must be positive", s.Width, s.Height)
	}
	if s.Channels != 1 && s.Channels != 3 {
		return fmt.Errorf("input: %d channels; want 1 (grayscale) or 3 (colour)", s.Channels)
	}
	if !(s.Scale > 0) || math.IsInf(float64(s.Scale), 0) {
		return fmt.Errorf("input: scale %v must be positive and finite (255 maps pixels to [0,1], 1 keeps 0..255)", s.Scale)
	}
	for k := 0; k < s.Channels; k++ {
		if s.Std[k] == 0 || math.IsNaN(float64(s.Std[k])) || math.IsNaN(float64(s.Mean[k])) {
			return fmt.Errorf("input: channel %d has mean %v, std %v; std must be non-zero (1 for none)", k, s.Mean[k], s.Std[k])
		}
	}
	if s.Layout != NCHW && s.Layout != NHWC {
		return fmt.Errorf("input: unknown layout %v", s.Layout)
	}
	if s.ResizeShorter < 0 {
		return fmt.Errorf("input: ResizeShorter %d is negative", s.ResizeShorter)
	}
	if s.ResizeShorter > 0 && s.ResizeShorter < max(s.Width, s.Height) {
		return fmt.Errorf("input: ResizeShorter %d is smaller than the %dx%d crop", s.ResizeShorter, s.Width, s.Height)
	}
	return nil
}

// Preprocessor converts images to tensors according to a Spec.
//
// Resampling is bilinear with pixel centres aligned (source coordinate
// (x+0.5)·srcW/dstW − 0.5) and edge pixels repeated, as OpenCV's
// INTER_LINEAR and PIL's bilinear filter without antialiasing: a large
// downscale samples rather than averages. Spec.Antialias switches to
// Pillow's antialiased bilinear resize instead. Colour images are first
// converted to 8-bit RGB: transparent pixels keep their non-premultiplied
// colour and lose alpha, as PIL's convert("RGB"). Grayscale output takes
// the luma (19595·R + 38470·G + 7471·B + 2¹⁵) >> 16, PIL's "L" and Go's
// color.GrayModel.
//
// *image.YCbCr (JPEG), *YUV (camera frames), *image.RGBA, *image.NRGBA (PNG),
// *image.Gray and *image.Paletted (8-bit BMP, PNG) are read directly; other image types go
// through the slower image.Image interface. Only the source pixels the
// resampling reads are converted (a large downscale skips most of them). After the first image of a given size
// Run does not allocate. A Preprocessor is not safe for concurrent use.
type Preprocessor struct {
	spec     Spec
	mul, add [3]float32 // per output channel: out = pixel·mul + add
	src      [3]int     // per output channel: index of its colour in an RGB pixel

	// Resampling tables for a srcW×srcH source. x0/x1 are byte offsets of
	// the left and right neighbours in a converted row, fx the weight of
	// the right one; y0/y1/fy the same for rows.
	srcW, srcH int
	x0, x1     []int32
	fx         []float32
	y0, y1     []int32
	fy         []float32
	cols       []int32 // source columns read by x0/x1, ascending

	rgb  []byte       // one source row as RGB
	gray []byte       // one source row as luma (Channels 1)
	hrow [2][]float32 // horizontally resampled source rows, Width·Channels
	hidx [2]int       // source row held in each hrow, −1 for none
	pal  [256][3]byte // palette of the current *image.Paletted as RGB

	aa aaState // Spec.Antialias tables and buffers
}

// New returns a Preprocessor for spec.
func New(spec Spec) (*Preprocessor, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	p := &Preprocessor{spec: spec}
	for oc := 0; oc < spec.Channels; oc++ {
		k := oc
		if spec.BGR && spec.Channels == 3 {
			k = 2 - oc
		}
		p.src[oc] = k
		p.mul[oc] = 1 / (spec.Scale * spec.Std[k])
		p.add[oc] = -spec.Mean[k] / spec.Std[k]
	}
	for i := range p.hrow {
		p.hrow[i] = make([]float32, spec.Width*spec.Channels)
	}
	return p, nil
}

// Spec returns the Preprocessor's spec.
func (p *Preprocessor) Spec() Spec { return p.spec }

// Run resamples and normalises img into dst, which must hold exactly
// Spec().Len() values, in the spec's layout.
func (p *Preprocessor) Run(img image.Image, dst []float32) error {
	s := &p.spec
	if len(dst) != s.Len() {
		return fmt.Errorf("input: destination holds %d values; a %dx%dx%d image needs %d", len(dst), s.Width, s.Height, s.Channels, s.Len())
	}
	if img == nil {
		return errors.New("input: nil image")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return fmt.Errorf("input: empty image %v", b)
	}
	if b.Dx() != p.srcW || b.Dy() != p.srcH {
		if err := p.plan(b.Dx(), b.Dy()); err != nil {
			return err
		}
	}
	if m, ok := img.(*image.Paletted); ok {
		// Indices past the palette's end read as black rather than panic.
		for i := range p.pal {
			p.pal[i] = [3]byte{}
			if i < len(m.Palette) {
				p.pal[i] = rgbOf(m.Palette[i])
			}
		}
	}
	if s.Antialias {
		p.runAA(img, dst)
		return nil
	}
	p.hidx = [2]int{-1, -1}
	W, H, C := s.Width, s.Height, s.Channels
	for dy := 0; dy < H; dy++ {
		ra, rb := p.rows(img, int(p.y0[dy]), int(p.y1[dy]))
		f := p.fy[dy]
		if s.Layout == NHWC {
			out := dst[dy*W*C : (dy+1)*W*C]
			for oc := 0; oc < C; oc++ {
				mul, add, k := p.mul[oc], p.add[oc], p.src[oc]
				if C == 1 {
					k = 0
				}
				for i := k; i < len(ra); i += C {
					a := ra[i]
					out[i-k+oc] = (a+(rb[i]-a)*f)*mul + add
				}
			}
			continue
		}
		for oc := 0; oc < C; oc++ {
			mul, add, k := p.mul[oc], p.add[oc], p.src[oc]
			if C == 1 {
				k = 0
			}
			out := dst[(oc*H+dy)*W : (oc*H+dy+1)*W]
			for dx := range out {
				i := dx*C + k
				a := ra[i]
				out[dx] = (a+(rb[i]-a)*f)*mul + add
			}
		}
	}
	return nil
}

// plan builds the resampling tables for a sw×sh source.
func (p *Preprocessor) plan(sw, sh int) error {
	s := &p.spec
	rw, rh := s.Width, s.Height // size of the resized image
	left, top := 0, 0           // crop offset in the resized image
	if n := s.ResizeShorter; n > 0 {
		if sw <= sh {
			rw, rh = n, int(float64(n)*float64(sh)/float64(sw))
		} else {
			rw, rh = int(float64(n)*float64(sw)/float64(sh)), n
		}
		if rw < s.Width || rh < s.Height {
			return fmt.Errorf("input: a %dx%d image resized to %dx%d is smaller than the %dx%d crop", sw, sh, rw, rh, s.Width, s.Height)
		}
		// torchvision's CenterCrop: int(round((size - crop) / 2)), ties to even.
		left = int(math.RoundToEven(float64(rw-s.Width) / 2))
		top = int(math.RoundToEven(float64(rh-s.Height) / 2))
	}
	if s.Antialias {
		p.planAA(sw, sh, rw, rh, left, top)
		p.rgb = grow(p.rgb, 3*sw)
		if s.Channels == 1 {
			p.gray = grow(p.gray, sw)
		}
		p.srcW, p.srcH = sw, sh
		return nil
	}
	var cx int32 = 3
	if s.Channels == 1 {
		cx = 1
	}
	p.x0, p.x1, p.fx = coeffs(p.x0, p.x1, p.fx, sw, rw, left, s.Width, cx)
	p.y0, p.y1, p.fy = coeffs(p.y0, p.y1, p.fy, sh, rh, top, s.Height, 1)
	// The source columns the x table reads: all of them unless the image
	// is downscaled by more than 2, when most columns are skipped.
	p.cols = p.cols[:0]
	last := int32(-1)
	for i := range p.x0 {
		for _, c := range [2]int32{p.x0[i] / cx, p.x1[i] / cx} {
			if c > last {
				p.cols = append(p.cols, c)
				last = c
			}
		}
	}
	p.rgb = grow(p.rgb, 3*sw)
	if s.Channels == 1 {
		p.gray = grow(p.gray, sw)
	}
	p.srcW, p.srcH = sw, sh
	return nil
}

// coeffs fills the bilinear table for output positions [off, off+n) of a
// src → dst resize: i0, i1 are the neighbours' indices times stride and f
// the weight of i1.
func coeffs(i0, i1 []int32, f []float32, src, dst, off, n int, stride int32) ([]int32, []int32, []float32) {
	i0, i1, f = grow(i0, n), grow(i1, n), grow(f, n)
	scale := float64(src) / float64(dst)
	for i := 0; i < n; i++ {
		x := (float64(i+off)+0.5)*scale - 0.5
		x = max(x, 0)
		a := int(x) // x ≥ 0, so this is floor
		w := x - float64(a)
		if a >= src-1 {
			a, w = src-1, 0
		}
		i0[i] = int32(a) * stride
		i1[i] = int32(min(a+1, src-1)) * stride
		f[i] = float32(w)
	}
	return i0, i1, f
}

// rows returns the horizontally resampled source rows ya and yb, reusing
// the ones computed for the previous output row.
func (p *Preprocessor) rows(img image.Image, ya, yb int) (ra, rb []float32) {
	sa := p.slot(ya)
	if sa < 0 {
		sa = 0
		if p.hidx[0] == yb {
			sa = 1
		}
		p.resampleRow(img, ya, sa)
	}
	sb := p.slot(yb)
	if sb < 0 {
		sb = 1 - sa
		p.resampleRow(img, yb, sb)
	}
	return p.hrow[sa], p.hrow[sb]
}

func (p *Preprocessor) slot(y int) int {
	switch y {
	case p.hidx[0]:
		return 0
	case p.hidx[1]:
		return 1
	}
	return -1
}

// resampleRow converts source row y (counted from the top of the bounds)
// and resamples it horizontally into hrow[slot].
func (p *Preprocessor) resampleRow(img image.Image, y, slot int) {
	row := p.convertRow(img, y)
	out := p.hrow[slot]
	x0, x1, fx := p.x0, p.x1, p.fx
	if p.spec.Channels == 1 {
		out = out[:len(fx)]
		for dx := range out {
			a := float32(row[x0[dx]])
			out[dx] = a + (float32(row[x1[dx]])-a)*fx[dx]
		}
	} else {
		out = out[:3*len(fx)]
		for dx := range fx {
			i, j, f := x0[dx], x1[dx], fx[dx]
			a0, a1, a2 := float32(row[i]), float32(row[i+1]), float32(row[i+2])
			o := out[3*dx : 3*dx+3]
			o[0] = a0 + (float32(row[j])-a0)*f
			o[1] = a1 + (float32(row[j+1])-a1)*f
			o[2] = a2 + (float32(row[j+2])-a2)*f
		}
	}
	p.hidx[slot] = y
}

// convertRow returns source row y (counted from the top of the bounds) as
// packed 8-bit RGB, or as luma when the spec is grayscale. Only the columns
// in p.cols are converted; the others hold stale bytes nothing reads.
func (p *Preprocessor) convertRow(img image.Image, y int) []byte {
	b := img.Bounds()
	w := b.Dx()
	y += b.Min.Y
	rgb := p.rgb[:3*w]
	cols := p.cols
	switch m := img.(type) {
	case *image.Gray:
		pix := m.Pix[m.PixOffset(b.Min.X, y):][:w]
		if p.spec.Channels == 1 {
			return pix
		}
		for _, x := range cols {
			v := pix[x]
			rgb[3*x], rgb[3*x+1], rgb[3*x+2] = v, v, v
		}
		return rgb
	case *image.YCbCr:
		yy := m.Y[m.YOffset(b.Min.X, y):][:w]
		if b.Min.X < 0 || y < 0 || m.Rect.Min.Y < 0 {
			// COffset divides toward zero; the shifts below floor.
			for _, x := range cols {
				ci := m.COffset(b.Min.X+int(x), y)
				rgb[3*x], rgb[3*x+1], rgb[3*x+2] = color.YCbCrToRGB(yy[x], m.Cb[ci], m.Cr[ci])
			}
			break
		}
		hs, vs := subsampling(m.SubsampleRatio)
		crow := (y>>vs - m.Rect.Min.Y>>vs) * m.CStride
		cb, cr := m.Cb[crow:], m.Cr[crow:]
		x0 := uint(b.Min.X)
		cmin := x0 >> hs
		for _, x := range cols {
			ci := (x0+uint(x))>>hs - cmin
			// color.YCbCrToRGB's fixed-point arithmetic, bit for bit,
			// written out because the call does not inline.
			yv := int32(yy[x]) * 0x10101
			cb1, cr1 := int32(cb[ci])-128, int32(cr[ci])-128
			o := rgb[3*x : 3*x+3]
			o[0] = clamp16(yv + 91881*cr1)
			o[1] = clamp16(yv - 22554*cb1 - 46802*cr1)
			o[2] = clamp16(yv + 116130*cb1)
		}
	case *image.RGBA:
		pix := m.Pix[m.PixOffset(b.Min.X, y):][:4*w]
		for _, x := range cols {
			q := pix[4*x : 4*x+4]
			if a := q[3]; a == 0xff {
				rgb[3*x], rgb[3*x+1], rgb[3*x+2] = q[0], q[1], q[2]
			} else {
				rgb[3*x], rgb[3*x+1], rgb[3*x+2] = unpremul(q[0], a), unpremul(q[1], a), unpremul(q[2], a)
			}
		}
	case *YUV:
		// Camera frames (yuv.go); bounds start at (0, 0).
		m.convertRow(y, cols, rgb)
	case *image.NRGBA:
		pix := m.Pix[m.PixOffset(b.Min.X, y):][:4*w]
		for _, x := range cols {
			q := pix[4*x : 4*x+4]
			rgb[3*x], rgb[3*x+1], rgb[3*x+2] = q[0], q[1], q[2]
		}
	case *image.Paletted:
		pix := m.Pix[m.PixOffset(b.Min.X, y):][:w]
		for _, x := range cols {
			c := &p.pal[pix[x]]
			rgb[3*x], rgb[3*x+1], rgb[3*x+2] = c[0], c[1], c[2]
		}
	default:
		for _, x := range cols {
			c := rgbOf(img.At(b.Min.X+int(x), y))
			rgb[3*x], rgb[3*x+1], rgb[3*x+2] = c[0], c[1], c[2]
		}
	}
	if p.spec.Channels == 3 {
		return rgb
	}
	gray := p.gray[:w]
	for _, x := range cols {
		gray[x] = luma(rgb[3*x], rgb[3*x+1], rgb[3*x+2])
	}
	return gray
}

// subsampling returns log2 of the horizontal and vertical chroma
// subsampling factors (the divisors of image.YCbCr.COffset).
func subsampling(r image.YCbCrSubsampleRatio) (h, v uint) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

// clamp16 returns v>>16 clamped to [0, 255].
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// rgbOf converts c to non-premultiplied 8-bit RGB, dropping alpha (the
// arithmetic of color.NRGBAModel).
func rgbOf(c color.Color) [3]byte {
	if c == nil {
		return [3]byte{}
	}
	r, g, b, a := c.RGBA()
	switch a {
	case 0xffff:
	case 0:
		return [3]byte{}
	default:
		r, g, b = r*0xffff/a, g*0xffff/a, b*0xffff/a
	}
	return [3]byte{byte(r >> 8), byte(g >> 8), byte(b >> 8)}
}

// unpremul undoes alpha premultiplication of an 8-bit channel exactly as
// rgbOf does for the 16-bit values RGBA.RGBA returns.
func unpremul(v, a uint8) uint8 {
	if a == 0 {
		return 0
	}
	return uint8((uint32(v) * 0xffff / uint32(a)) >> 8)
}

// luma is ITU-R 601 luma in PIL's and color.GrayModel's fixed point.
func luma(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Pattern returns a deterministic w×h test image: a smooth colour
// gradient (red rises left to right, green top to bottom, blue along the
// other diagonal), for running a model without an input file.
func Pattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(max(w-1, 1)), float64(max(h-1, 1))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			u, v := float64(x)/fw, float64(y)/fh
			i := img.PixOffset(x, y)
			img.Pix[i+0] = uint8(math.Round(255 * u))
			img.Pix[i+1] = uint8(math.Round(255 * v))
			img.Pix[i+2] = uint8(math.Round(255 * (1 - u + v) / 2))
			img.Pix[i+3] = 0xff
		}
	}
	return img
}
