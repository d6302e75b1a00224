package input

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// YUVLayout is the memory layout of a YUV camera frame.
type YUVLayout uint8

const (
	// I420 is planar 4:2:0: the Y plane (Stride bytes per row), then the
	// Cb plane and the Cr plane, each ⌈W/2⌉×⌈H/2⌉ with ⌈Stride/2⌉ bytes
	// per row. rpicam-vid --codec yuv420 and ffmpeg's yuv420p write it.
	I420 YUVLayout = iota + 1
	// YUYV is packed 4:2:2: Y0 Cb Y1 Cr for each pair of pixels, Stride
	// bytes per row. Most USB webcams deliver it.
	YUYV
)

func (l YUVLayout) String() string {
	switch l {
	case I420:
		return "I420"
	case YUYV:
		return "YUYV"
	}
	return fmt.Sprintf("YUVLayout(%d)", uint8(l))
}

// YUVRange is the quantisation range of Y'CbCr samples.
type YUVRange uint8

const (
	// LimitedRange ("TV", "video") puts black at Y=16, white at Y=235
	// and chroma in 16..240: the default of video cameras, V4L2 YUV
	// formats, rpicam-vid and ffmpeg's yuv420p.
	LimitedRange YUVRange = iota
	// FullRange uses 0..255 for Y, Cb and Cr, as JPEG (JFIF) does.
	FullRange
)

func (r YUVRange) String() string {
	if r == FullRange {
		return "full"
	}
	return "limited"
}

// YUVMatrix is the colour matrix of Y'CbCr samples.
type YUVMatrix uint8

const (
	// BT601 is ITU-R BT.601 (SD video, JPEG): Kr 0.299, Kb 0.114.
	BT601 YUVMatrix = iota
	// BT709 is ITU-R BT.709 (HD video): Kr 0.2126, Kb 0.0722.
	BT709
)

func (m YUVMatrix) String() string {
	if m == BT709 {
		return "bt709"
	}
	return "bt601"
}

// YUV is a camera frame in a YUV layout. It implements image.Image; the
// Preprocessor reads it directly, converting only the pixels its
// resampling reads, so a frame goes from the camera's buffer to the model
// input without an RGB copy and without allocation. Chroma is taken from
// the sample that covers the pixel (no chroma interpolation), as Go's
// image.YCbCr does.
//
// The conversion to 8-bit RGB is fixed point (16 fractional bits): for
// full-range BT.601 it is exactly color.YCbCrToRGB, so a full-range I420
// frame gives the same tensor as the equivalent image.YCbCr. Limited range
// expands Y by 255/219 and chroma by 255/224 before the matrix.
type YUV struct {
	Layout        YUVLayout
	Width, Height int
	// Stride is the bytes per row of the Y plane (I420) or of the packed
	// frame (YUYV); 0 means no padding (Width, or 2·Width for YUYV).
	Stride int
	Range  YUVRange
	Matrix YUVMatrix
	Pix    []byte
}

// FrameSize returns the bytes of an unpadded w×h frame in layout l.
func FrameSize(l YUVLayout, w, h int) int {
	switch l {
	case I420:
		return w*h + 2*((w+1)/2)*((h+1)/2)
	case YUYV:
		return 2 * w * h
	}
	return 0
}

func (f *YUV) stride() int {
	if f.Stride > 0 {
		return f.Stride
	}
	if f.Layout == YUYV {
		return 2 * f.Width
	}
	return f.Width
}

// Check reports whether Pix holds a whole frame of the declared layout and
// size.
func (f *YUV) Check() error {
	if f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("input: YUV frame size %dx%d must be positive", f.Width, f.Height)
	}
	s := f.stride()
	var need int
	switch f.Layout {
	case I420:
		if s < f.Width {
			return fmt.Errorf("input: I420 stride %d is less than the width %d", s, f.Width)
		}
		cs := (s + 1) / 2
		need = s*f.Height + 2*cs*((f.Height+1)/2)
	case YUYV:
		if f.Width%2 != 0 {
			return fmt.Errorf("input: YUYV width %d is odd", f.Width)
		}
		if s < 2*f.Width {
			return fmt.Errorf("input: YUYV stride %d is less than 2×width %d", s, 2*f.Width)
		}
		need = s*(f.Height-1) + 2*f.Width
	default:
		return fmt.Errorf("input: unknown YUV layout %v", f.Layout)
	}
	if len(f.Pix) < need {
		return fmt.Errorf("input: %v frame %dx%d (stride %d) needs %d bytes, have %d", f.Layout, f.Width, f.Height, s, need, len(f.Pix))
	}
	return nil
}

// ColorModel returns color.RGBAModel: At converts to RGB.
func (f *YUV) ColorModel() color.Model { return color.RGBAModel }

// Bounds returns the rectangle (0,0)–(Width,Height).
func (f *YUV) Bounds() image.Rectangle { return image.Rect(0, 0, f.Width, f.Height) }

// At returns the pixel at (x, y) as opaque RGB (black outside the frame
// or for a frame that fails Check).
func (f *YUV) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= f.Width || y >= f.Height || f.Check() != nil {
		return color.RGBA{A: 0xff}
	}
	yy, cb, cr := f.sample(x, y)
	r, g, b := yuvCoeffs(f.Range, f.Matrix).rgb(yy, cb, cr)
	return color.RGBA{r, g, b, 0xff}
}

// sample returns the Y, Cb, Cr samples of pixel (x, y).
func (f *YUV) sample(x, y int) (yy, cb, cr uint8) {
	s := f.stride()
	if f.Layout == YUYV {
		p := f.Pix[y*s+(x&^1)*2:]
		return p[(x&1)*2], p[1], p[3]
	}
	cs := (s + 1) / 2
	u := s * f.Height
	v := u + cs*((f.Height+1)/2)
	ci := (y/2)*cs + x/2
	return f.Pix[y*s+x], f.Pix[u+ci], f.Pix[v+ci]
}

// convertRow writes row y's pixels at the columns cols into rgb (3 bytes
// per pixel, indexed by column).
func (f *YUV) convertRow(y int, cols []int32, rgb []byte) {
	k := yuvCoeffs(f.Range, f.Matrix)
	s := f.stride()
	if f.Layout == YUYV {
		row := f.Pix[y*s : y*s+2*f.Width]
		for _, x := range cols {
			p := row[(x&^1)*2 : (x&^1)*2+4]
			o := rgb[3*x : 3*x+3]
			o[0], o[1], o[2] = k.rgb(p[(x&1)*2], p[1], p[3])
		}
		return
	}
	cs := (s + 1) / 2
	u := s * f.Height
	v := u + cs*((f.Height+1)/2)
	yrow := f.Pix[y*s : y*s+f.Width]
	crow := (y / 2) * cs
	cb := f.Pix[u+crow : u+crow+cs]
	cr := f.Pix[v+crow : v+crow+cs]
	for _, x := range cols {
		o := rgb[3*x : 3*x+3]
		o[0], o[1], o[2] = k.rgb(yrow[x], cb[x/2], cr[x/2])
	}
}

// yuvMatrix is a Y'CbCr → RGB matrix in 16.16 fixed point:
//
//	R = ((Y−yoff)·ymul + rv·(Cr−128) + round) >> 16
//	G = ((Y−yoff)·ymul − gu·(Cb−128) − gv·(Cr−128) + round) >> 16
//	B = ((Y−yoff)·ymul + bu·(Cb−128) + round) >> 16
//
// clamped to 0..255.
type yuvMatrix struct {
	yoff, ymul, round int32
	rv, gu, gv, bu    int32
}

func (k *yuvMatrix) rgb(y, cb, cr uint8) (r, g, b uint8) {
	yv := (int32(y)-k.yoff)*k.ymul + k.round
	u, v := int32(cb)-128, int32(cr)-128
	return clamp16(yv + k.rv*v), clamp16(yv - k.gu*u - k.gv*v), clamp16(yv + k.bu*u)
}

// yuvTables holds the four matrices, indexed by [range][matrix].
var yuvTables = func() (t [2][2]yuvMatrix) {
	for _, r := range []YUVRange{LimitedRange, FullRange} {
		for _, m := range []YUVMatrix{BT601, BT709} {
			t[r][m] = makeCoeffs(r, m)
		}
	}
	return t
}()

func yuvCoeffs(r YUVRange, m YUVMatrix) *yuvMatrix {
	return &yuvTables[r&1][m&1]
}

// makeCoeffs derives the fixed-point matrix from Kr and Kb:
// R = Y + 2(1−Kr)·Cr, B = Y + 2(1−Kb)·Cb,
// G = Y − 2Kb(1−Kb)/Kg·Cb − 2Kr(1−Kr)/Kg·Cr, with Kg = 1−Kr−Kb, and for
// limited range Y scaled by 255/219 after subtracting 16 and chroma by
// 255/224.
func makeCoeffs(r YUVRange, m YUVMatrix) yuvMatrix {
	kr, kb := 0.299, 0.114
	if m == BT709 {
		kr, kb = 0.2126, 0.0722
	}
	kg := 1 - kr - kb
	fix := func(v float64) int32 { return int32(math.Round(v * 65536)) }
	cs := 1.0
	k := yuvMatrix{}
	if r == FullRange {
		// color.YCbCrToRGB's scaling of Y (·0x10101, no rounding term),
		// so that full-range BT.601 matches it bit for bit.
		k.ymul = 0x10101
	} else {
		k.yoff, k.ymul, k.round = 16, fix(255.0/219), 1<<15
		cs = 255.0 / 224
	}
	k.rv = fix(2 * (1 - kr) * cs)
	k.bu = fix(2 * (1 - kb) * cs)
	k.gu = fix(2 * kb * (1 - kb) / kg * cs)
	k.gv = fix(2 * kr * (1 - kr) / kg * cs)
	return k
}
