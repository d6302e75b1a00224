package main

import (
	"flag"
	"fmt"
	"image"
	"math"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// Quantised (int8/uint8) models in the run command: image preprocessing
// from the input's quantisation, dequantised scores, and --as-float.

// prepareRun loads the model and prepares it, or its float twin with
// asFloat. The graph returned is the loaded (quantised) one, whose inputs
// and outputs carry the quantisation parameters.
func prepareRun(spec string, threads int, asFloat bool) (*runtime.Model, *ir.Graph, error) {
	if !asFloat {
		return prepare(spec, threads)
	}
	g, err := loadGraph(spec)
	if err != nil {
		return nil, nil, err
	}
	twin, err := quant.FloatTwin(g)
	if err != nil {
		return nil, nil, fmt.Errorf("--as-float: model %s: %w", spec, err)
	}
	m, err := runtime.New(twin, runtime.Options{Threads: threads})
	if err != nil {
		return nil, nil, fmt.Errorf("--as-float: %w", err)
	}
	return m, g, nil
}

// normaliseGiven reports whether --mean, --std or --scale was given, which
// makes quantised image inputs quantise the normalised value.
func normaliseGiven(fs *flag.FlagSet) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "mean", "std", "scale":
			given = true
		}
	})
	return given
}

// findInfo returns the value info named name in vs, else vs[i] when in range.
func findInfo(vs []*ir.ValueInfo, name string, i int) *ir.ValueInfo {
	for _, v := range vs {
		if v.Name == name {
			return v
		}
	}
	if i < len(vs) {
		return vs[i]
	}
	return nil
}

// inputQuants returns the quantisation of each model input (nil where
// there is none), read from g.
func inputQuants(m *runtime.Model, g *ir.Graph) []*ir.Quant {
	if g == nil {
		return nil
	}
	q := make([]*ir.Quant, m.NumInputs())
	for i := range q {
		if v := findInfo(g.Inputs, m.InputInfo(i).Name, i); v != nil {
			q[i] = v.Quant
		}
	}
	return q
}

func (f *feeder) inputQuant(i int) *ir.Quant {
	if i < len(f.quant) {
		return f.quant[i]
	}
	if g := f.m.Graph(); g != nil {
		if v := findInfo(g.Inputs, f.m.InputInfo(i).Name, i); v != nil {
			return v.Quant
		}
	}
	return nil
}

func isQuantDType(d ir.DType) bool { return d == ir.Int8 || d == ir.Uint8 }

// isQuantImage recognises an image-shaped int8 or uint8 input.
func isQuantImage(info runtime.TensorInfo) bool {
	_, _, _, ok := imageDims(info.Shape)
	return ok && isQuantDType(info.DType)
}

// quantPreprocessor returns the image preprocessor for the quantised
// image input i: raw 0..255 pixels, or the normalised value
// (pixel/scale − mean)/std when --mean, --std or --scale was given.
func (f *feeder) quantPreprocessor(i int, what string) (*input.Preprocessor, error) {
	if p := f.qpre[i]; p != nil {
		return p, nil
	}
	info := f.m.InputInfo(i)
	fl := f.flags
	if fl.wrap && info.DType != ir.Int8 {
		return nil, fmt.Errorf("%s: --wrap applies to int8 inputs, but model input %d %q is %s", what, i, info.Name, info.DType)
	}
	if fl.wrap && fl.normalise {
		return nil, fmt.Errorf("%s: --wrap feeds raw pixel bytes; it does not combine with --mean, --std or --scale", what)
	}
	if fl.normalise {
		q := f.inputQuant(i)
		if q == nil || len(q.Scale) != 1 || !(q.Scale[0] > 0) {
			return nil, fmt.Errorf("%s: --mean/--std/--scale need model input %d %q (%s) to have one quantisation scale", what, i, info.Name, info.DType)
		}
	}
	layout, c, _, _ := imageDims(info.Shape)
	s := input.Spec{Channels: c, Layout: layout, BGR: fl.bgr, ResizeShorter: fl.resizeShorter, Antialias: fl.antialias,
		Scale: 1, Std: [3]float32{1, 1, 1}}
	if fl.normalise {
		s.Scale, s.Mean, s.Std = float32(fl.scale), fl.meanV, fl.stdV
	}
	if layout == input.NCHW {
		s.Height, s.Width = info.Shape[2], info.Shape[3]
	} else {
		s.Height, s.Width = info.Shape[1], info.Shape[2]
	}
	if fl.size != "" && (fl.width != s.Width || fl.height != s.Height) {
		return nil, fmt.Errorf("%s: --size %s does not match model input %d %q of shape %v", what, fl.size, i, info.Name, info.Shape)
	}
	p, err := input.New(s)
	if err != nil {
		return nil, fmt.Errorf("preprocessing %s for model input %d: %w", what, i, err)
	}
	if f.qpre == nil {
		f.qpre = map[int]*input.Preprocessor{}
	}
	f.qpre[i] = p
	return p, nil
}

// quantImage preprocesses img for the quantised image input i and encodes
// it: uint8 → the pixel; int8 → pixel − 128 (--wrap: the pixel byte as
// int8); with --mean/--std/--scale the normalised value quantised with the
// input's scale and zero point (round half away from zero, clamped).
func (f *feeder) quantImage(i int, img image.Image, what string) (tensorData, error) {
	p, err := f.quantPreprocessor(i, what)
	if err != nil {
		return tensorData{}, err
	}
	pix := make([]float32, p.Spec().Len())
	if err := p.Run(img, pix); err != nil {
		return tensorData{}, fmt.Errorf("%s: %w", what, err)
	}
	info := f.m.InputInfo(i)
	raw := make([]byte, len(pix))
	switch {
	case f.flags.normalise:
		q := f.inputQuant(i)
		zp := 0.0
		if len(q.ZeroPoint) > 0 {
			zp = float64(q.ZeroPoint[0])
		}
		for j, v := range pix {
			raw[j] = quantiseValue(float64(v), float64(q.Scale[0]), zp, info.DType)
		}
	case info.DType == ir.Int8 && !f.flags.wrap:
		for j, v := range pix {
			raw[j] = pixelByte(v) ^ 0x80 // pixel − 128 as int8
		}
	default: // uint8 pixels, or --wrap
		for j, v := range pix {
			raw[j] = pixelByte(v)
		}
	}
	return tensorData{raw: raw}, nil
}

// quantSynthetic is the built-in pattern for a quantised image input.
func (f *feeder) quantSynthetic(i int) (tensorData, error) {
	p, err := f.quantPreprocessor(i, "the synthetic pattern")
	if err != nil {
		return tensorData{}, err
	}
	s := p.Spec()
	return f.quantImage(i, input.Pattern(s.Width, s.Height), "the synthetic pattern")
}

// pixelByte rounds a 0..255 pixel value to a byte.
func pixelByte(v float32) byte {
	return byte(min(max(math.Round(float64(v)), 0), 255))
}

// quantiseValue quantises real as round(real/scale) + zp (half away from
// zero), clamped to the dtype's range, in its byte form.
func quantiseValue(real, scale, zp float64, d ir.DType) byte {
	q := math.Round(real/scale) + zp
	if math.IsNaN(q) {
		q = zp
	}
	if d == ir.Int8 {
		return byte(int8(min(max(q, -128), 127)))
	}
	return byte(min(max(q, 0), 255))
}

// quantScores dequantises the int8/uint8 output k (scale·(q − zero point))
// and returns it as class scores like probabilities: as is when it already
// is a distribution (within its quantisation error), else its softmax.
func quantScores(m *runtime.Model, g *ir.Graph, k int) (scores []float64, softmax bool, err error) {
	info := m.OutputInfo(k)
	var q *ir.Quant
	if g != nil {
		if v := findInfo(g.Outputs, info.Name, k); v != nil {
			q = v.Quant
		}
	}
	if q == nil {
		if v := findInfo(m.Graph().Outputs, info.Name, k); v != nil {
			q = v.Quant
		}
	}
	if q == nil || len(q.Scale) != 1 {
		return nil, false, fmt.Errorf("output %d %q (%s): no per-tensor quantisation to dequantise its scores with", k, info.Name, info.DType)
	}
	scale, zp := float64(q.Scale[0]), 0.0
	if len(q.ZeroPoint) > 0 {
		zp = float64(q.ZeroPoint[0])
	}
	raw := m.OutputBytes(k)
	scores = make([]float64, len(raw))
	sum, isProb := 0.0, true
	for j, b := range raw {
		v := float64(b)
		if info.DType == ir.Int8 {
			v = float64(int8(b))
		}
		x := scale * (v - zp)
		scores[j] = x
		sum += x
		if !(x >= -1e-6 && x <= 1+1e-6) {
			isProb = false
		}
	}
	// Every element carries up to half a step of rounding error.
	tol := max(1e-3, min(0.05, float64(len(raw))*scale/2))
	if isProb && math.Abs(sum-1) <= tol {
		return scores, false, nil
	}
	f := make([]float32, len(scores))
	for j, x := range scores {
		f[j] = float32(x)
	}
	scores, _ = probabilities(f)
	return scores, true, nil
}
