package input

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// randomI420 returns a w×h I420 frame of random samples and the same
// samples as an image.YCbCr (4:2:0).
func randomI420(r *rand.Rand, w, h int) (*YUV, *image.YCbCr) {
	ycc := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(r.IntN(256))
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(r.IntN(256)), uint8(r.IntN(256))
	}
	cw, ch := (w+1)/2, (h+1)/2
	pix := make([]byte, 0, FrameSize(I420, w, h))
	for y := 0; y < h; y++ {
		pix = append(pix, ycc.Y[y*ycc.YStride:y*ycc.YStride+w]...)
	}
	for _, p := range [][]byte{ycc.Cb, ycc.Cr} {
		for y := 0; y < ch; y++ {
			pix = append(pix, p[y*ycc.CStride:y*ycc.CStride+cw]...)
		}
	}
	return &YUV{Layout: I420, Width: w, Height: h, Range: FullRange, Pix: pix}, ycc
}

// TestYUVFullRangeMatchesYCbCr: a full-range BT.601 I420 frame converts
// exactly as the equivalent image.YCbCr (color.YCbCrToRGB), pixel by pixel
// and through the Preprocessor.
func TestYUVFullRangeMatchesYCbCr(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{16, 8}, {17, 9}, {64, 48}} {
		f, ycc := randomI420(r, sz[0], sz[1])
		require.NoError(t, f.Check())
		for y := 0; y < sz[1]; y++ {
			for x := 0; x < sz[0]; x++ {
				want := color.RGBAModel.Convert(ycc.At(x, y))
				require.Equal(t, want, f.At(x, y), "(%d,%d) of %v", x, y, sz)
			}
		}
		for _, spec := range []Spec{
			{Width: 8, Height: 6, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}},
			{Width: 40, Height: 30, Channels: 3, Scale: 1, Std: [3]float32{1, 1, 1}, Layout: NHWC, BGR: true},
			{Width: 5, Height: 5, Channels: 1, Scale: 255, Std: [3]float32{1, 1, 1}},
		} {
			p, err := New(spec)
			require.NoError(t, err)
			a, b := make([]float32, spec.Len()), make([]float32, spec.Len())
			require.NoError(t, p.Run(ycc, a))
			require.NoError(t, p.Run(f, b))
			require.Equal(t, a, b, "spec %+v", spec)
		}
	}
}

// refRGB is the textbook float conversion, rounded and clamped.
func refRGB(y, cb, cr uint8, rng YUVRange, m YUVMatrix) [3]float64 {
	kr, kb := 0.299, 0.114
	if m == BT709 {
		kr, kb = 0.2126, 0.0722
	}
	yf, u, v := float64(y), float64(cb)-128, float64(cr)-128
	if rng == LimitedRange {
		yf = (yf - 16) * 255 / 219
		u, v = u*255/224, v*255/224
	}
	kg := 1 - kr - kb
	rgb := [3]float64{
		yf + 2*(1-kr)*v,
		yf - 2*kb*(1-kb)/kg*u - 2*kr*(1-kr)/kg*v,
		yf + 2*(1-kb)*u,
	}
	for i := range rgb {
		rgb[i] = math.Max(0, math.Min(255, rgb[i]))
	}
	return rgb
}

// TestYUVMatrices checks the fixed-point matrices against the float
// formula over every Y and a grid of chroma values: within 1 level.
func TestYUVMatrices(t *testing.T) {
	for _, rng := range []YUVRange{LimitedRange, FullRange} {
		for _, m := range []YUVMatrix{BT601, BT709} {
			k := yuvCoeffs(rng, m)
			// Limited range rounds; full range keeps color.YCbCrToRGB's
			// truncating Y·0x10101, which can be one level high.
			tol := 0.51 // half a level plus the coefficients' 16-bit rounding
			if rng == FullRange {
				tol = 1 + 1e-2
			}
			for y := 0; y < 256; y++ {
				for c := 0; c < 256; c += 5 {
					for d := 0; d < 256; d += 7 {
						r, g, b := k.rgb(uint8(y), uint8(c), uint8(d))
						want := refRGB(uint8(y), uint8(c), uint8(d), rng, m)
						for i, got := range [3]uint8{r, g, b} {
							if math.Abs(want[i]-float64(got)) > tol {
								t.Fatalf("%v %v Y=%d Cb=%d Cr=%d channel %d: got %d, want %.3f", rng, m, y, c, d, i, got, want[i])
							}
						}
					}
				}
			}
		}
	}
	// Limited range: black, white and grey land exactly.
	k := yuvCoeffs(LimitedRange, BT601)
	for _, c := range []struct{ y, want uint8 }{{16, 0}, {235, 255}, {126, 128}, {0, 0}, {255, 255}} {
		r, g, b := k.rgb(c.y, 128, 128)
		require.Equal(t, [3]uint8{c.want, c.want, c.want}, [3]uint8{r, g, b}, "Y=%d", c.y)
	}
}

// TestYUYVMatchesI420 builds a YUYV frame with the same samples as an
// I420 frame (chroma repeated on both rows) and expects the same pixels.
func TestYUYVMatchesI420(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	w, h := 20, 10
	f, _ := randomI420(r, w, h)
	f.Range = LimitedRange
	stride := 2*w + 8 // padded rows
	pix := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x += 2 {
			_, cb, cr := f.sample(x, y)
			y0, _, _ := f.sample(x, y)
			y1, _, _ := f.sample(x+1, y)
			copy(pix[y*stride+2*x:], []byte{y0, cb, y1, cr})
		}
	}
	g := &YUV{Layout: YUYV, Width: w, Height: h, Stride: stride, Pix: pix}
	require.NoError(t, g.Check())
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			require.Equal(t, f.At(x, y), g.At(x, y), "(%d,%d)", x, y)
		}
	}
}

func TestYUVCheck(t *testing.T) {
	require.Error(t, (&YUV{Layout: I420, Width: 4, Height: 4, Pix: make([]byte, 23)}).Check())
	require.NoError(t, (&YUV{Layout: I420, Width: 4, Height: 4, Pix: make([]byte, 24)}).Check())
	require.Error(t, (&YUV{Layout: YUYV, Width: 3, Height: 2, Pix: make([]byte, 12)}).Check())
	require.Error(t, (&YUV{Layout: YUYV, Width: 4, Height: 2, Stride: 6, Pix: make([]byte, 16)}).Check())
	require.Error(t, (&YUV{Width: 4, Height: 2}).Check())
	p, err := New(Spec{Width: 2, Height: 2, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}})
	require.NoError(t, err)
	// At on a short frame is black, not a panic.
	short := &YUV{Layout: I420, Width: 4, Height: 4, Pix: make([]byte, 3)}
	require.Equal(t, color.RGBA{A: 0xff}, short.At(1, 1))
	require.NoError(t, p.Run(&YUV{Layout: I420, Width: 4, Height: 4, Pix: make([]byte, 24)}, make([]float32, 12)))
}

func TestYUVRunDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	f, _ := randomI420(r, 640, 480)
	p, err := New(Spec{Width: 224, Height: 224, Channels: 3, Scale: 255, Mean: ImageNetMean, Std: ImageNetStd, ResizeShorter: 256})
	require.NoError(t, err)
	dst := make([]float32, p.Spec().Len())
	require.NoError(t, p.Run(f, dst))
	require.Zero(t, testing.AllocsPerRun(20, func() { _ = p.Run(f, dst) }))
}
