package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/edgeinfer/edgeinfer/quant"
)

func cmdInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("info", "--model M [--compare FLOAT_MODEL]", stderr)
	model := fs.String("model", "", modelHelp)
	compare := fs.String("compare", "", "for an int8 model: a float model `file` to compare its file size with")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, g, err := prepare(*model, 1)
	if err != nil {
		return err
	}
	defer m.Close()
	st := m.Stats()

	format := g.Format
	if g.Opset > 0 {
		format += fmt.Sprintf(", opset %d", g.Opset)
	}
	fmt.Fprintf(stdout, "model     %s (%s)\n", *model, format)
	fmt.Fprintf(stdout, "params    %s (%d)\n", fmtCount(st.Params), st.Params)
	fmt.Fprintf(stdout, "MACs      %s (%d) per inference\n", fmtCount(st.MACs), st.MACs)
	saved := ""
	if st.NaiveBytes > 0 {
		saved = fmt.Sprintf(", %.0f%% saved", 100*(1-float64(st.ArenaBytes)/float64(st.NaiveBytes)))
	}
	fmt.Fprintf(stdout, "arena     %s (%d bytes; without sharing %s%s)\n", fmtBytes(st.ArenaBytes), st.ArenaBytes, fmtBytes(st.NaiveBytes), saved)
	fmt.Fprintf(stdout, "in-place  %d concat inputs written in place by their producers\n", st.InPlace)
	fmt.Fprintf(stdout, "steps     %d kernels\n\n", st.Steps)

	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "tensor\tname\tdtype\tshape")
	for i := 0; i < m.NumInputs(); i++ {
		info := m.InputInfo(i)
		fmt.Fprintf(w, "input %d\t%q\t%s\t%v\n", i, info.Name, info.DType, info.Shape)
	}
	for i := 0; i < m.NumOutputs(); i++ {
		info := m.OutputInfo(i)
		fmt.Fprintf(w, "output %d\t%q\t%s\t%v\n", i, info.Name, info.DType, info.Shape)
	}
	fmt.Fprintln(w)
	if err := w.Flush(); err != nil {
		return err
	}

	// Operator counts before (as the file has them) and after the graph
	// passes (folding, fusion).
	before := map[string]int{}
	for _, oc := range g.OpHistogram() {
		before[oc.Op] = oc.Count
	}
	after := map[string]int{}
	for _, oc := range st.Ops {
		after[oc.Op] = oc.Count
	}
	var ops []string
	for _, oc := range g.OpHistogram() {
		ops = append(ops, oc.Op)
	}
	for _, oc := range st.Ops {
		if _, ok := before[oc.Op]; !ok {
			ops = append(ops, oc.Op)
		}
	}
	slices.Sort(ops)
	width := len("operator")
	for _, op := range ops {
		width = max(width, len(op))
	}
	fmt.Fprintf(stdout, "%-*s  %8s  %9s\n", width, "operator", "in model", "optimised")
	tb, ta := 0, 0
	for _, op := range ops {
		fmt.Fprintf(stdout, "%-*s  %8d  %9d\n", width, op, before[op], after[op])
		tb += before[op]
		ta += after[op]
	}
	fmt.Fprintf(stdout, "%-*s  %8d  %9d\n", width, "total", tb, ta)
	if quant.IsQuantized(g) {
		return writeQuantInfo(stdout, g, *model, *compare)
	}
	if *compare != "" {
		return fmt.Errorf("--compare: %s is not a quantised model", *model)
	}
	return nil
}
