// Package input turns image files into model input tensors: decoding
// (JPEG, PNG, BMP), conversion to RGB or grayscale, bilinear resizing with
// an optional centre crop, and normalisation into NCHW or NHWC float32.
//
//	img, err := input.Load("cat.jpg")
//	p, err := input.New(input.Spec{Width: 224, Height: 224, Channels: 3,
//		Mean: input.ImageNetMean, Std: input.ImageNetStd, Scale: 255})
//	err = p.Run(img, m.Input(0))
//
// A Preprocessor keeps its buffers between calls, so a stream of frames of
// one size is converted without heap allocation.
package input

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // register the JPEG decoder with image.Decode
	_ "image/png"  // register the PNG decoder with image.Decode
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "golang.org/x/image/bmp" // register the BMP decoder with image.Decode
)

// Load decodes the JPEG, PNG or BMP image at path. The format is taken from
// the file's contents, not its name. Images that Decode refuses as too
// large are refused here too.
func Load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	img, err := decode(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	return img, nil
}

// MaxPixels bounds the width × height of a decoded image: 64 Mi pixels,
// more than any camera sensor, and up to 512 MiB as 16-bit RGBA.
const MaxPixels = 1 << 26

// maxDensity bounds the pixels per byte of file beyond the first
// densityFloor pixels. The decoders allocate the whole image from the
// header before reading the pixel data, so without it a 100-byte PNG
// claiming 8000×8000 costs 256 MiB. Real images stay far below: deflate
// compresses at most 1032:1, so only a 1-bit PNG of one flat colour
// larger than 4 Mi pixels comes close.
const (
	maxDensity   = 2048
	densityFloor = 1 << 22
)

// Decode decodes a JPEG, PNG or BMP image. It reads the header first and
// refuses an image of more than MaxPixels pixels, or of more than 4 Mi
// pixels that claims more than 2048 pixels per byte of data (a
// decompression bomb), before the decoder allocates it.
func Decode(data []byte) (image.Image, error) {
	return decode(bytes.NewReader(data), int64(len(data)))
}

func decode(r io.ReadSeeker, size int64) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return nil, err
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	switch {
	case w <= 0 || h <= 0:
		return nil, fmt.Errorf("%s image of %d×%d pixels", format, w, h)
	case w > MaxPixels || h > MaxPixels || w*h > MaxPixels:
		return nil, fmt.Errorf("%s image of %d×%d pixels: more than %d pixels", format, w, h, MaxPixels)
	case w*h > densityFloor && w*h/maxDensity > size:
		return nil, fmt.Errorf("%s image claims %d×%d pixels in %d bytes: refused as a decompression bomb", format, w, h, size)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	return img, err
}

// IsImageFile reports whether path has an image extension Load is meant
// for (.jpg, .jpeg, .png, .bmp, any case).
func IsImageFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg", ".png", ".bmp":
		return true
	}
	return false
}
