// Package ptq is post-training int8 quantisation: it calibrates a float
// graph on sample inputs and rewrites it into the quantised IR that the
// TFLite reader produces from a real int8 model, so the runtime's int8
// engine runs it exactly as it runs a .tflite file.
//
//	qg, report, err := ptq.Quantize(g, ptq.Samples(inputs), ptq.Options{Method: quant.MethodMinMax})
//	m, err := runtime.New(qg, runtime.Options{})
//	report.WriteTable(os.Stdout)
//
// The conventions are TFLite's int8 scheme: activations asymmetric int8
// per tensor (the range always contains 0, the zero point is an integer
// in [−128, 127]), Conv and Gemm weights symmetric int8 per output channel
// (zero point 0, values in ±127, Quant.Axis 0), biases int32 with scale
// s_in·s_w[c], fused activations kept as clamps, pooling and reshaping ops
// keeping their input's parameters, Softmax and Sigmoid outputs at scale
// 1/256 and zero point −128. The float graph input is quantised by a
// QuantizeLinear and each float graph output comes from a
// DequantizeLinear; operators the runtime cannot run in int8 stay float
// between a DequantizeLinear and a QuantizeLinear (a "float island",
// listed in the report). docs/quantization.md describes the choices.
//
// The package lives below quant because it runs models: the runtime's
// int8 lowering imports quant for its fixed-point arithmetic.
package ptq

import (
	"errors"
	"fmt"
	goruntime "runtime"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// Calibrator supplies calibration inputs.
type Calibrator interface {
	// Len is the number of samples.
	Len() int
	// Sample writes sample i into in: in[k] is graph input k, in the
	// graph's logical (NCHW) order, of exactly that input's element count.
	// Sample is called concurrently from several goroutines, each with
	// its own slices.
	Sample(i int, in [][]float32) error
}

// Samples is a Calibrator over in-memory inputs of a one-input graph:
// Samples[i] is sample i's input tensor.
type Samples [][]float32

// Len implements Calibrator.
func (s Samples) Len() int { return len(s) }

// Sample implements Calibrator.
func (s Samples) Sample(i int, in [][]float32) error {
	if len(in) != 1 {
		return fmt.Errorf("samples are for a one-input graph; this one has %d inputs", len(in))
	}
	if len(s[i]) != len(in[0]) {
		return fmt.Errorf("sample %d has %d values; the input takes %d", i, len(s[i]), len(in[0]))
	}
	copy(in[0], s[i])
	return nil
}

// CalibratorFunc adapts a function to a Calibrator with n samples.
func CalibratorFunc(n int, f func(i int, in [][]float32) error) Calibrator { return calibFunc{n, f} }

type calibFunc struct {
	n int
	f func(i int, in [][]float32) error
}

func (c calibFunc) Len() int                           { return c.n }
func (c calibFunc) Sample(i int, in [][]float32) error { return c.f(i, in) }

// Options configure Quantize.
type Options struct {
	// Method selects the activation observer (quant.NewObserver):
	// minmax (the default, as TFLite's converter), percentile,
	// percentile(P), mse or entropy.
	Method quant.Method
	// NewObserver, when set, makes the observers instead of Method.
	NewObserver func() quant.Observer
	// PerTensor quantises weights with one scale per tensor instead of
	// one per output channel (for comparison; per channel is better).
	PerTensor bool
	// ReduceRange quantises Conv and Gemm weights to 7 bits, symmetric in
	// [−63, 63] (quant.ReducedWeightQMax) instead of [−127, 127]: ONNX
	// Runtime's "reduce_range". Use it when the model (its QDQ export)
	// will also run on ONNX Runtime on x86-64 without VNNI, whose int8
	// kernels add u8×s8 products in pairs into saturating int16 sums
	// (VPMADDUBSW); with 7-bit weights no sum can saturate. It costs one
	// bit of weight precision (6 dB of weight SQNR) and can cost accuracy:
	// 7–8 points of ImageNet top-1 on a Keras MobileNet v2
	// (docs/quantization.md).
	ReduceRange bool
	// Threads is the number of calibration and evaluation workers, each
	// running its own single-threaded model (≤ 0: one per CPU).
	Threads int
	// Ranges fixes the real range of float values by name (graph inputs
	// and node outputs of the prepared float graph), overriding what the
	// observers saw. With a nil Calibrator it must name every value.
	Ranges map[string][2]float32
	// Int8Ops says which ops may run in int8; nil means
	// runtime.SupportsInt8. Every other op becomes a float island.
	Int8Ops func(op string) bool
	// SkipEval skips running the int8 model on the calibration set: the
	// report then has weight SQNRs but no activation or output errors.
	SkipEval bool
	// EvalSamples, when > 0 and below the calibration set's size, runs the
	// evaluation on that many samples spread evenly over the set: the
	// report's SQNRs settle after a few dozen samples, while evaluating
	// runs the float and the int8 model once more per sample.
	EvalSamples int
	// Progress, when set, is called after each sample of a stage
	// ("calibrate", then "evaluate") with the samples done and the total.
	// Calls are serialised.
	Progress func(stage string, done, total int)
}

// evalIndices lists the calibration samples the evaluation runs: all n,
// or k of them spread evenly (Options.EvalSamples).
func evalIndices(k, n int) []int {
	if k <= 0 || k >= n {
		k = n
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i * n / k
	}
	return idx
}

func (o *Options) threads() int {
	if o.Threads > 0 {
		return o.Threads
	}
	return goruntime.NumCPU()
}

// weightQMax is the largest weight integer: 127, or 63 with ReduceRange.
func (o *Options) weightQMax() int {
	if o.ReduceRange {
		return quant.ReducedWeightQMax
	}
	return quant.WeightQMax
}

func (o *Options) int8Ops() func(string) bool {
	if o.Int8Ops != nil {
		return o.Int8Ops
	}
	return runtime.SupportsInt8
}

func (o *Options) observer() (quant.Observer, error) {
	if o.NewObserver != nil {
		return o.NewObserver(), nil
	}
	return quant.NewObserver(o.Method)
}

// Quantize calibrates g on calib and returns the quantised graph with a
// report of the error it introduces per layer. g is not modified; the
// quantised graph shares no mutable state with it.
func Quantize(g *ir.Graph, calib Calibrator, opts Options) (*ir.Graph, *Report, error) {
	proto, err := opts.observer()
	if err != nil {
		return nil, nil, err
	}
	fg, err := Prepare(g)
	if err != nil {
		return nil, nil, err
	}
	ranges := map[string][2]float32{}
	samples := 0
	var floats *modelPool // the calibration's float models, reused by the evaluation
	var cache *sampleCache
	if calib != nil {
		if samples = calib.Len(); samples == 0 {
			return nil, nil, errors.New("no calibration samples")
		}
		floats = newModelPool(calibrationProbe(fg))
		defer floats.close()
		calibSet := calib
		if !opts.SkipEval {
			// The evaluation reads its samples again: keep them.
			cache = newSampleCache(calib, evalIndices(opts.EvalSamples, samples), fg)
			calibSet = cache
		}
		obs, err := calibrate(fg, calibSet, proto, &opts, floats)
		if err != nil {
			return nil, nil, err
		}
		if opts.SkipEval {
			floats.close() // not needed any more
		}
		for name, o := range obs {
			lo, hi := o.Range()
			ranges[name] = [2]float32{lo, hi}
		}
	}
	for name, r := range opts.Ranges {
		ranges[name] = r
	}
	qg, rep, err := emit(fg, ranges, &opts)
	if err != nil {
		return nil, nil, err
	}
	rep.Method = proto.Name()
	rep.PerTensor = opts.PerTensor
	rep.ReduceRange = opts.ReduceRange
	rep.Samples = samples
	qg.Metadata["quantization"] = "int8 post-training (edgeinfer quant/ptq)"
	qg.Metadata["quantization_method"] = proto.Name()
	if opts.PerTensor {
		qg.Metadata["quantization_weights"] = "per-tensor"
	} else {
		qg.Metadata["quantization_weights"] = "per-channel"
	}
	if opts.ReduceRange {
		qg.Metadata["quantization_reduce_range"] = "true"
		qg.Metadata["quantization_weight_range"] = fmt.Sprintf("[-%d, %d]", opts.weightQMax(), opts.weightQMax())
	}
	qg.Metadata["calibration_samples"] = fmt.Sprint(samples)
	if calib != nil && !opts.SkipEval {
		if err := evaluate(fg, qg, cache.evalSet(), rep, &opts, floats); err != nil {
			return nil, nil, err
		}
	}
	rep.finish()
	return qg, rep, nil
}
