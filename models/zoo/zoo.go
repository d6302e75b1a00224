// Package zoo builds the classic image-classification CNNs as ir graphs with
// deterministic random weights, so that a board can be benchmarked without
// a model file:
//
//	g, err := zoo.Build("mobilenet_v1?alpha=0.5&res=160")
//
// Every graph has one input "input", float32 [1, 3, res, res] NCHW
// ([1, 1, 32, 32] for LeNet-5), and one output "output", the logits
// [1, classes]. Architectures are the published ones, layer for layer —
// torchvision's definitions where torchvision has the model, otherwise the
// paper's (or, where the paper and its released code differ, the code that
// produced the published checkpoints and figures; see each builder). The
// graphs use ONNX operators and attributes exactly as torch.onnx exports
// them: BatchNormalization stays a separate node after each convolution,
// ReLU6 is Clip with scalar bounds, Hardswish is HardSigmoid+Mul, SiLU is
// Sigmoid+Mul, Linear is Gemm(transB=1), Dropout is omitted (inference).
//
// Conv and Gemm weights are He-normal N(0, 2/fan_in) (LeCun 1/fan_in for
// LeNet-5's tanh), biases N(0, 0.01²), and BatchNormalization is near
// identity (γ and var in [0.9, 1.1], β and mean in [−0.1, 0.1]), so that
// folding BN is exercised but activations keep their scale: on a
// standard-normal input every activation of every model has an RMS between
// about 0.03 and 40 (TestActivationsStayInRange). In residual nets the γ
// that closes each branch is scaled down by 1/√blocks (see net.resGamma).
//
// The weights depend only on the spec: the generator (splitmix64 and a
// ziggurat with literal tables, no math/rand, no fused multiply-adds) gives
// bit-identical values on every platform — the tests pin a golden hash and
// pass on amd64 and arm64.
package zoo

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// DefaultSeed is the seed of a spec without "seed=".
const DefaultSeed = 1

// Info is what the builder counted while building a model.
type Info struct {
	// Name is the canonical spec: the model name, then the options that
	// differ from their defaults in sorted order ("mobilenet_v1?alpha=0.5&res=160").
	Name string
	// Params counts trainable parameters: Conv and Gemm weights and biases
	// and BatchNormalization γ and β (the papers' and torchvision's
	// convention). BN running mean and variance are not parameters.
	Params int64
	// MACs counts the multiply-accumulates of the Conv and Gemm layers
	// for one image, the usual convention (torchvision's "GFLOPS" column
	// counts the same quantity).
	MACs int64
	// InputShape is the shape of "input": [1, C, H, W].
	InputShape []int
	// Classes is the length of the logits.
	Classes int
}

// Build parses spec — "name" or "name?key=value&key=value" — and returns
// the model's graph with weights drawn from the spec's seed.
//
// Options every model takes: res (input height and width), classes (1000,
// LeNet-5 10) and seed (DefaultSeed). Some take more: alpha (width
// multiplier of the MobileNets), lrn=1 (AlexNet's original
// Krizhevsky/Caffe layout), width and blocks (scaled-down Inceptions, as
// in the shared fixtures), layout (Inception-ResNet-v2 as released or as
// in the paper's figures). An unknown model or option is an error that
// lists the valid ones.
func Build(spec string) (*ir.Graph, error) {
	g, _, err := build(spec, true)
	return g, err
}

// Describe returns the counts of spec's model without allocating weights.
func Describe(spec string) (Info, error) {
	_, info, err := build(spec, false)
	return info, err
}

// Names returns every model name, sorted.
func Names() []string {
	names := make([]string, 0, len(models))
	for name := range models {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// options are the parsed spec options, defaults filled in.
type options struct {
	res     int
	classes int
	seed    uint64
	alpha   float64
	lrn     bool
	width   float64
	blocks  []int
	layout  string
}

// model is one entry of the registry.
type model struct {
	channels int // input channels
	res      int // default input resolution
	classes  int // default classes
	extra    []string
	// resFor overrides res as the default resolution (AlexNet's LRN
	// variant takes Caffe's 227).
	resFor func(o *options) int
	// build appends the model to n after input x and returns the logits.
	build func(n *net, x string, o *options) string
}

// models is the registry; the builders add themselves in init functions.
var models = map[string]*model{}

func register(name string, m *model) {
	if m.channels == 0 {
		m.channels = 3
	}
	if m.classes == 0 {
		m.classes = 1000
	}
	models[name] = m
}

// optionDoc describes every option for error messages.
var optionDoc = map[string]string{
	"res":     "input height and width in pixels",
	"classes": "number of logits",
	"seed":    "weight seed (uint64)",
	"alpha":   "width multiplier",
	"lrn":     "1: Krizhevsky's layout with LRN and grouped convs",
	"width":   "channel multiplier of the Inception modules",
	"blocks":  "repeats of the Inception-A,B,C modules, e.g. 2,1,1",
	"layout":  "slim (TF-slim's released network) or paper (the paper's figures)",
}

func (m *model) validOptions() []string {
	return append([]string{"classes", "res", "seed"}, m.extra...)
}

// parseSpec splits spec into its model and options, and returns the
// canonical spec.
func parseSpec(spec string) (*model, *options, string, error) {
	name, query, _ := strings.Cut(strings.TrimSpace(spec), "?")
	m, ok := models[name]
	if !ok {
		return nil, nil, "", fmt.Errorf("zoo: unknown model %q; valid models: %s", name, strings.Join(Names(), ", "))
	}
	o := &options{classes: m.classes, seed: DefaultSeed, alpha: 1, width: 1}
	valid := m.validOptions()
	given := map[string]string{}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" || v == "" {
				return nil, nil, "", fmt.Errorf("zoo: %s: option %q is not key=value", name, kv)
			}
			if !slices.Contains(valid, k) {
				return nil, nil, "", fmt.Errorf("zoo: %s: unknown option %q; valid options: %s", name, k, describeOptions(valid))
			}
			if _, dup := given[k]; dup {
				return nil, nil, "", fmt.Errorf("zoo: %s: option %q given twice", name, k)
			}
			given[k] = v
		}
	}
	var canon []string
	for _, k := range slices.Sorted(maps.Keys(given)) {
		v := given[k]
		norm, isDefault, err := o.set(k, v, m)
		if err != nil {
			return nil, nil, "", fmt.Errorf("zoo: %s: option %s=%s: %w", name, k, v, err)
		}
		if !isDefault {
			canon = append(canon, k+"="+norm)
		}
	}
	def := m.res
	if m.resFor != nil {
		def = m.resFor(o)
	}
	if o.res == 0 {
		o.res = def
	} else if o.res == def {
		canon = slices.DeleteFunc(canon, func(s string) bool { return strings.HasPrefix(s, "res=") })
	}
	full := name
	if len(canon) > 0 {
		full += "?" + strings.Join(canon, "&")
	}
	return m, o, full, nil
}

func describeOptions(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " (" + optionDoc[k] + ")"
	}
	return strings.Join(parts, ", ")
}

// set parses one option value into o. It returns the value as it appears
// in the canonical spec and whether it equals the default.
func (o *options) set(k, v string, m *model) (string, bool, error) {
	switch k {
	case "res", "classes":
		x, err := strconv.Atoi(v)
		if err != nil || x < 1 || x > 1<<16 {
			return "", false, fmt.Errorf("want an integer in [1, 65536]")
		}
		if k == "res" {
			o.res = x
			return strconv.Itoa(x), false, nil // compared with the default later
		}
		o.classes = x
		return strconv.Itoa(x), x == m.classes, nil
	case "seed":
		x, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			return "", false, fmt.Errorf("want an unsigned 64-bit integer")
		}
		o.seed = x
		return strconv.FormatUint(x, 10), x == DefaultSeed, nil
	case "alpha", "width":
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || !(x > 0 && x <= 4) {
			return "", false, fmt.Errorf("want a number in (0, 4]")
		}
		if k == "alpha" {
			o.alpha = x
		} else {
			o.width = x
		}
		return strconv.FormatFloat(x, 'g', -1, 64), x == 1, nil
	case "lrn":
		x, err := strconv.ParseBool(v)
		if err != nil {
			return "", false, fmt.Errorf("want 0 or 1")
		}
		o.lrn = x
		return map[bool]string{false: "0", true: "1"}[x], !x, nil
	case "layout":
		if v != "slim" && v != "paper" {
			return "", false, fmt.Errorf("want slim or paper")
		}
		o.layout = v
		return v, v == "slim", nil
	case "blocks":
		parts := strings.Split(v, ",")
		if len(parts) != 3 {
			return "", false, fmt.Errorf("want three comma-separated counts")
		}
		o.blocks = make([]int, 3)
		for i, p := range parts {
			x, err := strconv.Atoi(p)
			if err != nil || x < 0 || x > 64 {
				return "", false, fmt.Errorf("want three counts in [0, 64]")
			}
			o.blocks[i] = x
		}
		return fmt.Sprintf("%d,%d,%d", o.blocks[0], o.blocks[1], o.blocks[2]), false, nil
	}
	return "", false, fmt.Errorf("unknown option")
}

// build makes the graph of spec, with weights when alloc is set (without,
// the initializers have shapes but no data: Describe's fast path and the
// tests' structural checks).
func build(spec string, alloc bool) (*ir.Graph, Info, error) {
	m, o, name, err := parseSpec(spec)
	if err != nil {
		return nil, Info{}, err
	}
	n := newNet(name, alloc, o.seed)
	x := n.input(m.channels, o.res, o.res)
	y := m.build(n, x, o)
	g, err := n.finish(y)
	if err != nil {
		return nil, Info{}, fmt.Errorf("zoo: %s: %w", name, err)
	}
	if s := g.Outputs[0].Shape; len(s) != 2 || s[0] != 1 || s[1] != o.classes {
		return nil, Info{}, fmt.Errorf("zoo: %s: output shape %v, want [1 %d]", name, s, o.classes)
	}
	info := Info{
		Name:       name,
		Params:     n.params,
		MACs:       n.macs,
		InputShape: []int{1, m.channels, o.res, o.res},
		Classes:    o.classes,
	}
	g.Format = "zoo"
	g.Source = "zoo:" + name
	g.Opset = 13
	g.Metadata["zoo.spec"] = name
	g.Metadata["zoo.seed"] = strconv.FormatUint(o.seed, 10)
	g.Metadata["zoo.params"] = strconv.FormatInt(info.Params, 10)
	g.Metadata["zoo.macs"] = strconv.FormatInt(info.MACs, 10)
	return g, info, nil
}
