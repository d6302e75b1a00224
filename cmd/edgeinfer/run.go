package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/npy"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

const runArgs = "--model M [--input FILE|DIR|GLOB]... [--save-outputs DIR] [--top K] [--labels FILE] [--json] [--threads N] [--size WxH] [--mean r,g,b] [--std r,g,b] [--scale 255|1] [--bgr] [--resize-shorter N] [--antialias=false] [--runs N] [--wrap] [--as-float]" + streamArgs

func cmdRun(args []string, stdout, stderr io.Writer) error {
	return cmdRunIO(args, os.Stdin, stdout, stderr)
}

// cmdRunIO is the run command with its standard input (for --stdin)
// passed in, so tests can feed frame streams in-process.
func cmdRunIO(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", runArgs, stderr)
	var (
		model, saveDir, labelsFile string
		inputs                     stringList
		top, threads, runs         int
		asJSON, asFloat            bool
		img                        imageFlags
	)
	fs.StringVar(&model, "model", "", modelHelp)
	fs.Var(&inputs, "input", "input file, repeatable, in graph-input order: .npy, .pb (ONNX TensorProto) or an image (.jpg, .jpeg, .png, .bmp); a directory stands for its files (sorted), a quoted pattern ('photos/*.jpg') for its matches; without it a built-in test pattern is used. With more files than graph inputs, each group of files is one inference")
	fs.StringVar(&saveDir, "save-outputs", "", "write every output K to `DIR`/output_K.npy (DIR/N/output_K.npy for the N-th of several inferences)")
	fs.IntVar(&top, "top", 5, "print the `K` best classes of output 0 (0 for none)")
	fs.StringVar(&labelsFile, "labels", "", "class names, one per line, line i naming output index i (a \"background\" first line is skipped when the file has one line more than the output)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per inference: {\"input\", \"top\": [{\"index\", \"label\", \"score\"}], \"latency_ms\", …}")
	fs.IntVar(&threads, "threads", defaultThreads(), "worker threads")
	fs.IntVar(&runs, "runs", 1, "run each inference `N` times and report min and median latency")
	fs.StringVar(&img.size, "size", "", "image size `WxH` (default: the model's input size; must match it)")
	fs.StringVar(&img.mean, "mean", "0,0,0", "per-channel mean `r,g,b` subtracted after scaling (ImageNet: 0.485,0.456,0.406)")
	fs.StringVar(&img.std, "std", "1,1,1", "per-channel std `r,g,b` divided by after the mean (ImageNet: 0.229,0.224,0.225)")
	fs.Float64Var(&img.scale, "scale", 255, "pixels are divided by this before mean and std: 255 gives [0,1], 1 keeps 0..255")
	fs.BoolVar(&img.bgr, "bgr", false, "feed colour channels in B,G,R order (--mean and --std stay r,g,b)")
	fs.BoolVar(&img.antialias, "antialias", true, "resize as Pillow's Image.resize with BILINEAR, averaging every source pixel when downscaling; --antialias=false samples with plain bilinear interpolation (OpenCV's INTER_LINEAR)")
	fs.IntVar(&img.resizeShorter, "resize-shorter", 0, "resize the shorter image side to `N` and centre-crop the model's size (ImageNet: 256 for 224); 0 resizes to the model's size directly")
	fs.BoolVar(&img.wrap, "wrap", false, "int8 image inputs: feed the raw pixel byte reinterpreted as int8 (TFLite Micro's person_detect test data) instead of pixel-128")
	fs.BoolVar(&asFloat, "as-float", false, "run the float twin of a quantised model (dequantised weights, float activations; same input bytes)")
	sf := addStreamFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	img.normalise = normaliseGiven(fs)
	if err := sf.check(); err != nil {
		return err
	}
	if sf.active() && (len(inputs) > 0 || saveDir != "" || runs != 1) {
		return errors.New("--camera and --stdin classify a frame stream: they do not combine with --input, --save-outputs or --runs")
	}
	if runs < 1 {
		return fmt.Errorf("--runs %d: must be at least 1", runs)
	}
	if top < 0 {
		return fmt.Errorf("--top %d: must not be negative", top)
	}
	if err := img.check(); err != nil {
		return err
	}
	var labels []string
	if labelsFile != "" {
		var err error
		if labels, err = readLabels(labelsFile); err != nil {
			return err
		}
	}
	if err := applyEIMDefaults(fs, model, &img, &labels); err != nil {
		return err
	}
	var err error
	if inputs, err = expandInputs(inputs); err != nil {
		return err
	}
	m, g, err := prepareRun(model, threads, asFloat)
	if err != nil {
		return err
	}
	defer m.Close()
	warnThermal(stderr)
	if sf.active() {
		return runStream(&streamRun{sf: sf, model: model, m: m, f: &feeder{m: m, flags: img, quant: inputQuants(m, g)},
			labels: labels, labelsFile: labelsFile, top: top, asJSON: asJSON, stdout: stdout, stderr: stderr}, stdin)
	}

	// Each group of NumInputs files is one inference; no files, one
	// inference on the synthetic pattern.
	nin := m.NumInputs()
	var groups [][]string
	switch {
	case len(inputs) == 0:
		groups = [][]string{nil}
	case nin == 0:
		return fmt.Errorf("model %s has no inputs, but %d input files were given", model, len(inputs))
	case len(inputs)%nin != 0:
		return fmt.Errorf("%d input files for a model with %d inputs (%s): give a multiple of %d, in graph-input order", len(inputs), nin, inputNames(m), nin)
	default:
		for g := 0; g < len(inputs); g += nin {
			groups = append(groups, inputs[g:g+nin])
		}
	}

	f := &feeder{m: m, flags: img, quant: inputQuants(m, g)}
	enc := json.NewEncoder(stdout)
	for gi, files := range groups {
		data := make([]tensorData, nin)
		for i := range data {
			if files == nil {
				data[i], err = f.synthetic(i)
			} else {
				data[i], err = f.readFile(i, files[i])
			}
			if err != nil {
				return err
			}
		}
		if gi == 0 && !asJSON {
			st := m.Stats()
			fmt.Fprintf(stdout, "model    %s: %d input(s), %d output(s), %s params, %s MACs, %d threads\n",
				model, nin, m.NumOutputs(), fmtCount(st.Params), fmtCount(st.MACs), m.Threads())
		}
		name := strings.Join(files, ",")
		if files == nil {
			name = "synthetic"
		}
		lat := make([]time.Duration, runs)
		for r := range lat {
			for i := range data {
				data[i].load(m, i)
			}
			t0 := time.Now()
			if err := m.Run(); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			lat[r] = time.Since(t0)
		}
		slices.Sort(lat)
		res := result{Input: name, Top: []class{}, LatencyMS: ms(median(lat)), LatencyMinMS: ms(lat[0]), Runs: runs}
		if saveDir != "" {
			dir := saveDir
			if len(groups) > 1 {
				dir = filepath.Join(saveDir, fmt.Sprint(gi))
			}
			if res.Saved, err = saveOutputs(m, dir); err != nil {
				return err
			}
		}
		var warn string
		if m.NumOutputs() > 0 && m.OutputInfo(0).DType == ir.Float32 && top > 0 {
			out := m.Output(0)
			var scores []float64
			scores, res.Softmax = probabilities(out)
			var lw string
			res.Top, lw = topK(scores, top, labels)
			if labelsFile != "" && lw != "" {
				warn = fmt.Sprintf("labels %s: %s", labelsFile, lw)
			}
		} else if m.NumOutputs() > 0 && top > 0 && isQuantDType(m.OutputInfo(0).DType) {
			scores, softmax, err := quantScores(m, g, 0)
			if err != nil {
				return err
			}
			res.Softmax = softmax
			var lw string
			res.Top, lw = topK(scores, top, labels)
			if labelsFile != "" && lw != "" {
				warn = fmt.Sprintf("labels %s: %s", labelsFile, lw)
			}
		}
		if warn != "" && gi == 0 {
			fmt.Fprintf(stderr, "edgeinfer run: warning: %s\n", warn)
		}
		if asJSON {
			if err := enc.Encode(res); err != nil {
				return err
			}
			continue
		}
		printResult(stdout, m, res, labels != nil)
	}
	return nil
}

func inputNames(m *runtime.Model) string {
	var s []string
	for i := 0; i < m.NumInputs(); i++ {
		info := m.InputInfo(i)
		s = append(s, fmt.Sprintf("%q %v", info.Name, info.Shape))
	}
	return strings.Join(s, ", ")
}

// result is one inference's report; its JSON form is the --json output.
type result struct {
	Input        string   `json:"input"`
	Top          []class  `json:"top"`
	Softmax      bool     `json:"softmax"` // scores are the softmax of output 0, not output 0 itself
	LatencyMS    float64  `json:"latency_ms"`
	LatencyMinMS float64  `json:"latency_min_ms"`
	Runs         int      `json:"runs"`
	Saved        []string `json:"saved,omitempty"`
}

type class struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

func printResult(w io.Writer, m *runtime.Model, r result, haveLabels bool) {
	fmt.Fprintf(w, "input    %s\n", r.Input)
	for k := 0; k < m.NumOutputs(); k++ {
		info := m.OutputInfo(k)
		fmt.Fprintf(w, "output   %d %q %s %v\n", k, info.Name, info.DType, info.Shape)
	}
	for _, p := range r.Saved {
		fmt.Fprintf(w, "saved    %s\n", p)
	}
	if len(r.Top) > 0 {
		how := "output 0 as is (it already sums to 1)"
		if r.Softmax {
			how = "softmax of output 0"
		}
		fmt.Fprintf(w, "top %d of output 0; score = %s\n", len(r.Top), how)
		fmt.Fprintf(w, "  %4s  %6s  %8s", "rank", "index", "score")
		if haveLabels {
			fmt.Fprintf(w, "  label")
		}
		fmt.Fprintln(w)
		for i, c := range r.Top {
			fmt.Fprintf(w, "  %4d  %6d  %8.5f", i+1, c.Index, c.Score)
			if haveLabels {
				fmt.Fprintf(w, "  %s", c.Label)
			}
			fmt.Fprintln(w)
		}
	}
	if r.Runs == 1 {
		fmt.Fprintf(w, "latency  %.3f ms\n", r.LatencyMS)
	} else {
		fmt.Fprintf(w, "latency  min %.3f ms, median %.3f ms over %d runs\n", r.LatencyMinMS, r.LatencyMS, r.Runs)
	}
}

// saveOutputs writes every output to dir/output_K.npy.
func saveOutputs(m *runtime.Model, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--save-outputs: %w", err)
	}
	var saved []string
	for k := 0; k < m.NumOutputs(); k++ {
		t := m.OutputTensor(k)
		if t == nil {
			info := m.OutputInfo(k)
			return saved, fmt.Errorf("output %d %q: cannot save dtype %s", k, info.Name, info.DType)
		}
		p := filepath.Join(dir, fmt.Sprintf("output_%d.npy", k))
		if err := npy.Write(p, t); err != nil {
			return saved, err
		}
		saved = append(saved, p)
	}
	return saved, nil
}

// probabilities returns out as class scores: out itself when it already is
// a probability distribution (all in [0,1], summing to 1 within 1e-3),
// else its softmax (softmax = true).
func probabilities(out []float32) (scores []float64, softmax bool) {
	scores = make([]float64, len(out))
	sum, isProb := 0.0, true
	mx := math.Inf(-1)
	for i, v := range out {
		x := float64(v)
		scores[i] = x
		sum += x
		mx = math.Max(mx, x)
		if !(x >= -1e-6 && x <= 1+1e-6) {
			isProb = false
		}
	}
	if isProb && math.Abs(sum-1) <= 1e-3 {
		return scores, false
	}
	sum = 0
	for i, x := range scores {
		e := math.Exp(x - mx)
		scores[i] = e
		sum += e
	}
	for i := range scores {
		scores[i] /= sum
	}
	return scores, true
}

// topK returns the k best scores, best first (ties by lower index), with
// labels looked up by output index. warn describes a label count that
// does not match the output.
func topK(scores []float64, k int, labels []string) (top []class, warn string) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		// NaN ranks below every number.
		sa, sb := scores[idx[a]], scores[idx[b]]
		return !math.IsNaN(sa) && (math.IsNaN(sb) || sa > sb)
	})
	n := len(scores)
	offset := 0
	switch {
	case labels == nil || len(labels) == n:
	case len(labels) == n+1 && strings.EqualFold(strings.TrimSpace(labels[0]), "background"):
		offset = 1 // a 1001-line file with background at 0, for a 1000-class output
	default:
		warn = fmt.Sprintf("%d labels for %d classes; labelling by output index", len(labels), n)
	}
	for _, i := range idx[:min(k, n)] {
		c := class{Index: i, Score: scores[i]}
		if j := i + offset; j < len(labels) {
			c.Label = labels[j]
		}
		top = append(top, c)
	}
	return top, warn
}

// readLabels reads one label per line, dropping trailing blank lines.
func readLabels(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--labels: %w", err)
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, errors.New("--labels " + path + ": no labels in the file")
	}
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines, nil
}

func median(d []time.Duration) time.Duration {
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
