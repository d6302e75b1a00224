package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/edgeinfer/edgeinfer/asm"
	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// prepareInt8 loads a float model and quantises it to int8 on n synthetic
// images (ptq.Synthetic, pixels scaled to [0, 1] as bench feeds them), so
// the int8 path of any model, zoo ones included, can be benchmarked with
// no model file or data.
func prepareInt8(spec string, threads, n int, method quant.Method, stderr io.Writer) (*runtime.Model, error) {
	g, err := loadGraph(spec)
	if err != nil {
		return nil, err
	}
	if quant.IsQuantized(g) {
		return nil, fmt.Errorf("--int8: model %s is already quantised; bench it without --int8", spec)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].DType != ir.Float32 {
		return nil, fmt.Errorf("--int8: model %s has %d inputs; synthetic calibration needs one float image input", spec, len(g.Inputs))
	}
	layout, c, h, ok := imageDims(g.Inputs[0].Shape)
	if !ok {
		return nil, fmt.Errorf("--int8: input %q of shape %v is not an image ([1 C H W] or [1 H W C], C 1 or 3)", g.Inputs[0].Name, g.Inputs[0].Shape)
	}
	w := g.Inputs[0].Shape[3]
	if layout == input.NHWC {
		w = g.Inputs[0].Shape[2]
	}
	calib, err := ptq.Synthetic(input.Spec{Width: w, Height: h, Channels: c, Layout: layout, Scale: 255, Std: [3]float32{1, 1, 1}}, n)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	qg, rep, err := ptq.Quantize(g, calib, ptq.Options{Method: method, Threads: threads, SkipEval: true})
	if err != nil {
		return nil, fmt.Errorf("--int8: %w", err)
	}
	fmt.Fprintf(stderr, "quantised %s to int8 in %.1f s (%s, %d synthetic images; %d int8 ops, %d float ops)\n",
		spec, time.Since(t0).Seconds(), rep.Method, n, rep.Int8Nodes, rep.FloatNodes)
	return runtime.New(qg, runtime.Options{Threads: threads})
}

func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "--model M [--int8 [--calib N] [--method M]] [--threads N] [--runs N] [--warmup N] [--profile] [--json]", stderr)
	model := fs.String("model", "", modelHelp)
	threads := fs.Int("threads", defaultThreads(), "worker threads")
	runs := fs.Int("runs", 20, "timed runs")
	warmup := fs.Int("warmup", 3, "untimed runs first")
	profile := fs.Bool("profile", false, "time every layer and print a per-layer table (median over the runs)")
	jsonOut := fs.Bool("json", false, "print one JSON object instead of the text report: per-run latencies and process CPU times (ms, in run order), median, threads, kernel path")
	int8 := fs.Bool("int8", false, "quantise the float model to int8 first (post-training, calibrated on synthetic images) and benchmark that")
	calibN := fs.Int("calib", 8, "with --int8: `N` synthetic calibration images")
	method := fs.String("method", "minmax", "with --int8: calibration `method` (minmax, percentile, mse, entropy)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runs < 1 {
		return fmt.Errorf("--runs %d: must be at least 1", *runs)
	}
	if *warmup < 0 {
		return fmt.Errorf("--warmup %d: must not be negative", *warmup)
	}
	if *calibN < 1 {
		return fmt.Errorf("--calib %d: must be at least 1", *calibN)
	}
	var m *runtime.Model
	var err error
	if *int8 {
		m, err = prepareInt8(*model, *threads, *calibN, quant.Method(*method), stderr)
	} else {
		m, _, err = prepare(*model, *threads)
	}
	if err != nil {
		return err
	}
	defer m.Close()

	// The synthetic pattern with the default normalisation (pixels in
	// [0,1]) keeps activations in a realistic range.
	fl := imageFlags{mean: "0", std: "1", scale: 255}
	if err := fl.check(); err != nil {
		return err
	}
	f := &feeder{m: m, flags: fl}
	data := make([]tensorData, m.NumInputs())
	for i := range data {
		if data[i], err = f.synthetic(i); err != nil {
			return err
		}
	}
	load := func() {
		for i := range data {
			data[i].load(m, i)
		}
	}
	for range *warmup {
		load()
		if err := m.Run(); err != nil {
			return err
		}
	}

	lat := make([]time.Duration, *runs)
	cpu := make([]time.Duration, *runs) // process CPU time per run, for --json
	var steps [][]time.Duration         // [step][run], with --profile
	var prof []runtime.StepTime
	for r := range lat {
		load()
		c0 := processCPU()
		t0 := time.Now()
		if *profile {
			prof = m.RunProfiled(prof)
		} else if err := m.Run(); err != nil {
			return err
		}
		lat[r] = time.Since(t0)
		cpu[r] = processCPU() - c0
		if *profile {
			if steps == nil {
				steps = make([][]time.Duration, len(prof))
			}
			for i, p := range prof {
				steps[i] = append(steps[i], p.Time)
			}
		}
	}
	order := slices.Clone(lat)
	slices.Sort(lat)
	st := m.Stats()
	med := median(lat)
	if *jsonOut {
		runsMS, cpuMS := make([]float64, len(order)), make([]float64, len(cpu))
		for i, d := range order {
			runsMS[i], cpuMS[i] = ms(d), ms(cpu[i])
		}
		return json.NewEncoder(stdout).Encode(map[string]any{
			"model": *model, "int8": *int8, "threads": m.Threads(), "kernels": asm.Selected(), "macs": st.MACs,
			"runs_ms": runsMS, "median_ms": ms(med), "min_ms": ms(lat[0]), "cpu_ms": cpuMS,
		})
	}
	p90 := lat[min(len(lat)-1, (len(lat)*9+9)/10-1)]
	prec := ""
	if *int8 {
		prec = ", quantised to int8"
	}
	fmt.Fprintf(stdout, "model    %s%s: %s params, %s MACs, %d threads\n", *model, prec, fmtCount(st.Params), fmtCount(st.MACs), m.Threads())
	how := ""
	if *profile {
		how = " (profiled: includes per-layer timing overhead)"
	}
	fmt.Fprintf(stdout, "latency  min %.3f ms, median %.3f ms, p90 %.3f ms over %d runs after %d warm-up%s\n",
		ms(lat[0]), ms(med), ms(p90), *runs, *warmup, how)
	if st.MACs > 0 {
		fmt.Fprintf(stdout, "speed    %.2f GOPS at the median (2 ops per MAC)\n", gops(st.MACs, med))
	}
	if !*profile {
		return nil
	}

	layers := m.Layers()
	times := make([]time.Duration, len(steps))
	var total time.Duration
	for i, s := range steps {
		slices.Sort(s)
		times[i] = median(s)
		total += times[i]
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\n#\top\tname\toutput shape\tMACs\ttime ms\tGOPS\tshare %")
	for i, l := range layers {
		if i >= len(times) {
			break
		}
		g := "-"
		if l.MACs > 0 && times[i] > 0 {
			g = fmt.Sprintf("%.2f", gops(l.MACs, times[i]))
		}
		share := 0.0
		if total > 0 {
			share = 100 * float64(times[i]) / float64(total)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%v\t%s\t%.3f\t%s\t%.1f\n", i, l.Op, l.Name, l.Shape, fmtCount(l.MACs), ms(times[i]), g, share)
	}
	tg := "-"
	if st.MACs > 0 && total > 0 {
		tg = fmt.Sprintf("%.2f", gops(st.MACs, total))
	}
	fmt.Fprintf(w, "\ttotal\t%d steps\t\t%s\t%.3f\t%s\t100.0\n", len(times), fmtCount(st.MACs), ms(total), tg)
	return w.Flush()
}

// processCPU is the user + system CPU time of this process so far: on a
// shared machine, CPU time per run is what other load distorts least.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gops is 2·macs operations per d, in 10⁹/s.
func gops(macs int64, d time.Duration) float64 {
	return 2 * float64(macs) / d.Seconds() / 1e9
}
