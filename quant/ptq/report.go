package ptq

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Report describes a quantisation: per layer, how much precision the int8
// weights and activations keep, and which ops stayed float.
type Report struct {
	// Method is the observer that chose the activation ranges.
	Method string `json:"method"`
	// PerTensor is true when weights have one scale per tensor.
	PerTensor bool `json:"per_tensor_weights"`
	// ReduceRange is true when weights are 7-bit, in [−63, 63]
	// (Options.ReduceRange).
	ReduceRange bool `json:"reduce_range_weights"`
	// Samples is the number of calibration samples.
	Samples int `json:"calibration_samples"`
	// Evaluated is true when the int8 model was run on the calibration
	// set (the activation and output figures are set).
	Evaluated bool `json:"evaluated"`
	// EvalSamples is the number of calibration samples evaluated
	// (Options.EvalSamples).
	EvalSamples int `json:"evaluated_samples"`
	// Int8Nodes and FloatNodes count the quantised graph's compute nodes
	// by where they run; Converts counts its QuantizeLinear and
	// DequantizeLinear nodes.
	Int8Nodes  int `json:"int8_nodes"`
	FloatNodes int `json:"float_nodes"`
	Converts   int `json:"quantize_dequantize_nodes"`
	// Layers lists every int8 value that a quantised op computes, in
	// execution order: graph inputs after their QuantizeLinear, the
	// outputs of Conv, Gemm, pooling, Add, Concat …, and the requantised
	// outputs of float islands. Layout ops (Reshape, Transpose …), which
	// copy bytes, are left out.
	Layers []*Layer `json:"layers"`
	// Islands are the ops that stay float.
	Islands []Island `json:"float_islands"`
	// Outputs compares the int8 model's graph outputs with the float
	// model's on the calibration set.
	Outputs []*OutputError `json:"outputs,omitempty"`
}

// Layer is one quantised value of the int8 graph.
type Layer struct {
	// Name is the node that computes the value (for a QuantizeLinear the
	// value's int8 name), Op its operator.
	Name string `json:"name"`
	Op   string `json:"op"`
	// Value is the float graph's name for the value.
	Value string `json:"value"`
	// Scale and ZeroPoint are the value's int8 parameters; Range is the
	// real range they were chosen from (observer range, intersected with a
	// fused activation's clamp).
	Scale     float32    `json:"scale"`
	ZeroPoint int32      `json:"zero_point"`
	Range     [2]float32 `json:"range"`
	// WeightSQNR is the signal-to-quantisation-noise ratio of the
	// dequantised int8 weights against the float weights (dB; Conv and
	// Gemm only).
	WeightSQNR *float64 `json:"weight_sqnr_db,omitempty"`
	// SQNR is the ratio of the int8 model's dequantised value against the
	// float model's, over the calibration set (dB). It accumulates the
	// error of every layer before this one.
	SQNR *float64 `json:"sqnr_db,omitempty"`
	// InputSQNR is the lowest SQNR of the layer's int8 inputs, and Loss =
	// InputSQNR − SQNR what this layer itself lost.
	InputSQNR *float64 `json:"input_sqnr_db,omitempty"`
	Loss      *float64 `json:"loss_db,omitempty"`

	inputs []string // float names of the int8 inputs
	int8   string   // name in the quantised graph
}

// Island is a float op of the quantised graph.
type Island struct {
	Node   string `json:"node"`
	Op     string `json:"op"`
	Reason string `json:"reason"`
}

// OutputError compares one graph output of the int8 model with the float
// model's over the calibration set.
type OutputError struct {
	Name string `json:"name"`
	// SQNR over all samples (dB).
	SQNR float64 `json:"sqnr_db"`
	// Cosine is the mean over samples of the cosine similarity.
	Cosine float64 `json:"cosine"`
	// Top1 is the fraction of samples whose argmax (over the last axis)
	// agrees; reported for outputs with at most one row per sample.
	Top1 *float64 `json:"top1_agreement,omitempty"`
}

// finish computes the derived fields.
func (r *Report) finish() {
	byValue := map[string]*Layer{}
	for _, l := range r.Layers {
		byValue[l.Value] = l
	}
	for _, l := range r.Layers {
		if l.SQNR == nil {
			continue
		}
		var worst *float64
		for _, in := range l.inputs {
			if p := byValue[in]; p != nil && p.SQNR != nil && (worst == nil || *p.SQNR < *worst) {
				v := *p.SQNR
				worst = &v
			}
		}
		if worst != nil {
			l.InputSQNR = worst
			loss := *worst - *l.SQNR
			l.Loss = &loss
		}
	}
}

// Worst returns up to n layers sorted by what they lose (Loss), largest
// first; without an evaluation, the layers with the lowest weight SQNR.
func (r *Report) Worst(n int) []*Layer {
	var out []*Layer
	key := func(l *Layer) (float64, bool) {
		switch {
		case r.Evaluated && l.Loss != nil:
			return *l.Loss, true
		case r.Evaluated:
			return 0, false // a QuantizeLinear of float data: no int8 input
		case l.WeightSQNR != nil:
			return -*l.WeightSQNR, true
		}
		return 0, false
	}
	for _, l := range r.Layers {
		if _, ok := key(l); ok {
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, _ := key(out[i])
		b, _ := key(out[j])
		return a > b
	})
	return out[:min(n, len(out))]
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func db(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *v)
}

// WriteTable writes the report as text: a summary, every layer in
// execution order, the float islands, the output errors and the layers
// that lose most.
func (r *Report) WriteTable(w io.Writer) error {
	weights := "per-channel"
	if r.PerTensor {
		weights = "per-tensor"
	}
	if r.ReduceRange {
		weights += " 7-bit (reduce range)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "int8 quantisation: %s activations, %s weights, %d calibration samples; %d int8 ops, %d float ops, %d quantize/dequantize\n",
		r.Method, weights, r.Samples, r.Int8Nodes, r.FloatNodes, r.Converts)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tlayer\top\tscale\tzero\trange lo\trange hi\tweight dB\tSQNR dB\tloss dB\t")
	for i, l := range r.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.4g\t%d\t%.4g\t%.4g\t%s\t%s\t%s\t\n", i+1, shorten(l.Name, 48), l.Op,
			l.Scale, l.ZeroPoint, l.Range[0], l.Range[1], db(l.WeightSQNR), db(l.SQNR), db(l.Loss))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Islands) == 0 {
		fmt.Fprintln(&b, "float islands: none")
	} else {
		fmt.Fprintf(&b, "float islands (%d):\n", len(r.Islands))
		for _, is := range r.Islands {
			fmt.Fprintf(&b, "  %s %s: %s\n", is.Op, is.Node, is.Reason)
		}
	}
	for _, o := range r.Outputs {
		fmt.Fprintf(&b, "output %s: SQNR %.1f dB, cosine %.5f", o.Name, o.SQNR, o.Cosine)
		if o.Top1 != nil {
			fmt.Fprintf(&b, ", top-1 agreement %.2f%%", 100**o.Top1)
		}
		fmt.Fprintf(&b, " (%d samples)\n", r.EvalSamples)
	}
	if worst := r.Worst(10); len(worst) > 0 {
		what := "loss = input SQNR − output SQNR"
		if !r.Evaluated {
			what = "lowest weight SQNR; not evaluated"
		}
		fmt.Fprintf(&b, "layers losing most (%s):\n", what)
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "layer\top\tweight dB\tinput dB\tSQNR dB\tloss dB\t")
		for _, l := range worst {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", shorten(l.Name, 48), l.Op, db(l.WeightSQNR), db(l.InputSQNR), db(l.SQNR), db(l.Loss))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shorten keeps the end of long names (the distinctive part of
// "/features/features.4/block/block.0/Conv").
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
