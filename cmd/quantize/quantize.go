package main

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
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
		return &loaded{g: g}, err
	case ext == ".eim":
		m, c, err := native.Load(spec)
		if err != nil {
			return nil, err
		}
		return &loaded{g: m.Graph, preprocess: m.Preprocess, labels: m.Labels, closer: c}, nil
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

// syntheticImage is deterministic random calibration image i: a colour
// gradient with a few random ellipses and pixel noise, so activations see
// edges, flat areas and texture.
func syntheticImage(i, w, h int) image.Image {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	rc := func() [3]float64 { return [3]float64{r.Float64() * 255, r.Float64() * 255, r.Float64() * 255} }
	c0, c1 := rc(), rc()
	type ellipse struct {
		cx, cy, rx, ry float64
		c              [3]float64
	}
	es := make([]ellipse, 2+r.IntN(5))
	for k := range es {
		es[k] = ellipse{r.Float64() * float64(w), r.Float64() * float64(h),
			(0.05 + 0.3*r.Float64()) * float64(w), (0.05 + 0.3*r.Float64()) * float64(h), rc()}
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := (float64(x)/float64(max(w-1, 1)) + float64(y)/float64(max(h-1, 1))) / 2
			var px [3]float64
			for k := range px {
				px[k] = c0[k]*(1-t) + c1[k]*t
			}
			for _, e := range es {
				dx, dy := (float64(x)-e.cx)/e.rx, (float64(y)-e.cy)/e.ry
				if dx*dx+dy*dy <= 1 {
					px = e.c
				}
			}
			var c color.NRGBA
			for k, p := range []*uint8{&c.R, &c.G, &c.B} {
				*p = uint8(min(max(px[k]+r.NormFloat64()*8, 0), 255))
			}
			c.A = 255
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

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
	if c.float {
		fg, err := ptq.Prepare(l.g)
		if err != nil {
			return err
		}
		var pre *native.Preprocess
		if ii, err := inputSpec(c, l); err == nil && ii.ok && (c.img.set || l.preprocess != nil) {
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
	opts := ptq.Options{Method: quant.Method(c.method), PerTensor: c.perTensor, Threads: c.threads, Progress: prog.update}
	qg, rep, err := ptq.Quantize(l.g, calib, opts)
	prog.finish()
	if err != nil {
		return err
	}
	var pre *native.Preprocess
	if ii.ok && (c.calibDir != "" || c.synthetic > 0 || c.img.set || l.preprocess != nil) {
		pre = nativePreprocess(ii)
	}
	meta["precision"] = "int8"
	meta["quantization_method"] = rep.Method
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
		if qdqOpset, err = writeQDQ(c.emitQDQ, qg, meta); err != nil {
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
