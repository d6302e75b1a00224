package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// imageFlags are the preprocessing flags of the run command.
type imageFlags struct {
	size          string // WxH, empty for the model's size
	mean, std     string // r,g,b
	scale         float64
	bgr           bool
	resizeShorter int
	antialias     bool // Pillow's antialiased bilinear resize (input.Spec.Antialias)
	wrap          bool // int8 image inputs: the raw byte reinterpreted as int8 (--wrap)
	normalise     bool // --mean, --std or --scale was given: quantised inputs are quantised from the normalised value

	// Parsed by check.
	width, height int // 0 for the model's size
	meanV, stdV   [3]float32
}

// check parses and validates the flags, so that a bad flag is reported
// before a model is loaded.
func (f *imageFlags) check() error {
	var err error
	if f.size != "" {
		if f.width, f.height, err = parseSize(f.size); err != nil {
			return err
		}
	}
	if f.meanV, err = parseTriple("--mean", f.mean); err != nil {
		return err
	}
	if f.stdV, err = parseTriple("--std", f.std); err != nil {
		return err
	}
	for _, v := range f.stdV {
		if v == 0 {
			return fmt.Errorf("--std %q: a standard deviation of 0 (use 1 for none)", f.std)
		}
	}
	if !(f.scale > 0) || math.IsInf(f.scale, 0) {
		return fmt.Errorf("--scale %v: must be positive (255 maps pixels to [0,1], 1 keeps 0..255)", f.scale)
	}
	if f.resizeShorter < 0 {
		return fmt.Errorf("--resize-shorter %d: must not be negative", f.resizeShorter)
	}
	return nil
}

// tensorData is one model input's contents, kept so it can be written into
// the model again before every run (the memory plan reuses input buffers).
type tensorData struct {
	f32 []float32 // float32 inputs
	raw []byte    // other dtypes, native byte order
}

func (d *tensorData) load(m *runtime.Model, i int) {
	if d.f32 != nil {
		copy(m.Input(i), d.f32)
		return
	}
	copy(m.InputBytes(i), d.raw)
}

// feeder turns files (or nothing) into model inputs.
type feeder struct {
	m     *runtime.Model
	flags imageFlags
	pre   map[int]*input.Preprocessor // per model input, built on first use

	quant []*ir.Quant                 // graph inputs' quantisation (nil: looked up in m.Graph())
	qpre  map[int]*input.Preprocessor // quantised image inputs, built on first use
}

// readFile reads the file for model input i: .npy, .pb (ONNX TensorProto)
// or an image, which is preprocessed to the input's shape.
func (f *feeder) readFile(i int, path string) (tensorData, error) {
	info := f.m.InputInfo(i)
	ext := strings.ToLower(filepath.Ext(path))
	var t *ir.Tensor
	switch {
	case ext == ".npy":
		var err error
		if t, err = npy.Read(path); err != nil {
			return tensorData{}, err
		}
	case ext == ".pb":
		var err error
		if _, t, err = onnx.ReadTensorProtoFile(path); err != nil {
			return tensorData{}, err
		}
	case input.IsImageFile(path):
		img, err := input.Load(path)
		if err != nil {
			return tensorData{}, err
		}
		if isQuantImage(info) {
			return f.quantImage(i, img, "input "+path)
		}
		p, err := f.preprocessor(i, "input "+path)
		if err != nil {
			return tensorData{}, err
		}
		d := tensorData{f32: make([]float32, p.Spec().Len())}
		if err := p.Run(img, d.f32); err != nil {
			return tensorData{}, fmt.Errorf("input %s: %w", path, err)
		}
		return d, nil
	default:
		return tensorData{}, fmt.Errorf("input %s: unknown format; want .npy, .pb (ONNX TensorProto), .jpg, .jpeg, .png or .bmp", path)
	}
	if !slices.Equal(t.Shape, info.Shape) {
		return tensorData{}, fmt.Errorf("input %s: shape %v does not match model input %d %q of shape %v", path, t.Shape, i, info.Name, info.Shape)
	}
	if t.DType != info.DType {
		return tensorData{}, fmt.Errorf("input %s: dtype %s does not match model input %d %q of dtype %s", path, t.DType, i, info.Name, info.DType)
	}
	if err := t.Validate(); err != nil {
		return tensorData{}, fmt.Errorf("input %s: %w", path, err)
	}
	return encode(t), nil
}

// encode copies t's data in the layout the runtime's input buffers use.
func encode(t *ir.Tensor) tensorData {
	if t.DType == ir.Float32 {
		return tensorData{f32: slices.Clone(t.F32)}
	}
	var raw []byte
	switch t.DType {
	case ir.Int64:
		for _, v := range t.I64 {
			raw = binary.NativeEndian.AppendUint64(raw, uint64(v))
		}
	case ir.Int32:
		for _, v := range t.I32 {
			raw = binary.NativeEndian.AppendUint32(raw, uint32(v))
		}
	case ir.Int8:
		for _, v := range t.I8 {
			raw = append(raw, byte(v))
		}
	case ir.Uint8, ir.Bool:
		raw = slices.Clone(t.U8)
	}
	return tensorData{raw: raw}
}

// synthetic returns the built-in input for model input i: a smooth colour
// gradient preprocessed like an image file for image-shaped float inputs,
// a ramp over [0, 1] for other float inputs, and zeros otherwise.
func (f *feeder) synthetic(i int) (tensorData, error) {
	info := f.m.InputInfo(i)
	n := ir.NumElements(info.Shape)
	if isQuantImage(info) {
		return f.quantSynthetic(i)
	}
	if info.DType != ir.Float32 {
		return tensorData{raw: make([]byte, n*info.DType.Size())}, nil
	}
	if _, _, _, ok := imageDims(info.Shape); ok {
		p, err := f.preprocessor(i, "the synthetic pattern")
		if err != nil {
			return tensorData{}, err
		}
		s := p.Spec()
		d := tensorData{f32: make([]float32, s.Len())}
		if err := p.Run(input.Pattern(s.Width, s.Height), d.f32); err != nil {
			return tensorData{}, err
		}
		return d, nil
	}
	d := tensorData{f32: make([]float32, n)}
	for j := range d.f32 {
		d.f32[j] = float32(j) / float32(max(n-1, 1))
	}
	return d, nil
}

// imageDims recognises an image-shaped input: [1 C H W] (NCHW) or
// [1 H W C] (NHWC) with C 1 or 3.
func imageDims(shape []int) (layout input.Layout, c, h int, ok bool) {
	if len(shape) != 4 || shape[0] != 1 {
		return 0, 0, 0, false
	}
	switch {
	case (shape[1] == 1 || shape[1] == 3) && shape[2] > 0 && shape[3] > 0:
		return input.NCHW, shape[1], shape[2], true
	case (shape[3] == 1 || shape[3] == 3) && shape[1] > 0 && shape[2] > 0:
		return input.NHWC, shape[3], shape[1], true
	}
	return 0, 0, 0, false
}

// preprocessor returns the image preprocessor for model input i; what
// names the image ("input FILE"), for errors.
func (f *feeder) preprocessor(i int, what string) (*input.Preprocessor, error) {
	if p := f.pre[i]; p != nil {
		return p, nil
	}
	info := f.m.InputInfo(i)
	layout, c, _, ok := imageDims(info.Shape)
	if !ok || info.DType != ir.Float32 {
		return nil, fmt.Errorf("%s: model input %d %q is %s %v, not an image ([1 C H W] or [1 H W C] float32 with C 1 or 3); pass a .npy or .pb file", what, i, info.Name, info.DType, info.Shape)
	}
	s := input.Spec{Channels: c, Layout: layout, BGR: f.flags.bgr, ResizeShorter: f.flags.resizeShorter, Scale: float32(f.flags.scale), Antialias: f.flags.antialias}
	if layout == input.NCHW {
		s.Height, s.Width = info.Shape[2], info.Shape[3]
	} else {
		s.Height, s.Width = info.Shape[1], info.Shape[2]
	}
	if f.flags.size != "" {
		s.Width, s.Height = f.flags.width, f.flags.height
		if !slices.Equal(s.Shape(), info.Shape) {
			return nil, fmt.Errorf("%s: --size %s gives shape %v, but model input %d %q has shape %v", what, f.flags.size, s.Shape(), i, info.Name, info.Shape)
		}
	}
	s.Mean, s.Std = f.flags.meanV, f.flags.stdV
	p, err := input.New(s)
	if err != nil {
		return nil, fmt.Errorf("preprocessing %s for model input %d: %w", what, i, err)
	}
	if f.pre == nil {
		f.pre = map[int]*input.Preprocessor{}
	}
	f.pre[i] = p
	return p, nil
}

// parseSize parses WxH.
func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w <= 0 || h <= 0 {
		return 0, 0, fmt.Errorf("--size %q: want WIDTHxHEIGHT, e.g. 224x224", s)
	}
	return w, h, nil
}

// parseTriple parses "a,b,c" (or one value for all three channels).
func parseTriple(flagName, s string) ([3]float32, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != 3 {
		return [3]float32{}, fmt.Errorf("%s %q: want three comma-separated numbers r,g,b (or one for all channels)", flagName, s)
	}
	var v [3]float32
	for k := range v {
		p := strings.TrimSpace(parts[min(k, len(parts)-1)])
		x, err := strconv.ParseFloat(p, 32)
		if err != nil {
			return v, fmt.Errorf("%s %q: %q is not a number", flagName, s, p)
		}
		v[k] = float32(x)
	}
	return v, nil
}
