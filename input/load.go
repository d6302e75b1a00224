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
	"fmt"
	"image"
	_ "image/jpeg" // register the JPEG decoder with image.Decode
	_ "image/png"  // register the PNG decoder with image.Decode
	"os"
	"path/filepath"
	"strings"

	_ "golang.org/x/image/bmp" // register the BMP decoder with image.Decode
)

// Load decodes the JPEG, PNG or BMP image at path. The format is taken from
// the file's contents, not its name.
func Load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	return img, nil
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
