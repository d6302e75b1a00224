package jpeg

import (
	"bytes"
	"image"
	stdjpeg "image/jpeg"
	"testing"
)

// FuzzDecode decodes arbitrary bytes with a fresh Decoder and with a
// Decoder that has decoded another image first (reused buffers). Neither
// may panic or exceed MaxPixels; where image/jpeg decodes the data too,
// the pixels must be the same.
func FuzzDecode(f *testing.F) {
	for _, q := range []int{10, 90} {
		f.Add(encode(f, testImage(17, 9), q))
	}
	var gray bytes.Buffer
	if err := stdjpeg.Encode(&gray, image.NewGray(image.Rect(0, 0, 8, 16)), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(gray.Bytes())
	warm := encode(f, testImage(16, 16), 75)
	f.Fuzz(func(t *testing.T, data []byte) {
		var fresh, reused Decoder
		if _, err := reused.Decode(warm); err != nil {
			t.Fatal(err)
		}
		img, err := fresh.Decode(data)
		_, _ = reused.Decode(data)
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx()*b.Dy() > MaxPixels(len(data)) {
			t.Fatalf("decoded %v from %d bytes", b, len(data))
		}
		want, err := stdjpeg.Decode(bytes.NewReader(data))
		if err != nil || want.Bounds() != b {
			return // the standard Huffman tables, or a size image/jpeg refuses
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r0, g0, b0, a0 := img.At(x, y).RGBA()
				r1, g1, b1, a1 := want.At(x, y).RGBA()
				if r0 != r1 || g0 != g1 || b0 != b1 || a0 != a1 {
					t.Fatalf("pixel (%d,%d): %v, image/jpeg %v", x, y, img.At(x, y), want.At(x, y))
				}
			}
		}
	})
}
