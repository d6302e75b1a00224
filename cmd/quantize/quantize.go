package main

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/native"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
)

// modelWriter writes the output file; tests replace it.
var modelWriter = native.Write

func newObserver(method string) (quant.Observer, error) {
	return quant.NewObserver(quant.Method(method))
}

const zooPrefix = "zoo:"

// loaded is a model read from the command line, with what an .eim file
// carries besides the graph.
type loaded struct {
	g          *ir.Graph
	preprocess *native.Preprocess
	labels     []string
	closer     io.Closer
	// twinOf is set when the file was a quantised model: g is then its
	// float twin (quant.FloatModel) and inputQuant says how its inputs
	// were quantised.
	twinOf     string
	inputQuant map[string]quant.InputQuant
}

// floatTwin replaces a quantised model by its float twin with float
// inputs, which is what gets quantised.
func (l *loaded) floatTwin(spec string) error {
	if !quant.IsQuantized(l.g) {
		return nil
	}
	fg, was, err := quant.FloatModel(l.g)
	if err != nil {
		return fmt.Errorf("model %s is quantised and its float twin cannot be made: %w", spec, err)
	}
	l.g, l.twinOf, l.inputQuant = fg, spec, was
	return nil
}

func loadModel(spec string) (*loaded, error) {
	switch ext := strings.ToLower(filepath.Ext(spec)); {
	case strings.HasPrefix(spec, zooPrefix):
		g, err := zoo.Build(strings.TrimPrefix(spec, zooPrefix))
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", spec, err)
		}
		return &loaded{g: g}, nil
	case ext == ".onnx":
		g, err := onnx.Load(spec)
		return &loaded{g: g}, err
	case ext == ".tflite":
		g, err := tflite.Load(spec)
		if err != nil {
			return nil, err
		}
		l := &loaded{g: g}
		return l, l.floatTwin(spec)
	case ext == ".eim":
		m, c, err := native.Load(spec)
		if err != nil {
			return nil, err
		}
		l := &loaded{g: m.Graph, preprocess: m.Preprocess, labels: m.Labels, closer: c}
		if err := l.floatTwin(spec); err != nil {
			c.Close()
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("model %s: unknown format; want a .onnx, .tflite or .eim file or zoo:NAME (zoo names: %s)",
		spec, strings.Join(zoo.Names(), ", "))
}

func readLabels(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		out = append(out, strings.TrimRight(s.Text(), "\r"))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("labels %s: %w", path, err)
	}
	return out, nil
}

// imageInput describes the model's image input: its spec for package
// input and where it stands in the graph.
type imageInput struct {
	spec  input.Spec
	name  string
	numel int
	ok    bool // the input looks like an image (4-D, 1 or 3 channels)
}

// inputSpec works out how images become the model's only input.
func inputSpec(c *config, l *loaded) (*imageInput, error) {
	var floats []*ir.ValueInfo
	for _, in := range l.g.Inputs {
		if in.DType == ir.Float32 {
			floats = append(floats, in)
		}
	}
	if len(floats) != 1 || len(l.g.Inputs) != 1 {
		return nil, fmt.Errorf("the model has %d inputs (%d float); quantize calibrates models with one float input", len(l.g.Inputs), len(floats))
	}
	in := floats[0]
	ii := &imageInput{name: in.Name, numel: ir.NumElements(in.Shape)}
	s := in.Shape
	f := c.img
	spec := input.Spec{Mean: f.meanV, Std: f.stdV, Scale: float32(f.scale), BGR: f.bgr, ResizeShorter: f.resizeShorter}
	if p := l.preprocess; p != nil && !f.set {
		spec = input.Spec{Mean: p.Mean, Std: p.Std, Scale: p.Scale, BGR: p.BGR, ResizeShorter: p.ResizeShorter}
	} else if iq, ok := l.inputQuant[in.Name]; ok && !f.set && len(iq.Quant.Scale) == 1 && iq.Quant.Scale[0] > 0 {
		// The quantised model's own convention (as edgeinfer run feeds
		// it): uint8 inputs take the pixel, int8 ones pixel − 128; the
		// float twin takes the real value scale·(q − zero point).
		zp := float32(0)
		if len(iq.Quant.ZeroPoint) > 0 {
			zp = float32(iq.Quant.ZeroPoint[0])
		}
		if iq.DType == ir.Int8 {
			zp += 128
		}
		std := 1 / iq.Quant.Scale[0]
		spec = input.Spec{Mean: [3]float32{zp, zp, zp}, Std: [3]float32{std, std, std}, Scale: 1, BGR: f.bgr, ResizeShorter: f.resizeShorter}
	}
	if len(s) == 4 && s[0] == 1 {
		nchw := s[1] == 1 || s[1] == 3
		nhwc := s[3] == 1 || s[3] == 3
		if nhwc && (!nchw || l.g.Format == "tflite") {
			spec.Layout, spec.Channels, spec.Height, spec.Width = input.NHWC, s[3], s[1], s[2]
			ii.ok = true
		} else if nchw {
			spec.Layout, spec.Channels, spec.Height, spec.Width = input.NCHW, s[1], s[2], s[3]
			ii.ok = true
		}
	}
	if ii.ok && f.width > 0 && (f.width != spec.Width || f.height != spec.Height) {
		return nil, fmt.Errorf("--size %dx%d does not match the model's input %q of shape %v", f.width, f.height, in.Name, s)
	}
	if f.crop && spec.ResizeShorter == 0 {
		spec.ResizeShorter = max(spec.Width, spec.Height)
	}
	ii.spec = spec
	if ii.ok {
		if _, err := input.New(spec); err != nil {
			return nil, err
		}
	}
	return ii, nil
}

// samples is the calibration set: one loader per sample.
type samples struct {
	load []func(dst []float32) error
	desc []string
}

func (s *samples) Len() int { return len(s.load) }

func (s *samples) Sample(i int, in [][]float32) error { return s.load[i](in[0]) }

// preprocessors hands out one input.Preprocessor per concurrent caller.
type preprocessors struct{ pool sync.Pool }

func newPreprocessors(spec input.Spec) *preprocessors {
	p := &preprocessors{}
	p.pool.New = func() any {
		pp, err := input.New(spec)
		if err != nil {
			panic(err) // the spec was validated by inputSpec
		}
		return pp
	}
	return p
}

func (p *preprocessors) run(img image.Image, dst []float32) error {
	pp := p.pool.Get().(*input.Preprocessor)
	defer p.pool.Put(pp)
	return pp.Run(img, dst)
}

// calibration collects the samples of --calib, --calib-npy and
// --synthetic, in that order, up to --calib-count.
func calibration(c *config, ii *imageInput) (*samples, error) {
	s := &samples{}
	var pre *preprocessors
	if ii.ok {
		pre = newPreprocessors(ii.spec)
	}
	if c.calibDir != "" {
		if !ii.ok {
			return nil, fmt.Errorf("--calib: input %q is not an image (want [1,C,H,W] or [1,H,W,C] with 1 or 3 channels); use --calib-npy", ii.name)
		}
		entries, err := os.ReadDir(c.calibDir)
		if err != nil {
			return nil, fmt.Errorf("--calib: %w", err)
		}
		var files []string
		for _, e := range entries {
			if !e.IsDir() && input.IsImageFile(e.Name()) {
				files = append(files, filepath.Join(c.calibDir, e.Name()))
			}
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("--calib %s: no .jpg, .jpeg, .png or .bmp files", c.calibDir)
		}
		for _, path := range files {
			s.load = append(s.load, func(dst []float32) error {
				img, err := input.Load(path)
				if err != nil {
					return err
				}
				if err := pre.run(img, dst); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				return nil
			})
		}
		s.desc = append(s.desc, fmt.Sprintf("%d images from %s", len(files), c.calibDir))
	}
	if c.calibNpy != "" {
		n, err := npySamples(s, c.calibNpy, ii)
		if err != nil {
			return nil, err
		}
		s.desc = append(s.desc, fmt.Sprintf("%d tensors from %s", n, c.calibNpy))
	}
	if c.synthetic > 0 {
		if !ii.ok {
			return nil, fmt.Errorf("--synthetic: input %q is not an image; use --calib-npy", ii.name)
		}
		w, h := ii.spec.Width, ii.spec.Height
		if ii.spec.ResizeShorter > 0 {
			w, h = w*ii.spec.ResizeShorter/min(w, h), h*ii.spec.ResizeShorter/min(w, h)
		}
		for i := 0; i < c.synthetic; i++ {
			s.load = append(s.load, func(dst []float32) error { return pre.run(syntheticImage(i, w, h), dst) })
		}
		s.desc = append(s.desc, fmt.Sprintf("%d synthetic images", c.synthetic))
	}
	if c.calibCount > 0 && len(s.load) > c.calibCount {
		s.load = s.load[:c.calibCount]
		s.desc = append(s.desc, fmt.Sprintf("first %d used", c.calibCount))
	}
	if len(s.load) == 0 {
		return nil, errors.New("no calibration samples")
	}
	return s, nil
}

// npySamples adds the tensors of the .npy files in dir: each file holds
// one input or a stack of inputs (any shape whose size is a multiple of
// the input's). uint8 data are pixels, normalised with --scale, --mean and
// --std in the model's channel order; other types are used as they are.
func npySamples(s *samples, dir string, ii *imageInput) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("--calib-npy: %w", err)
	}
	count := 0
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".npy") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		t, err := npy.Read(path)
		if err != nil {
			return 0, err
		}
		if t.Len() == 0 || t.Len()%ii.numel != 0 {
			return 0, fmt.Errorf("%s: shape %v does not hold whole inputs of %d values", path, t.Shape, ii.numel)
		}
		vals := npyFloats(t, ii)
		for k := 0; k < t.Len()/ii.numel; k++ {
			x := vals[k*ii.numel : (k+1)*ii.numel]
			s.load = append(s.load, func(dst []float32) error { copy(dst, x); return nil })
			count++
		}
	}
	if count == 0 {
		return 0, fmt.Errorf("--calib-npy %s: no .npy files", dir)
	}
	return count, nil
}

func npyFloats(t *ir.Tensor, ii *imageInput) []float32 {
	if t.DType != ir.Uint8 {
		return t.Floats()
	}
	sp := ii.spec
	ch, plane := max(sp.Channels, 1), max(sp.Width*sp.Height, 1)
	out := make([]float32, len(t.U8))
	for j, v := range t.U8 {
		k := 0
		if ii.ok {
			if sp.Layout == input.NHWC {
				k = j % ch
			} else {
				k = (j % ii.numel) / plane % ch
			}
		}
		out[j] = (float32(v)/sp.Scale - sp.Mean[k]) / sp.Std[k]
	}
	return out
}

// syntheticImage is deterministic random calibration image i.
var syntheticImage = ptq.SyntheticImage

// quantize is the command after flag parsing.
func quantize(c *config, stdout, stderr io.Writer) error {
	l, err := loadModel(c.model)
	if err != nil {
		return err
	}
	if l.closer != nil {
		defer l.closer.Close()
	}
	labels := l.labels
	if c.labels != "" {
		if labels, err = readLabels(c.labels); err != nil {
			return err
		}
	}
	meta := map[string]string{"producer": "edgeinfer quantize", "source_model": c.model}
	if l.twinOf != "" {
		meta["float_twin_of"] = l.twinOf
		fmt.Fprintf(stderr, "quantize: %s is quantised: using its float twin (weights dequantised, float inputs)\n", c.model)
	}
	if c.float {
		fg, err := ptq.Prepare(l.g)
		if err != nil {
			return err
		}
		var pre *native.Preprocess
		if ii, err := inputSpec(c, l); err == nil && ii.ok && (c.img.set || l.preprocess != nil || l.inputQuant != nil) {
			pre = nativePreprocess(ii)
		}
		meta["precision"] = "float32"
		if err := modelWriter(c.out, &native.Model{Graph: fg, Preprocess: pre, Labels: labels, Meta: meta}); err != nil {
			return fmt.Errorf("write %s: %w", c.out, err)
		}
		fmt.Fprintf(stdout, "wrote %s: optimised float model, %s\n", c.out, describe(fg))
		return nil
	}
	ii, err := inputSpec(c, l)
	if err != nil {
		return err
	}
	calib, err := calibration(c, ii)
	if err != nil {
		return err
	}
	prog := newProgress(stderr)
	opts := ptq.Options{Method: quant.Method(c.method), PerTensor: c.perTensor, ReduceRange: c.reduceRange, Threads: c.threads, EvalSamples: c.evalCount, Progress: prog.update}
	qg, rep, err := ptq.Quantize(l.g, calib, opts)
	prog.finish()
	if err != nil {
		return err
	}
	var pre *native.Preprocess
	if ii.ok && (c.calibDir != "" || c.synthetic > 0 || c.img.set || l.preprocess != nil || l.inputQuant != nil) {
		pre = nativePreprocess(ii)
	}
	meta["precision"] = "int8"
	meta["quantization_method"] = rep.Method
	if c.reduceRange {
		meta["quantization_reduce_range"] = "true"
	}
	meta["calibration"] = strings.Join(calib.desc, ", ")
	meta["calibration_samples"] = fmt.Sprint(rep.Samples)
	if len(rep.Outputs) > 0 {
		o := rep.Outputs[0]
		meta["output_sqnr_db"] = fmt.Sprintf("%.2f", o.SQNR)
		if o.Top1 != nil {
			meta["calibration_top1_agreement"] = fmt.Sprintf("%.4f", *o.Top1)
		}
	}
	if c.out != "" {
		if err := modelWriter(c.out, &native.Model{Graph: qg, Preprocess: pre, Labels: labels, Meta: meta}); err != nil {
			return fmt.Errorf("write %s: %w", c.out, err)
		}
	}
	qdqOpset := 0
	if c.emitQDQ != "" {
		types, err := ptq.ParseQDQTypes(c.qdqTypes)
		if err != nil {
			return err // checked with the flags
		}
		if qdqOpset, err = writeQDQ(c.emitQDQ, qg, types, meta); err != nil {
			return err
		}
	}
	if c.reportJSON != "" {
		if err := writeJSON(c.reportJSON, rep); err != nil {
			return err
		}
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if c.out != "" {
		fmt.Fprintf(stdout, "wrote %s: int8 model, %s\n", c.out, describe(qg))
	}
	if c.emitQDQ != "" {
		fmt.Fprintf(stdout, "wrote %s: ONNX QDQ model (opset %d)\n", c.emitQDQ, qdqOpset)
	}
	return nil
}

func writeJSON(path string, rep *ptq.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--report-json: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("--report-json %s: %w", path, err)
	}
	return f.Close()
}

func nativePreprocess(ii *imageInput) *native.Preprocess {
	s := ii.spec
	layout := native.LayoutNCHW
	if s.Layout == input.NHWC {
		layout = native.LayoutNHWC
	}
	return &native.Preprocess{Input: ii.name, Width: s.Width, Height: s.Height, Channels: s.Channels, Layout: layout,
		Mean: s.Mean, Std: s.Std, Scale: s.Scale, BGR: s.BGR, ResizeShorter: s.ResizeShorter}
}

func describe(g *ir.Graph) string {
	return fmt.Sprintf("%d nodes, %d parameters", len(g.Nodes), g.ParamCount())
}
