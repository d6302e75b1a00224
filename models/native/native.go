// Package native reads and writes edgeinfer's own model file, ".eim": a
// serialized ir.Graph (float or quantised) together with everything needed
// to run it on a board with no other flag — input preprocessing, class
// labels and free-form metadata about how the file was made. The quantize
// command writes it and the edgeinfer command loads it.
//
// The layout (FORMAT.md documents it field by field) is a fixed 64-byte
// header, a section table and 64-byte aligned sections, each with a CRC-32C.
// Initializer data sits in the "blobs" section, every tensor 64-byte aligned
// and little-endian, so Load can map the file read-only and hand out
// ir.Tensors whose data slices alias the mapping: loading a model costs no
// copy and no heap for the weights, and pages are shared between processes.
//
// Every count and length read from a file is checked against the bytes
// that remain before anything is allocated, and every section's checksum
// is verified before it is decoded, so a damaged or hostile file yields an
// error that names the damaged section — never a panic or a huge
// allocation.
package native

import (
	"errors"
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Version is the format version this package writes, and the newest it
// reads.
const Version = 1

// Model is the content of an .eim file.
type Model struct {
	// Graph is the network. Loaded graphs have Format "native" and, from
	// Load, Source set to the file's path.
	Graph *ir.Graph
	// Preprocess says how an image becomes the graph's input tensor; nil
	// when the file has none (the caller must supply the input tensor).
	Preprocess *Preprocess
	// Labels are the class names, index i naming output class i; nil
	// when the file has none. A label cannot contain a newline.
	Labels []string
	// Meta holds free-form key/value pairs about how the file was made:
	// producer, quantisation method, calibration summary. Decode and Load
	// always return a non-nil map.
	Meta map[string]string
}

// Layouts for Preprocess.Layout.
const (
	LayoutNCHW = "NCHW" // channel planes: [1 C H W], ONNX's image layout
	LayoutNHWC = "NHWC" // interleaved channels: [1 H W C]
)

// MaxImageSize bounds Preprocess.Width, Height and ResizeShorter.
const MaxImageSize = 1 << 16

// Preprocess describes how an image becomes the model's input tensor. Each
// element of the tensor is
//
//	(pixel/Scale − Mean[k]) / Std[k]
//
// where pixel is the resampled 8-bit value (0..255) and k the pixel's
// colour in RGB order (Mean[0] and Std[0] belong to red even when BGR puts
// red last; a grayscale input uses Mean[0] and Std[0]). The fields mirror
// input.Spec, which does the work.
type Preprocess struct {
	// Input names the graph input the image feeds; "" means the first.
	Input string `json:"input,omitempty"`
	// Width and Height are the tensor's spatial size in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Channels is 3 for colour, 1 for grayscale.
	Channels int `json:"channels"`
	// Layout is LayoutNCHW or LayoutNHWC.
	Layout string `json:"layout"`
	// Mean and Std normalise each channel (RGB order).
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
	// Scale divides the pixel first: 255 maps pixels to [0,1], 1 keeps
	// 0..255.
	Scale float32 `json:"scale"`
	// BGR emits colour channels in B, G, R order.
	BGR bool `json:"bgr,omitempty"`
	// ResizeShorter, when > 0, resizes the image so its shorter side has
	// this many pixels and centre-crops Width×Height out of it; when 0 the
	// image is resized to Width×Height, ignoring the aspect ratio.
	ResizeShorter int `json:"resize_shorter,omitempty"`
}

// Validate checks that p describes a usable preprocessing: positive sizes
// up to MaxImageSize, 1 or 3 channels, a known layout, a positive finite
// Scale and finite Mean and non-zero finite Std for the channels used.
func (p *Preprocess) Validate() error {
	if p.Width <= 0 || p.Height <= 0 || p.Width > MaxImageSize || p.Height > MaxImageSize {
		return fmt.Errorf("size %dx%d outside 1..%d", p.Width, p.Height, MaxImageSize)
	}
	if p.Channels != 1 && p.Channels != 3 {
		return fmt.Errorf("%d channels; want 1 (grayscale) or 3 (colour)", p.Channels)
	}
	if p.Layout != LayoutNCHW && p.Layout != LayoutNHWC {
		return fmt.Errorf("layout %q; want %q or %q", p.Layout, LayoutNCHW, LayoutNHWC)
	}
	if !finite(p.Scale) || p.Scale <= 0 {
		return fmt.Errorf("scale %v must be positive and finite", p.Scale)
	}
	for k := 0; k < p.Channels; k++ {
		if !finite(p.Mean[k]) || !finite(p.Std[k]) || p.Std[k] == 0 {
			return fmt.Errorf("channel %d has mean %v, std %v; want finite values and a non-zero std", k, p.Mean[k], p.Std[k])
		}
	}
	if p.ResizeShorter < 0 || p.ResizeShorter > MaxImageSize {
		return fmt.Errorf("resize_shorter %d outside 0..%d", p.ResizeShorter, MaxImageSize)
	}
	return nil
}

// check validates p and that the input it names is one of g's.
func (p *Preprocess) check(g *ir.Graph) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Input == "" {
		return nil
	}
	for _, in := range g.Inputs {
		if in != nil && in.Name == p.Input {
			return nil
		}
	}
	return fmt.Errorf("input %q is not a graph input", p.Input)
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// Errors that decoding wraps, for errors.Is.
var (
	// ErrNotModel: the file does not start with the .eim magic.
	ErrNotModel = errors.New("not an edgeinfer model")
	// ErrVersion: the file's format version is not one this package reads.
	ErrVersion = errors.New("unsupported format version")
	// ErrChecksum: the header, the section table or a section does not
	// match its CRC-32C.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTruncated: the file ends before the header, the table or a
	// section does.
	ErrTruncated = errors.New("truncated")
)

// SectionError is an error in one section of a file: its bounds, its
// checksum or its content.
type SectionError struct {
	Section string // the section's name from the table, e.g. "blobs"
	Err     error
}

func (e *SectionError) Error() string { return fmt.Sprintf("section %q: %v", e.Section, e.Err) }

func (e *SectionError) Unwrap() error { return e.Err }
