package ptq

import (
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// evaluate runs the float and the int8 model side by side over the
// calibration set, with every reported layer exposed (the int8 one read
// as raw int8 bytes and dequantised), and fills in the report's SQNRs and
// output errors. Sums are kept per sample and added in sample order, so
// the figures do not depend on the thread count. floats, when not nil,
// holds prepared float models of a probe that exposes every reported
// value (the calibration's); the workers take theirs from it.
func evaluate(fg, qg *ir.Graph, calib Calibrator, rep *Report, opts *Options, floats *modelPool) error {
	inputIdx := map[string]int{}
	for k, in := range fg.Inputs {
		inputIdx[in.Name] = k
	}
	var fvals, qvals []*ir.ValueInfo
	// A quantised graph input is compared with the float input as the
	// calibrator wrote it, in logical order; every other layer in the
	// order the probes expose it in (the same for both).
	logical := map[string]bool{}
	for _, l := range rep.Layers {
		if _, isInput := inputIdx[l.Value]; isInput {
			logical[l.int8] = true
		} else {
			vi := fg.ValueInfo[l.Value]
			if vi == nil {
				return fmt.Errorf("evaluate: no value info for %q", l.Value)
			}
			fvals = append(fvals, vi)
		}
		vi := qg.ValueInfo[l.int8]
		if vi == nil {
			return fmt.Errorf("evaluate: no value info for int8 value %q", l.int8)
		}
		qvals = append(qvals, vi)
	}
	for _, v := range fvals {
		if floats != nil {
			if _, ok := floats.p.exposed[v.Name]; !ok {
				floats = nil
			}
		}
	}
	if floats == nil {
		floats = newModelPool(newProbe(fg, fvals, nil))
		defer floats.close()
	}
	fp, qp := floats.p, newProbe(qg, qvals, logical)
	// Each layer's 256 dequantised values.
	luts := make([][256]float32, len(rep.Layers))
	for j, l := range rep.Layers {
		for b := range luts[j] {
			luts[j][b] = l.Scale * float32(int32(int8(b))-l.ZeroPoint)
		}
	}
	n, nl, no := calib.Len(), len(rep.Layers), len(fg.Outputs)
	type sums struct{ sig, noise, cos, top1 float64 }
	layer := make([][]sums, n)
	output := make([][]sums, n)
	err := runSamples(calib, opts, "evaluate", func(w int) (func(int) error, func(), error) {
		fm, err := floats.get()
		if err != nil {
			return nil, nil, fmt.Errorf("prepare float model: %w", err)
		}
		qm, err := runtime.New(qp.g, runtime.Options{Threads: 1})
		if err != nil {
			floats.put(fm)
			return nil, nil, fmt.Errorf("prepare int8 model: %w", err)
		}
		closeBoth := func() { floats.put(fm); qm.Close() }
		fin, err := inputSlices(fm)
		if err == nil {
			_, err = inputSlices(qm)
		}
		if err != nil {
			closeBoth()
			return nil, nil, err
		}
		saved := make([][]float32, len(fin))
		for k := range saved {
			saved[k] = make([]float32, len(fin[k]))
		}
		body := func(i int) error {
			if err := calib.Sample(i, fin); err != nil {
				return err
			}
			for k := range fin {
				copy(saved[k], fin[k])
				copy(qm.Input(k), fin[k])
			}
			if err := fm.Run(); err != nil {
				return err
			}
			if err := qm.Run(); err != nil {
				return err
			}
			layer[i] = make([]sums, nl)
			for j, l := range rep.Layers {
				var ref []float32
				if k, isInput := inputIdx[l.Value]; isInput {
					ref = saved[k]
				} else {
					ref = fm.Output(fp.exposed[l.Value])
				}
				raw := qm.OutputBytes(qp.exposed[l.int8])
				if len(raw) != len(ref) {
					return fmt.Errorf("layer %q: int8 value has %d elements, float %d", l.Name, len(raw), len(ref))
				}
				layer[i][j].sig, layer[i][j].noise = sqSumsInt8(ref, raw, &luts[j])
			}
			output[i] = make([]sums, no)
			for j, o := range fg.Outputs {
				ref, got := fm.Output(fp.index[o.Name]), qm.Output(qp.index[o.Name])
				s := &output[i][j]
				s.sig, s.noise = sqSums(ref, got)
				s.cos = cosine(ref, got)
				if argmax(ref) == argmax(got) {
					s.top1 = 1
				}
			}
			return nil
		}
		return body, closeBoth, nil
	})
	if err != nil {
		return err
	}
	for j, l := range rep.Layers {
		var sig, noise float64
		for i := 0; i < n; i++ {
			sig += layer[i][j].sig
			noise += layer[i][j].noise
		}
		v := quant.SQNRdB(sig, noise)
		l.SQNR = &v
	}
	for j, o := range fg.Outputs {
		oe := &OutputError{Name: o.Name}
		var sig, noise, cos, top1 float64
		for i := 0; i < n; i++ {
			s := output[i][j]
			sig += s.sig
			noise += s.noise
			cos += s.cos
			top1 += s.top1
		}
		oe.SQNR = quant.SQNRdB(sig, noise)
		oe.Cosine = cos / float64(n)
		// Top-1 agreement means something for one row of scores.
		if r := len(o.Shape); r > 0 && ir.NumElements(o.Shape) == o.Shape[r-1] {
			t := top1 / float64(n)
			oe.Top1 = &t
		}
		rep.Outputs = append(rep.Outputs, oe)
	}
	rep.Evaluated, rep.EvalSamples = true, n
	return nil
}

// sqSumsInt8 is sqSums(ref, x) for x[i] = lut[raw[i]].
func sqSumsInt8(ref []float32, raw []byte, lut *[256]float32) (sig, noise float64) {
	raw = raw[:len(ref)]
	for i, r := range ref {
		d := float64(r) - float64(lut[raw[i]])
		sig += float64(r) * float64(r)
		noise += d * d
	}
	return sig, noise
}

func sqSums(ref, x []float32) (sig, noise float64) {
	for i, r := range ref {
		d := float64(r) - float64(x[i])
		sig += float64(r) * float64(r)
		noise += d * d
	}
	return sig, noise
}

// Cosine returns the cosine similarity of a and b (1 when both are zero).
func Cosine(a, b []float32) float64 { return cosine(a, b) }

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 && bb == 0 {
		return 1
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// Argmax returns the index of the largest value (the first on ties).
func Argmax(v []float32) int { return argmax(v) }

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
