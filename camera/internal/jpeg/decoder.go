// Copyright 2025 The edgeinfer Authors. The other files of this package
// are Go's image/jpeg decoder (Copyright The Go Authors, BSD licence in
// LICENSE), changed only where marked.

package jpeg

import (
	"bytes"
	"image"
)

// What changed from image/jpeg, and why:
//
//   - Decoder decodes image after image into the same buffers: the
//     decoder state, the returned image and the progressive coefficients
//     are reused while the size and subsampling stay the same, so a video
//     stream decodes without allocation (image/jpeg allocates the decoder
//     and a new image per call). makeImg and processSOS ask d.cache for
//     buffers when it is set.
//   - Huffman tables start as the standard tables of ITU T.81 Annex K.3.
//     Motion-JPEG from USB (UVC) cameras omits the DHT segment and relies
//     on them (AVI1 MJPEG); image/jpeg rejects such frames with
//     "uninitialized Huffman table". A DHT segment in the image still
//     replaces them.
//   - Decode refuses an image of more than MaxPixels(len(data)) pixels
//     before allocating it (processSOF).
//   - The writer and the image.RegisterFormat hook are left out; the
//     CMYK path draws with image/draw instead of the internal imageutil.
//
// The returned image aliases the Decoder's buffers and is valid until the
// next Decode. Areas of it that a damaged image does not cover keep the
// previous image's pixels.

// Decoder decodes a sequence of JPEG images, reusing its buffers.
type Decoder struct {
	d     decoder
	br    bytes.Reader
	cache reuse
}

// Decode decodes the JPEG image in data. The image is an *image.YCbCr
// (colour), *image.Gray (grayscale), or for Adobe RGB and CMYK files an
// *image.RGBA or *image.CMYK (those two are allocated per call).
func (dec *Decoder) Decode(data []byte) (image.Image, error) {
	dec.d = decoder{}
	dec.d.huff = defaultHuffman
	dec.d.cache = &dec.cache
	dec.d.maxPixels, dec.d.dataLen = MaxPixels(len(data)), len(data)
	dec.br.Reset(data)
	return dec.d.decode(&dec.br, false)
}

// MaxPixels is the largest width × height Decode accepts for n bytes of
// JPEG data: 2048 pixels per byte beyond 4 Mi pixels, and 64 Mi pixels at
// most. A camera's baseline JPEG stays far below that density (a 4K frame
// of one flat colour is over 10 KB); without the bound a few hundred bytes
// claiming 65535×65535 would make Decode allocate 6 GiB.
func MaxPixels(n int) int {
	return min(1<<26, max(1<<22, 2048*n))
}

// reuse holds the buffers a Decoder keeps between images.
type reuse struct {
	grayFull, graySub *image.Gray
	yccFull, yccSub   *image.YCbCr
	coeffs            [maxComponents][]block
}

// gray returns a w×h view of a fw×fh (MCU-aligned) grayscale image.
func (c *reuse) gray(fw, fh, w, h int) *image.Gray {
	if c.grayFull == nil || c.grayFull.Rect != image.Rect(0, 0, fw, fh) {
		c.grayFull = image.NewGray(image.Rect(0, 0, fw, fh))
		c.graySub = nil
	}
	if c.graySub == nil || c.graySub.Rect != image.Rect(0, 0, w, h) {
		c.graySub = c.grayFull.SubImage(image.Rect(0, 0, w, h)).(*image.Gray)
	}
	return c.graySub
}

// ycbcr returns a w×h view of a fw×fh (MCU-aligned) YCbCr image.
func (c *reuse) ycbcr(fw, fh, w, h int, r image.YCbCrSubsampleRatio) *image.YCbCr {
	if c.yccFull == nil || c.yccFull.Rect != image.Rect(0, 0, fw, fh) || c.yccFull.SubsampleRatio != r {
		c.yccFull = image.NewYCbCr(image.Rect(0, 0, fw, fh), r)
		c.yccSub = nil
	}
	if c.yccSub == nil || c.yccSub.Rect != image.Rect(0, 0, w, h) {
		c.yccSub = c.yccFull.SubImage(image.Rect(0, 0, w, h)).(*image.YCbCr)
	}
	return c.yccSub
}

// blocks returns n zeroed coefficient blocks for component i.
func (c *reuse) blocks(i, n int) []block {
	if cap(c.coeffs[i]) < n {
		c.coeffs[i] = make([]block, n)
		return c.coeffs[i]
	}
	b := c.coeffs[i][:n]
	clear(b)
	return b
}

// defaultHuffman is d.huff after reading the Annex K.3 tables.
var defaultHuffman = func() [maxTc + 1][maxTh + 1]huffman {
	var seg []byte
	for _, t := range annexK {
		seg = append(seg, t.tcth)
		seg = append(seg, t.counts[:]...)
		seg = append(seg, t.values...)
	}
	var d decoder
	d.r = bytes.NewReader(seg)
	if err := d.processDHT(len(seg)); err != nil {
		panic("jpeg: the Annex K Huffman tables do not parse: " + err.Error())
	}
	return d.huff
}()

// annexK is ITU T.81 Table K.3–K.6: the luminance and chrominance DC and
// AC Huffman tables (the same as image/jpeg's encoder uses).
var annexK = []struct {
	tcth   byte // table class (0 DC, 1 AC) << 4 | table index (0 luma, 1 chroma)
	counts [16]byte
	values []byte
}{
	{0x00, [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{0x10, [16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125}, []byte{
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12,
		0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
		0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
		0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
		0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16,
		0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
		0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
		0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
		0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
		0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79,
		0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
		0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
		0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
		0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
		0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
		0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
		0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
		0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	}},
	{0x01, [16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{0x11, [16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119}, []byte{
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21,
		0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
		0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91,
		0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
		0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34,
		0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
		0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38,
		0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
		0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
		0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
		0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
		0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
		0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96,
		0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
		0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
		0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
		0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2,
		0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
		0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	}},
}
