package input

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"

	"github.com/edgeinfer/edgeinfer/internal/shared"
)

// fuzzImage is a small colourful image for the seed corpus.
func fuzzImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.NRGBA{uint8(40 * x), uint8(50 * y), uint8(x * y), uint8(255 - 10*x)})
		}
	}
	return m
}

// pngHeader is a PNG with a valid IHDR claiming w×h 8-bit RGBA pixels and
// no image data.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(b, typ...)
		b = append(b, data...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, 8, 6, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b
}

// runtimeMem is the heap's cumulative allocation count.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}

// TestDecodeRefusesBombs: a few bytes claiming a huge image are refused
// from the header, before the decoder allocates the image.
func TestDecodeRefusesBombs(t *testing.T) {
	var small bytes.Buffer
	require.NoError(t, jpeg.Encode(&small, fuzzImage(8, 8), nil))
	bigJPEG := append([]byte(nil), small.Bytes()...)
	i := bytes.Index(bigJPEG, []byte{0xff, 0xc0}) // SOF0: length, precision, height, width
	require.Greater(t, i, 0)
	binary.BigEndian.PutUint16(bigJPEG[i+5:], 60000)
	binary.BigEndian.PutUint16(bigJPEG[i+7:], 60000)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"png 8000x8000", pngHeader(8000, 8000), "refused as a decompression bomb"},
		{"png 2^31 pixels", pngHeader(1<<16, 1<<15), "more than 67108864 pixels"},
		{"jpeg 60000x60000", bigJPEG, "more than 67108864 pixels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms0, ms1 runtimeMem
			ms0.read()
			_, err := Decode(tc.data)
			ms1.read()
			require.ErrorContains(t, err, tc.want)
			require.Less(t, ms1.total-ms0.total, uint64(1<<20), "allocated while refusing")
		})
	}
	// What the bound keeps: a flat 3000×2000 PNG, about 2,000 pixels per
	// byte, decodes.
	var flat bytes.Buffer
	require.NoError(t, png.Encode(&flat, image.NewGray(image.Rect(0, 0, 3000, 2000))))
	img, err := Decode(flat.Bytes())
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 3000, 2000), img.Bounds())
}

// FuzzDecodePreprocess decodes arbitrary bytes as an image and, when that
// succeeds, preprocesses the image for an NCHW RGB input and a centre-
// cropped NHWC grayscale one: no panic, no huge allocation, and every
// output value is finite.
func FuzzDecodePreprocess(f *testing.F) {
	var b bytes.Buffer
	require.NoError(f, png.Encode(&b, fuzzImage(5, 3)))
	f.Add(b.Bytes())
	b.Reset()
	require.NoError(f, jpeg.Encode(&b, fuzzImage(9, 7), &jpeg.Options{Quality: 50}))
	f.Add(b.Bytes())
	b.Reset()
	require.NoError(f, bmp.Encode(&b, fuzzImage(3, 2)))
	f.Add(b.Bytes())
	b.Reset()
	require.NoError(f, png.Encode(&b, image.NewGray16(image.Rect(0, 0, 2, 9))))
	f.Add(b.Bytes())
	f.Add(pngHeader(64, 64))
	if dir, ok := shared.Dir(); ok {
		for _, name := range []string{"images/classic/mnist_nine.bmp"} {
			if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
	rgb, err := New(Spec{Width: 7, Height: 5, Channels: 3, Scale: 255, Mean: ImageNetMean, Std: ImageNetStd})
	require.NoError(f, err)
	gray, err := New(Spec{Width: 4, Height: 4, Channels: 1, Scale: 1, Std: [3]float32{1, 1, 1}, ResizeShorter: 6, Layout: NHWC, Antialias: true})
	require.NoError(f, err)
	dstRGB := make([]float32, rgb.Spec().Len())
	dstGray := make([]float32, gray.Spec().Len())
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data)
		if err != nil {
			return
		}
		for _, p := range []struct {
			pre *Preprocessor
			dst []float32
		}{{rgb, dstRGB}, {gray, dstGray}} {
			if err := p.pre.Run(img, p.dst); err != nil {
				t.Fatalf("preprocessing a decoded %v image: %v", img.Bounds(), err)
			}
			for i, v := range p.dst {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("output %d is %v", i, v)
				}
			}
		}
	})
}
