package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
)

// quantLayer is one row of info's int8 table: an op with a quantised
// output, its output parameters and its quantised constants.
type quantLayer struct {
	op, name       string
	dtype          ir.DType
	scale          float32
	zeroPoint      int32
	wMin, wMax     float32 // weight scales (Input(1)), over channels
	wScales        int     // 0: no quantised weight
	weightBytes    int     // quantised constants read by the op (weights, biases)
	weightElements int
}

// quantLayers lists the ops of g that produce a quantised value, in graph
// order.
func quantLayers(g *ir.Graph) []quantLayer {
	info := map[string]*ir.ValueInfo{}
	for _, v := range g.ValueInfo {
		info[v.Name] = v
	}
	for _, v := range g.Outputs {
		if v.Quant != nil {
			info[v.Name] = v
		}
	}
	var out []quantLayer
	for _, n := range g.Nodes {
		if len(n.Outputs) == 0 {
			continue
		}
		v := info[n.Outputs[0]]
		if v == nil || v.Quant == nil || len(v.Quant.Scale) == 0 || (v.DType != ir.Int8 && v.DType != ir.Uint8) {
			continue
		}
		l := quantLayer{op: n.Op, name: n.Name, dtype: v.DType, scale: v.Quant.Scale[0]}
		if l.name == "" {
			l.name = n.Outputs[0]
		}
		if len(v.Quant.ZeroPoint) > 0 {
			l.zeroPoint = v.Quant.ZeroPoint[0]
		}
		for i, in := range n.Inputs {
			c := g.Initializers[in]
			if c == nil || c.Quant == nil || c.DType == ir.Float32 || len(c.Quant.Scale) == 0 {
				continue
			}
			l.weightBytes += c.Len() * c.DType.Size()
			l.weightElements += c.Len()
			if i == 1 && c.DType != ir.Int32 {
				l.wMin, l.wMax = c.Quant.Scale[0], c.Quant.Scale[0]
				for _, s := range c.Quant.Scale {
					l.wMin, l.wMax = min(l.wMin, s), max(l.wMax, s)
				}
				l.wScales = len(c.Quant.Scale)
			}
		}
		out = append(out, l)
	}
	return out
}

// writeQuantInfo prints the per-layer quantisation table of an int8 model
// and the size totals; compare names a float model file to compare sizes
// with (the float twin or the model that was quantised).
func writeQuantInfo(w io.Writer, g *ir.Graph, model, compare string) error {
	layers := quantLayers(g)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nint8 layers (output: real = scale·(q − zero point); weight scales over output channels)")
	fmt.Fprintln(tw, "#\top\tname\tout\tscale\tzero pt\tweight scales\tweight bytes")
	total := 0
	for i, l := range layers {
		ws := "-"
		switch {
		case l.wScales > 1:
			ws = fmt.Sprintf("%.3g..%.3g (%d ch)", l.wMin, l.wMax, l.wScales)
		case l.wScales == 1:
			ws = fmt.Sprintf("%.3g (per tensor)", l.wMin)
		}
		wb := "-"
		if l.weightBytes > 0 {
			wb = fmt.Sprint(l.weightBytes)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.6g\t%d\t%s\t%s\n", i, l.op, shorten(l.name, 48), l.dtype, l.scale, l.zeroPoint, ws, wb)
		total += l.weightBytes
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var qBytes, fBytes, other int
	for _, c := range g.Initializers {
		b := c.Len() * c.DType.Size()
		switch {
		case c.Quant != nil && c.DType != ir.Float32:
			qBytes += b
		case c.DType == ir.Float32:
			fBytes += b
		default:
			other += b
		}
	}
	fmt.Fprintf(w, "weights   %s quantised (%d bytes: int8 weights, int32 biases), %s float, %s other constants\n",
		fmtBytes(qBytes), qBytes, fmtBytes(fBytes), fmtBytes(other))
	if twin, err := quant.FloatTwin(g); err == nil {
		fb := 0
		for _, c := range twin.Initializers {
			if c.DType == ir.Float32 {
				fb += c.Len() * 4
			}
		}
		if fb > 0 {
			fmt.Fprintf(w, "          as float32: %s; int8/float %.1f%%\n", fmtBytes(fb), 100*float64(qBytes+fBytes+other)/float64(fb+other))
		}
	}
	st, err := os.Stat(model)
	if err != nil {
		return nil // zoo: or another non-file model
	}
	fmt.Fprintf(w, "file      %s (%d bytes)\n", fmtBytes(int(st.Size())), st.Size())
	if compare != "" {
		cs, err := os.Stat(compare)
		if err != nil {
			return fmt.Errorf("--compare: %w", err)
		}
		fmt.Fprintf(w, "compared  %s: %s (%d bytes); this file is %.1f%% of it\n", compare, fmtBytes(int(cs.Size())), cs.Size(),
			100*float64(st.Size())/float64(cs.Size()))
	}
	return nil
}

// shorten keeps the end of a long name, where TFLite names differ.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
