package camera

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
)

// scene is a 640×480 test picture: smooth gradients, hard edges and
// noise, so that both resampling and colour conversion are exercised.
func scene(w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(7, 8))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(128 + 100*math.Sin(float64(x+y)/9)), 0xff}
			if (x/40+y/40)%2 == 0 {
				c.R, c.B = c.B, 255-c.R
			}
			if x > w/2 && y > h/2 {
				c.G = uint8(r.IntN(256))
			}
			m.Set(x, y, c)
		}
	}
	return m
}

// refYCbCrToRGB is the float BT.601 conversion of full-range (JFIF) or
// limited-range samples, clamped but not rounded.
func refYCbCrToRGB(y, cb, cr uint8, limited bool) [3]float64 {
	yf, u, v := float64(y), float64(cb)-128, float64(cr)-128
	if limited {
		yf, u, v = (yf-16)*255/219, u*255/224, v*255/224
	}
	out := [3]float64{yf + 1.402*v, yf - 0.344136*u - 0.714136*v, yf + 1.772*u}
	for i := range out {
		out[i] = math.Max(0, math.Min(255, out[i]))
	}
	return out
}

// refResize is an independent float64 bilinear resize with pixel centres
// aligned (src = (dst+0.5)·scale − 0.5, clamped at the edges), with an
// optional shorter-side resize and centre crop, producing NCHW values in
// [0,1].
func refResize(w, h int, pixel func(x, y int) [3]float64, ow, oh, shorter int) []float64 {
	rw, rh, left, top := ow, oh, 0, 0
	if shorter > 0 {
		if w <= h {
			rw, rh = shorter, int(float64(shorter)*float64(h)/float64(w))
		} else {
			rw, rh = int(float64(shorter)*float64(w)/float64(h)), shorter
		}
		left, top = int(math.RoundToEven(float64(rw-ow)/2)), int(math.RoundToEven(float64(rh-oh)/2))
	}
	coord := func(i, src, dst int) (int, int, float64) {
		x := math.Max((float64(i)+0.5)*float64(src)/float64(dst)-0.5, 0)
		a := int(math.Floor(x))
		if a >= src-1 {
			return src - 1, src - 1, 0
		}
		return a, a + 1, x - float64(a)
	}
	out := make([]float64, 3*ow*oh)
	for oy := 0; oy < oh; oy++ {
		y0, y1, fy := coord(oy+top, h, rh)
		for ox := 0; ox < ow; ox++ {
			x0, x1, fx := coord(ox+left, w, rw)
			p00, p01, p10, p11 := pixel(x0, y0), pixel(x1, y0), pixel(x0, y1), pixel(x1, y1)
			for c := 0; c < 3; c++ {
				top := p00[c]*(1-fx) + p01[c]*fx
				bot := p10[c]*(1-fx) + p11[c]*fx
				out[(c*oh+oy)*ow+ox] = (top*(1-fy) + bot*fy) / 255
			}
		}
	}
	return out
}

func requireWithin(t *testing.T, want []float64, got []float32, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want))
	worst, at := 0.0, 0
	for i := range want {
		if d := math.Abs(want[i] - float64(got[i])); d > worst {
			worst, at = d, i
		}
	}
	require.LessOrEqualf(t, worst, tol, "%s: worst error %.5f (%.2f levels) at %d: got %v want %v", what, worst, worst*255, at, got[at], want[at])
	t.Logf("%s: worst error %.3f levels", what, worst*255)
}

var specs = []input.Spec{
	{Width: 128, Height: 128, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}},
	{Width: 224, Height: 224, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}, ResizeShorter: 256},
	{Width: 96, Height: 64, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}},
}

// TestConvertJPEGMatchesReference: a JPEG frame decoded and resized by the
// Converter agrees with the float reference (conversion and resampling
// from the decoded samples) within 1/255 everywhere.
func TestConvertJPEGMatchesReference(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, stdjpeg.Encode(&buf, scene(640, 480), &stdjpeg.Options{Quality: 90}))
	ref, err := stdjpeg.Decode(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	ycc := ref.(*image.YCbCr)
	pixel := func(x, y int) [3]float64 {
		return refYCbCrToRGB(ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)], false)
	}
	f := &Frame{Format: MJPEG, Data: buf.Bytes()}
	for _, s := range specs {
		p, err := input.New(s)
		require.NoError(t, err)
		c := NewConverter(p)
		dst := make([]float32, s.Len())
		require.NoError(t, c.Convert(f, dst))
		// Full-range conversion is color.YCbCrToRGB's, which truncates
		// (up to one level high); the tolerance is one level.
		requireWithin(t, refResize(640, 480, pixel, s.Width, s.Height, s.ResizeShorter), dst, 1.0/255+1e-6, "JPEG")
	}
}

// i420Of converts an RGB image to limited-range BT.601 I420 (chroma
// averaged over 2×2), as a camera or ffmpeg would.
func i420Of(m *image.RGBA) []byte {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]byte, input.FrameSize(input.I420, w, h))
	cw := (w + 1) / 2
	clampB := func(v float64) byte { return byte(math.Max(0, math.Min(255, math.Round(v)))) }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := m.RGBAAt(x, y)
			r, g, b := float64(c.R), float64(c.G), float64(c.B)
			out[y*w+x] = clampB(16 + (0.299*r+0.587*g+0.114*b)*219/255)
		}
	}
	for y := 0; y < (h+1)/2; y++ {
		for x := 0; x < cw; x++ {
			var r, g, b float64
			for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				c := m.RGBAAt(min(2*x+d[0], w-1), min(2*y+d[1], h-1))
				r, g, b = r+float64(c.R)/4, g+float64(c.G)/4, b+float64(c.B)/4
			}
			yy := 0.299*r + 0.587*g + 0.114*b
			out[w*h+y*cw+x] = clampB(128 + (b-yy)/1.772*224/255)
			out[w*h+cw*((h+1)/2)+y*cw+x] = clampB(128 + (r-yy)/1.402*224/255)
		}
	}
	return out
}

// TestConvertI420MatchesReference: the same for a limited-range I420
// frame, against the float conversion of its samples.
func TestConvertI420MatchesReference(t *testing.T) {
	w, h := 640, 480
	data := i420Of(scene(w, h))
	cw := w / 2
	pixel := func(x, y int) [3]float64 {
		ci := (y/2)*cw + x/2
		return refYCbCrToRGB(data[y*w+x], data[w*h+ci], data[w*h+cw*h/2+ci], true)
	}
	s, err := NewRawStream(bytes.NewReader(data), I420, w, h, input.LimitedRange, input.BT601)
	require.NoError(t, err)
	f, err := s.Next(context.Background())
	require.NoError(t, err)
	for _, sp := range specs {
		p, err := input.New(sp)
		require.NoError(t, err)
		dst := make([]float32, sp.Len())
		require.NoError(t, NewConverter(p).Convert(f, dst))
		requireWithin(t, refResize(w, h, pixel, sp.Width, sp.Height, sp.ResizeShorter), dst, 1.0/255, "I420")
	}
}

// yuyvOf repacks an I420 frame as YUYV (chroma repeated on both rows).
func yuyvOf(i420 []byte, w, h int) []byte {
	out := make([]byte, 2*w*h)
	cw := w / 2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x += 2 {
			ci := (y/2)*cw + x/2
			copy(out[2*(y*w+x):], []byte{i420[y*w+x], i420[w*h+ci], i420[y*w+x+1], i420[w*h+cw*h/2+ci]})
		}
	}
	return out
}

func TestConvertYUYVEqualsI420(t *testing.T) {
	w, h := 64, 48
	data := i420Of(scene(w, h))
	p, err := input.New(specs[0])
	require.NoError(t, err)
	c := NewConverter(p)
	a, b := make([]float32, specs[0].Len()), make([]float32, specs[0].Len())
	require.NoError(t, c.Convert(&Frame{Format: I420, Width: w, Height: h, Stride: w, Data: data}, a))
	require.NoError(t, c.Convert(&Frame{Format: YUYV, Width: w, Height: h, Stride: 2 * w, Data: yuyvOf(data, w, h)}, b))
	require.Equal(t, a, b)

	// Forcing full range changes the result.
	c.ForceYUV, c.Range = true, input.FullRange
	require.NoError(t, c.Convert(&Frame{Format: I420, Width: w, Height: h, Stride: w, Data: data}, b))
	require.NotEqual(t, a, b)
}

// TestConvertAntialiasI420MatchesYCbCr: with Pillow-style antialiased
// resizing too, a full-range I420 frame gives exactly the tensor of the
// equivalent image.YCbCr.
func TestConvertAntialiasI420MatchesYCbCr(t *testing.T) {
	w, h := 64, 48
	data := i420Of(scene(w, h))
	ycc := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	copy(ycc.Y, data[:w*h])
	copy(ycc.Cb, data[w*h:w*h+w*h/4])
	copy(ycc.Cr, data[w*h+w*h/4:])
	s := input.Spec{Width: 20, Height: 20, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}, ResizeShorter: 24, Antialias: true}
	p, err := input.New(s)
	require.NoError(t, err)
	a, b := make([]float32, s.Len()), make([]float32, s.Len())
	require.NoError(t, p.Run(ycc, a))
	require.NoError(t, NewConverter(p).Convert(&Frame{Format: I420, Width: w, Height: h, Range: input.FullRange, Data: data}, b))
	require.Equal(t, a, b)
}

func TestConvertErrors(t *testing.T) {
	p, err := input.New(specs[0])
	require.NoError(t, err)
	c := NewConverter(p)
	dst := make([]float32, specs[0].Len())
	err = c.Convert(&Frame{Index: 7, Format: MJPEG, Data: []byte("not a jpeg")}, dst)
	fe, ok := IsFrameError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 7, fe.Frame)
	require.ErrorContains(t, err, "frame 7: bad JPEG")
	err = c.Convert(&Frame{Index: 3, Format: I420, Width: 64, Height: 48, Stride: 64, Data: make([]byte, 100)}, dst)
	require.ErrorContains(t, err, "frame 3")
	require.Error(t, c.Convert(&Frame{Format: fourcc('N', 'V', '1', '2')}, dst))
}

// TestConvertDoesNotAllocate: after the first frame, converting a frame
// (JPEG decode included) allocates nothing.
func TestConvertDoesNotAllocate(t *testing.T) {
	w, h := 640, 480
	i420 := i420Of(scene(w, h))
	var buf bytes.Buffer
	require.NoError(t, stdjpeg.Encode(&buf, scene(w, h), &stdjpeg.Options{Quality: 80}))
	frames := map[string]*Frame{
		"I420": {Format: I420, Width: w, Height: h, Stride: w, Data: i420},
		"YUYV": {Format: YUYV, Width: w, Height: h, Stride: 2 * w, Data: yuyvOf(i420, w, h)},
		"JPEG": {Format: MJPEG, Data: buf.Bytes()},
	}
	for name, f := range frames {
		aa := specs[1]
		aa.Antialias = true // the run command's default resize
		for _, s := range append(specs[:2:2], aa) {
			p, err := input.New(s)
			require.NoError(t, err)
			c := NewConverter(p)
			dst := make([]float32, s.Len())
			require.NoError(t, c.Convert(f, dst))
			allocs := testing.AllocsPerRun(10, func() {
				if err := c.Convert(f, dst); err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs, "%s → %dx%d antialias %v", name, s.Width, s.Height, s.Antialias)
		}
	}
}

// BenchmarkConvert measures per-frame preprocessing of 640×480 frames into
// a 224×224 ImageNet input (shorter side 256, centre crop).
func BenchmarkConvert(b *testing.B) {
	w, h := 640, 480
	i420 := i420Of(scene(w, h))
	var buf bytes.Buffer
	require.NoError(b, stdjpeg.Encode(&buf, scene(w, h), &stdjpeg.Options{Quality: 80}))
	for _, c := range []struct {
		name string
		f    *Frame
	}{
		{"I420", &Frame{Format: I420, Width: w, Height: h, Stride: w, Data: i420}},
		{"YUYV", &Frame{Format: YUYV, Width: w, Height: h, Stride: 2 * w, Data: yuyvOf(i420, w, h)}},
		{"JPEG", &Frame{Format: MJPEG, Data: buf.Bytes()}},
	} {
		for _, aa := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/antialias=%v", c.name, aa), func(b *testing.B) {
				s := input.Spec{Width: 224, Height: 224, Channels: 3, Scale: 255, Mean: input.ImageNetMean, Std: input.ImageNetStd, ResizeShorter: 256, Antialias: aa}
				p, err := input.New(s)
				require.NoError(b, err)
				conv := NewConverter(p)
				dst := make([]float32, s.Len())
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if err := conv.Convert(c.f, dst); err != nil {
						b.Fatal(err)
					}
				}
				// CPU time as well as wall time: on a shared machine the
				// wall time includes waiting for a core.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/frame")
			})
		}
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
