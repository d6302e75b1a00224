package jpeg

import (
	"bytes"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func testImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) * 7), 0xff})
		}
	}
	return m
}

func encode(t testing.TB, m image.Image, q int) []byte {
	var b bytes.Buffer
	require.NoError(t, stdjpeg.Encode(&b, m, &stdjpeg.Options{Quality: q}))
	return b.Bytes()
}

// requireSame checks that the Decoder's image equals image/jpeg's, pixel
// for pixel.
func requireSame(t *testing.T, dec *Decoder, data []byte, what string) {
	t.Helper()
	want, err := stdjpeg.Decode(bytes.NewReader(data))
	require.NoError(t, err, what)
	got, err := dec.Decode(data)
	require.NoError(t, err, what)
	require.Equal(t, want.Bounds(), got.Bounds(), what)
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			require.Equal(t, want.At(x, y), got.At(x, y), "%s: pixel (%d,%d)", what, x, y)
		}
	}
}

func TestDecoderMatchesImageJPEG(t *testing.T) {
	var dec Decoder
	for _, sz := range [][2]int{{64, 48}, {33, 17}, {64, 48}, {640, 480}} {
		requireSame(t, &dec, encode(t, testImage(sz[0], sz[1]), 80), "colour")
	}
	g := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 13)
	}
	requireSame(t, &dec, encode(t, g, 90), "gray")
	requireSame(t, &dec, encode(t, testImage(64, 48), 80), "colour after gray")
}

// TestDecoderFFmpegVariants decodes what ffmpeg's encoders write:
// progressive, 4:2:2 and 4:4:4 subsampling, restart markers.
func TestDecoderFFmpegVariants(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed: skipping the progressive/4:2:2/4:4:4 variants")
	}
	var dec Decoder
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"420.jpg":  {"-pix_fmt", "yuvj420p"},
		"422.jpg":  {"-pix_fmt", "yuvj422p"},
		"444.jpg":  {"-pix_fmt", "yuvj444p"},
		"gray.jpg": {"-pix_fmt", "gray"},
		"std.jpg":  {"-pix_fmt", "yuvj420p", "-huffman", "default"},
	} {
		out := filepath.Join(dir, name)
		cmd := append([]string{"-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x72:rate=1", "-frames:v", "1"}, args...)
		cmd = append(cmd, "-y", out)
		b, err := exec.Command("ffmpeg", cmd...).CombinedOutput()
		require.NoError(t, err, "%s", b)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		requireSame(t, &dec, data, name)
	}
}

// stripDHT removes the DHT segments, as UVC cameras send MJPEG.
func stripDHT(t *testing.T, data []byte) []byte {
	out := append([]byte{}, data[:2]...)
	i := 2
	for i+4 <= len(data) {
		require.Equal(t, byte(0xff), data[i])
		m := data[i+1]
		n := int(data[i+2])<<8 | int(data[i+3])
		if m == 0xda { // SOS: copy the rest
			return append(out, data[i:]...)
		}
		if m != 0xc4 {
			out = append(out, data[i:i+2+n]...)
		}
		i += 2 + n
	}
	t.Fatal("no SOS")
	return nil
}

// TestDecoderPhotos decodes the shared test photos, when present.
func TestDecoderPhotos(t *testing.T) {
	paths, _ := filepath.Glob("../../../../shared/images/classic/*.jp*g")
	if len(paths) == 0 {
		t.Skip("no photos in ../shared/images/classic")
	}
	var dec Decoder
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		requireSame(t, &dec, data, p)
	}
}

func TestDecoderDefaultHuffmanTables(t *testing.T) {
	data := encode(t, testImage(64, 48), 75)
	bare := stripDHT(t, data)
	require.Less(t, len(bare), len(data))
	_, err := stdjpeg.Decode(bytes.NewReader(bare))
	require.Error(t, err, "image/jpeg needs the DHT segment")
	var dec Decoder
	got, err := dec.Decode(bare)
	require.NoError(t, err)
	want, err := stdjpeg.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, want.(*image.YCbCr).Y, got.(*image.YCbCr).Y[:len(want.(*image.YCbCr).Y)])
}

func TestDecoderErrors(t *testing.T) {
	var dec Decoder
	data := encode(t, testImage(64, 48), 75)
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"no SOI":    data[2:],
		"truncated": data[:len(data)/2],
	} {
		_, err := dec.Decode(bad)
		require.Error(t, err, name)
	}
	// And it recovers.
	requireSame(t, &dec, data, "after errors")
}

func TestDecoderDoesNotAllocate(t *testing.T) {
	var dec Decoder
	data := encode(t, testImage(640, 480), 80)
	_, err := dec.Decode(data)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := dec.Decode(data); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs, "allocations per 640x480 frame")
}

func BenchmarkDecode640x480(b *testing.B) {
	var dec Decoder
	data := encode(b, testImage(640, 480), 80)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdDecode640x480(b *testing.B) {
	data := encode(b, testImage(640, 480), 80)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdjpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
