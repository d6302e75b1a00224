package input

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
)

// refImage is an image as float64 RGB planes, read through the generic
// image.Image interface (color.NRGBAModel), independently of the fast paths.
type refImage struct {
	w, h int
	c    [3][]float64
}

func toRef(img image.Image) refImage {
	b := img.Bounds()
	r := refImage{w: b.Dx(), h: b.Dy()}
	for k := range r.c {
		r.c[k] = make([]float64, r.w*r.h)
	}
	for y := 0; y < r.h; y++ {
		for x := 0; x < r.w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := y*r.w + x
			r.c[0][i], r.c[1][i], r.c[2][i] = float64(c.R), float64(c.G), float64(c.B)
		}
	}
	return r
}

// sample is textbook bilinear interpolation of plane at pixel-centre
// aligned source coordinates (x, y), clamping to the edge.
func (r refImage) sample(k int, x, y float64) float64 {
	clamp := func(v float64, n int) (int, int, float64) {
		v = math.Min(math.Max(v, 0), float64(n-1))
		i := int(math.Floor(v))
		j := i + 1
		if j > n-1 {
			j = n - 1
		}
		return i, j, v - float64(i)
	}
	x0, x1, fx := clamp(x, r.w)
	y0, y1, fy := clamp(y, r.h)
	p := r.c[k]
	top := p[y0*r.w+x0]*(1-fx) + p[y0*r.w+x1]*fx
	bot := p[y1*r.w+x0]*(1-fx) + p[y1*r.w+x1]*fx
	return top*(1-fy) + bot*fy
}

// reference computes what Run should produce, in NCHW, one pixel at a
// time: resize the whole image to rw×rh, then crop.
func reference(img image.Image, s Spec) []float64 { return referenceOf(toRef(img), s) }

func referenceOf(r refImage, s Spec) []float64 {
	rw, rh, left, top := s.Width, s.Height, 0, 0
	if n := s.ResizeShorter; n > 0 {
		if r.w <= r.h {
			rw, rh = n, n*r.h/r.w
		} else {
			rw, rh = n*r.w/r.h, n
		}
		left, top = roundHalfEven(rw-s.Width), roundHalfEven(rh-s.Height)
	}
	out := make([]float64, s.Len())
	for y := 0; y < s.Height; y++ {
		for x := 0; x < s.Width; x++ {
			sx := (float64(x+left)+0.5)*float64(r.w)/float64(rw) - 0.5
			sy := (float64(y+top)+0.5)*float64(r.h)/float64(rh) - 0.5
			var rgb [3]float64
			for k := range rgb {
				rgb[k] = r.sample(k, sx, sy)
			}
			if s.Channels == 1 {
				lum := 0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2]
				out[y*s.Width+x] = (lum/float64(s.Scale) - float64(s.Mean[0])) / float64(s.Std[0])
				continue
			}
			for oc := 0; oc < 3; oc++ {
				k := oc
				if s.BGR {
					k = 2 - oc
				}
				v := (rgb[k]/float64(s.Scale) - float64(s.Mean[k])) / float64(s.Std[k])
				out[(oc*s.Height+y)*s.Width+x] = v
			}
		}
	}
	return out
}

// roundHalfEven is (d/2) rounded half to even, Python's round(d / 2.0).
func roundHalfEven(d int) int {
	if d%2 == 0 || (d/2)%2 == 0 {
		return d / 2
	}
	return d/2 + 1
}

func loadShared(t testing.TB, sub string) image.Image {
	t.Helper()
	img, err := Load(shared.Path(t, sub))
	require.NoError(t, err)
	return img
}

// convert redraws img as another concrete image type.
func convert(img image.Image, kind string) image.Image {
	b := img.Bounds()
	var dst interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	switch kind {
	case "nrgba":
		dst = image.NewNRGBA(b)
	case "rgba":
		dst = image.NewRGBA(b)
	case "gray":
		dst = image.NewGray(b)
	case "rgba64": // no fast path: exercises the generic one
		dst = image.NewRGBA64(b)
	default:
		return img
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.Set(x, y, img.At(x, y))
		}
	}
	return dst
}

func maxDiff(got []float32, want []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

// TestResizeMatchesReference checks the separable fast path against a
// per-pixel float64 bilinear on real photos in every decoder's image type.
func TestResizeMatchesReference(t *testing.T) {
	images := []struct {
		file, typ string
	}{
		{"images/classic/grace_hopper.jpg", "*image.YCbCr"},
		{"images/classic/cat.bmp", "*image.RGBA"},
		{"images/person_detection/person.bmp", "*image.Paletted"},
	}
	base := Spec{Channels: 3, Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1}, Scale: 255}
	specs := map[string]func(Spec) Spec{
		"224x224": func(s Spec) Spec { s.Width, s.Height = 224, 224; return s },
		"97x61":   func(s Spec) Spec { s.Width, s.Height = 97, 61; return s },
		"up600x700": func(s Spec) Spec {
			s.Width, s.Height = 600, 700
			return s
		},
		"shorter256crop224": func(s Spec) Spec {
			s.Width, s.Height, s.ResizeShorter = 224, 224, 256
			return s
		},
		"shorter301crop200x150": func(s Spec) Spec {
			s.Width, s.Height, s.ResizeShorter = 200, 150, 301
			return s
		},
		"gray96": func(s Spec) Spec { s.Width, s.Height, s.Channels = 96, 96, 1; return s },
	}
	for _, im := range images {
		img := loadShared(t, im.file)
		require.Equal(t, im.typ, fmt.Sprintf("%T", img), "decoder's image type for %s", im.file)
		for _, kind := range []string{"native", "nrgba", "rgba", "gray", "rgba64", "subimage"} {
			src := convert(img, kind)
			if kind == "subimage" {
				b := img.Bounds()
				src = img.(interface {
					SubImage(image.Rectangle) image.Image
				}).SubImage(image.Rect(b.Min.X+3, b.Min.Y+5, b.Max.X-1, b.Max.Y-2))
			}
			ref := toRef(src)
			for name, mk := range specs {
				s := mk(base)
				t.Run(fmt.Sprintf("%s/%s/%s", filepath.Base(im.file), kind, name), func(t *testing.T) {
					p, err := New(s)
					require.NoError(t, err)
					got := make([]float32, s.Len())
					require.NoError(t, p.Run(src, got))
					want := referenceOf(ref, s)
					d, at := maxDiff(got, want)
					require.LessOrEqualf(t, d, 1.0/255, "max diff %.6f at %d: got %v want %v", d, at, got[max(at, 0)], want[max(at, 0)])
				})
			}
		}
	}
}

// TestNormalisation checks mean, std, scale, BGR and both layouts on a
// 2×2 image whose expected values are worked out by hand (an identity
// resize, so no interpolation is involved).
func TestNormalisation(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	px := [4][3]uint8{{255, 0, 51}, {102, 204, 0}, {0, 0, 0}, {255, 255, 255}}
	for i, c := range px {
		img.SetNRGBA(i%2, i/2, color.NRGBA{c[0], c[1], c[2], 255})
	}
	mean := [3]float32{0.5, 0.25, 0.1}
	std := [3]float32{0.5, 0.25, 0.2}
	tests := []struct {
		name string
		spec Spec
		want []float32
	}{{
		name: "unit-NCHW",
		spec: Spec{Width: 2, Height: 2, Channels: 3, Std: [3]float32{1, 1, 1}, Scale: 255},
		want: []float32{
			1, 0.4, 0, 1, // R plane
			0, 0.8, 0, 1, // G
			0.2, 0, 0, 1, // B
		},
	}, {
		name: "scale1",
		spec: Spec{Width: 2, Height: 2, Channels: 3, Std: [3]float32{1, 1, 1}, Scale: 1},
		want: []float32{255, 102, 0, 255, 0, 204, 0, 255, 51, 0, 0, 255},
	}, {
		// R: (v−0.5)/0.5, G: (v−0.25)/0.25, B: (v−0.1)/0.2 with v = pixel/255.
		name: "mean-std-NCHW",
		spec: Spec{Width: 2, Height: 2, Channels: 3, Mean: mean, Std: std, Scale: 255},
		want: []float32{
			1, -0.2, -1, 1,
			-1, 2.2, -1, 3,
			0.5, -0.5, -0.5, 4.5,
		},
	}, {
		name: "mean-std-BGR-NCHW",
		spec: Spec{Width: 2, Height: 2, Channels: 3, Mean: mean, Std: std, Scale: 255, BGR: true},
		want: []float32{
			0.5, -0.5, -0.5, 4.5, // B plane first
			-1, 2.2, -1, 3,
			1, -0.2, -1, 1,
		},
	}, {
		name: "mean-std-NHWC",
		spec: Spec{Width: 2, Height: 2, Channels: 3, Mean: mean, Std: std, Scale: 255, Layout: NHWC},
		want: []float32{
			1, -1, 0.5, -0.2, 2.2, -0.5,
			-1, -1, -0.5, 1, 3, 4.5,
		},
	}, {
		name: "mean-std-BGR-NHWC",
		spec: Spec{Width: 2, Height: 2, Channels: 3, Mean: mean, Std: std, Scale: 255, Layout: NHWC, BGR: true},
		want: []float32{
			0.5, -1, 1, -0.5, 2.2, -0.2,
			-0.5, -1, -1, 4.5, 3, 1,
		},
	}, {
		// Luma (19595R + 38470G + 7471B + 32768) >> 16:
		// (255,0,51) → 82, (102,204,0) → 150, black → 0, white → 255.
		name: "gray",
		spec: Spec{Width: 2, Height: 2, Channels: 1, Mean: [3]float32{0.5}, Std: [3]float32{0.5}, Scale: 255},
		want: []float32{82.0/127.5 - 1, 150.0/127.5 - 1, -1, 1},
	}, {
		name: "gray-NHWC",
		spec: Spec{Width: 2, Height: 2, Channels: 1, Std: [3]float32{1}, Scale: 1, Layout: NHWC},
		want: []float32{82, 150, 0, 255},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.spec)
			require.NoError(t, err)
			got := make([]float32, tc.spec.Len())
			require.NoError(t, p.Run(img, got))
			require.InDeltaSlice(t, tc.want, got, 1e-5)
		})
	}
}

// TestUpscaleByHand: a 2×1 image [0, 100] resized to 4×1 samples source
// x = −0.25 (clamped to 0), 0.25, 0.75 and 1.25 (clamped to 1).
func TestUpscaleByHand(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 1))
	img.Pix[0], img.Pix[1] = 0, 100
	p, err := New(Spec{Width: 4, Height: 3, Channels: 1, Std: [3]float32{1}, Scale: 1})
	require.NoError(t, err)
	got := make([]float32, 12)
	require.NoError(t, p.Run(img, got))
	row := []float32{0, 25, 75, 100}
	require.InDeltaSlice(t, append(append(append([]float32{}, row...), row...), row...), got, 1e-5)
}

// TestCentreCropByHand: a 6×4 gray ramp with ResizeShorter 4 is not
// resized (shorter side already 4) and cropping 2×2 takes columns 2..3,
// rows 1..2.
func TestCentreCropByHand(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 6, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	p, err := New(Spec{Width: 2, Height: 2, Channels: 1, Std: [3]float32{1}, Scale: 1, ResizeShorter: 4})
	require.NoError(t, err)
	got := make([]float32, 4)
	require.NoError(t, p.Run(img, got))
	require.InDeltaSlice(t, []float32{8, 9, 14, 15}, got, 1e-5)
}

func TestZeroAllocs(t *testing.T) {
	photo := loadShared(t, "images/classic/grace_hopper.jpg")
	pal := loadShared(t, "images/person_detection/person.bmp")
	for _, tc := range []struct {
		kind string
		img  image.Image
	}{
		{"ycbcr", photo},
		{"rgba", convert(photo, "rgba")},
		{"nrgba", convert(photo, "nrgba")},
		{"gray", convert(photo, "gray")},
		{"paletted", pal},
	} {
		for _, s := range []Spec{
			{Width: 224, Height: 224, Channels: 3, Mean: ImageNetMean, Std: ImageNetStd, Scale: 255},
			{Width: 160, Height: 128, Channels: 3, Std: [3]float32{1, 1, 1}, Scale: 255, BGR: true, Layout: NHWC, ResizeShorter: 180},
			{Width: 96, Height: 96, Channels: 1, Std: [3]float32{1}, Scale: 1},
		} {
			t.Run(fmt.Sprintf("%s/%dx%dx%d", tc.kind, s.Width, s.Height, s.Channels), func(t *testing.T) {
				p, err := New(s)
				require.NoError(t, err)
				dst := make([]float32, s.Len())
				require.NoError(t, p.Run(tc.img, dst)) // first frame sizes the buffers
				allocs := testing.AllocsPerRun(5, func() {
					if err := p.Run(tc.img, dst); err != nil {
						t.Fatal(err)
					}
				})
				require.Zero(t, allocs, "allocations per frame")
			})
		}
	}
}

// TestSizeChange runs one Preprocessor over images of different sizes and
// checks each result against a fresh Preprocessor.
func TestSizeChange(t *testing.T) {
	s := Spec{Width: 50, Height: 40, Channels: 3, Std: [3]float32{1, 1, 1}, Scale: 255}
	p, err := New(s)
	require.NoError(t, err)
	for _, wh := range [][2]int{{300, 200}, {20, 30}, {300, 200}, {1, 1}, {1, 7}} {
		img := Pattern(wh[0], wh[1])
		got := make([]float32, s.Len())
		require.NoError(t, p.Run(img, got))
		d, _ := maxDiff(got, reference(img, s))
		require.LessOrEqual(t, d, 1.0/255, "%v", wh)
	}
}

func TestSpecErrors(t *testing.T) {
	ok := Spec{Width: 4, Height: 4, Channels: 3, Std: [3]float32{1, 1, 1}, Scale: 255}
	for name, mut := range map[string]func(*Spec){
		"zero width":     func(s *Spec) { s.Width = 0 },
		"two channels":   func(s *Spec) { s.Channels = 2 },
		"zero scale":     func(s *Spec) { s.Scale = 0 },
		"zero std":       func(s *Spec) { s.Std[2] = 0 },
		"bad layout":     func(s *Spec) { s.Layout = 7 },
		"negative short": func(s *Spec) { s.ResizeShorter = -1 },
		"short < crop":   func(s *Spec) { s.ResizeShorter = 3 },
	} {
		s := ok
		mut(&s)
		_, err := New(s)
		require.Error(t, err, name)
	}
	p, err := New(ok)
	require.NoError(t, err)
	require.Error(t, p.Run(Pattern(8, 8), make([]float32, 5)), "short destination")
	require.Error(t, p.Run(image.NewRGBA(image.Rect(0, 0, 0, 3)), make([]float32, ok.Len())), "empty image")
	require.Error(t, p.Run(nil, make([]float32, ok.Len())), "nil image")
}

func TestLoad(t *testing.T) {
	dir := shared.Path(t, "images")
	for _, f := range []string{
		"classic/grace_hopper.jpg", "classic/grace_hopper.bmp", "classic/cat.bmp",
		"person_detection/person.bmp", "imagenet_sample/n01440764_tench.JPEG",
	} {
		img, err := Load(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Positive(t, img.Bounds().Dx(), f)
	}
	// The JPEG and the 24-bit BMP of Grace Hopper are different
	// encodings; only the format-independent facts are compared.
	pngs, _ := filepath.Glob(filepath.Join(dir, "fashion_mnist/png/*.png"))
	if len(pngs) > 0 {
		img, err := Load(pngs[0])
		require.NoError(t, err)
		require.Equal(t, image.Rect(0, 0, 28, 28), img.Bounds())
	}

	_, err := Load(filepath.Join(t.TempDir(), "missing.jpg"))
	require.ErrorIs(t, err, os.ErrNotExist)
	bad := filepath.Join(t.TempDir(), "bad.png")
	require.NoError(t, os.WriteFile(bad, []byte("not an image"), 0o644))
	_, err = Load(bad)
	require.ErrorContains(t, err, bad)
}

func TestIsImageFile(t *testing.T) {
	for p, want := range map[string]bool{
		"a.jpg": true, "b.JPEG": true, "c.png": true, "d.Bmp": true,
		"e.npy": false, "f.pb": false, "jpg": false, "dir.jpg/x": false,
	} {
		require.Equal(t, want, IsImageFile(p), p)
	}
}

func BenchmarkRun(b *testing.B) {
	img := loadShared(b, "images/classic/grace_hopper.jpg")
	s := Spec{Width: 224, Height: 224, Channels: 3, Mean: ImageNetMean, Std: ImageNetStd, Scale: 255}
	p, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, s.Len())
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Run(img, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// TestYCbCrExact: the inlined JPEG colour conversion is color.YCbCrToRGB
// bit for bit (an identity resize with Scale 1 shows the 8-bit values).
func TestYCbCrExact(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		for _, sub := range []image.Rectangle{
			image.Rect(0, 0, 256, 256), image.Rect(3, 5, 250, 255), // a sub-image
			image.Rect(-5, -3, 120, 100), // negative origin: the COffset path
		} {
			img := image.NewYCbCr(image.Rect(min(sub.Min.X, 0), min(sub.Min.Y, 0), 256, 256), ratio)
			for i := range img.Y {
				img.Y[i] = uint8(i * 7)
			}
			for i := range img.Cb {
				img.Cb[i], img.Cr[i] = uint8(i*13+5), uint8(i*29+3)
			}
			src := img.SubImage(sub).(*image.YCbCr)
			w, h := sub.Dx(), sub.Dy()
			p, err := New(Spec{Width: w, Height: h, Channels: 3, Std: [3]float32{1, 1, 1}, Scale: 1, Layout: NHWC})
			require.NoError(t, err)
			got := make([]float32, w*h*3)
			require.NoError(t, p.Run(src, got))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					c := src.YCbCrAt(sub.Min.X+x, sub.Min.Y+y)
					r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
					i := 3 * (y*w + x)
					require.Equal(t, []float32{float32(r), float32(g), float32(b)}, got[i:i+3], "%v %v at %d,%d", ratio, sub, x, y)
				}
			}
		}
	}
}

// TestTransparent: pixels with alpha < 255 keep their non-premultiplied
// colour on every path, exactly as color.NRGBAModel computes it.
func TestTransparent(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := range src.Pix {
		src.Pix[i] = uint8(i*37 + i/4*11)
	}
	s := Spec{Width: 16, Height: 16, Channels: 3, Std: [3]float32{1, 1, 1}, Scale: 1}
	for _, kind := range []string{"native", "rgba", "rgba64"} {
		img := convert(src, kind)
		p, err := New(s)
		require.NoError(t, err)
		got := make([]float32, s.Len())
		require.NoError(t, p.Run(img, got))
		d, at := maxDiff(got, reference(img, s))
		require.Zero(t, d, "%s: at %d", kind, at)
	}
}
