// Command quantize makes an int8 edgeinfer model (.eim) from a float one by
// post-training quantisation, TFLite-style: it calibrates the float model
// on sample inputs, writes the quantised graph with its preprocessing and
// labels, and prints a per-layer error report.
//
//	quantize --model float.onnx --calib DIR -o model.eim [flags]
//	quantize --model zoo:mobilenet_v2 --synthetic 64 -o mobilenet_v2.eim
//
// The model is an .onnx, .tflite or float .eim file, or zoo:NAME (built-in
// architecture, deterministic random weights). Calibration inputs come
// from image files in --calib (preprocessed with --size, --mean, --std,
// --scale, --bgr, --resize-shorter / --crop, exactly as the edgeinfer
// command does), from .npy tensors in --calib-npy, or from --synthetic N
// deterministic random images. Run "quantize -h" for every flag.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	rtdebug "runtime/debug"
	"strings"

	"github.com/edgeinfer/edgeinfer/quant/ptq"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // the command failed (bad file, unsupported model …)
	exitUsage    = 2 // bad command line
	exitInternal = 3 // a bug: a recovered panic
)

// errUsage marks command-line errors; the flag set has printed the details.
var errUsage = errors.New("usage")

// run is the whole command: it parses args (without the program name),
// writes the report to stdout and progress and diagnostics to stderr, and
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "quantize: internal error: %v\n%s", r, rtdebug.Stack())
			code = exitInternal
		}
	}()
	cfg, err := parseArgs(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	}
	if cfg.cpuProfile != "" {
		stop, err := startCPUProfile(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "quantize: %v\n", err)
			return exitError
		}
		defer stop()
	}
	if err := quantize(cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "quantize: %v\n", err)
		return exitError
	}
	return exitOK
}

// config is the parsed command line.
type config struct {
	model, out, calibDir, calibNpy, labels, reportJSON string
	emitQDQ, qdqTypes                                  string
	cpuProfile                                         string // hidden --cpuprofile
	calibCount, synthetic, threads, evalCount          int
	method                                             string
	perTensor, float, reduceRange                      bool
	img                                                imageFlags
}

const usageText = `Usage: quantize --model M (--calib DIR | --calib-npy DIR | --synthetic N) -o OUT.eim [flags]
       quantize --model M --float -o OUT.eim

Quantises a float model to int8 (TFLite's conventions: asymmetric int8
activations, symmetric per-channel int8 weights, int32 biases) by
calibrating it on sample inputs, and writes an edgeinfer model file with the
preprocessing and labels, then prints the per-layer error report.

M is an .onnx, .tflite or float .eim file, or zoo:NAME[?key=value&...].

Flags:
`

func parseArgs(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		printDefaults(fs, stderr)
	}
	fs.StringVar(&c.model, "model", "", "float model: .onnx, .tflite or .eim file, or zoo:NAME")
	fs.StringVar(&c.out, "o", "", "output `file` (.eim)")
	fs.StringVar(&c.calibDir, "calib", "", "calibration images: a `dir`ectory of .jpg/.png/.bmp files (sorted by name)")
	fs.StringVar(&c.calibNpy, "calib-npy", "", "calibration tensors: a `dir`ectory of .npy files, each one input or a stack of inputs; uint8 arrays are pixels and get --scale/--mean/--std")
	fs.IntVar(&c.calibCount, "calib-count", 0, "use at most `N` calibration samples (0: all)")
	fs.IntVar(&c.synthetic, "synthetic", 0, "calibrate on `N` deterministic random images (for zoo models, no files needed)")
	fs.StringVar(&c.method, "method", "minmax", "activation range `method`: minmax, percentile, percentile(P), mse or entropy")
	fs.BoolVar(&c.perTensor, "per-tensor", false, "one weight scale per tensor instead of per output channel (for comparison)")
	fs.BoolVar(&c.reduceRange, "reduce-range", false, "7-bit weights in [-63, 63] (ONNX Runtime's reduce_range): use it when the model, or its --emit-qdq export, will also run on ONNX Runtime on x86-64 without VNNI, whose int8 kernels can saturate with full-range weights; it can cost accuracy")
	fs.StringVar(&c.labels, "labels", "", "class labels `file`, one per line, stored in the model")
	fs.BoolVar(&c.float, "float", false, "write the optimised float model instead (no calibration)")
	fs.StringVar(&c.reportJSON, "report-json", "", "also write the report as JSON to `file`")
	fs.StringVar(&c.emitQDQ, "emit-qdq", "", "also (or, without -o, only) write the quantised model as a standard ONNX QDQ `file` (.onnx) for ONNX Runtime and other runtimes")
	fs.StringVar(&c.qdqTypes, "qdq-types", "u8u8", "integer `types` of the --emit-qdq model's activations and weights, the same quantisation either way: u8u8 (ONNX Runtime fuses it fully and its u8u8 kernels are exact on every x86-64), u8s8 (ORT's fastest on x86-64, but without VNNI its kernels saturate with full-range weights unless --reduce-range) or s8s8 (TFLite-style int8; ORT on x86-64 leaves parts of branching models in float)")
	fs.IntVar(&c.evalCount, "eval-count", 32, "run the report's float-vs-int8 evaluation on `N` of the calibration samples, spread evenly (0: all)")
	fs.IntVar(&c.threads, "threads", 0, "calibration workers (0: one per CPU)")
	c.img.register(fs)
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile to `file` (for go tool pprof)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	bad := func(format string, a ...any) (*config, error) {
		fmt.Fprintf(stderr, "quantize: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run 'quantize -h' for the flags.")
		return nil, errUsage
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q (flags come as --name value)", fs.Arg(0))
	case c.model == "":
		return bad("no model: pass --model FILE.onnx (or .tflite, .eim) or --model zoo:NAME")
	case c.out == "" && (c.emitQDQ == "" || c.float):
		return bad("no output: pass -o FILE.eim (or --emit-qdq FILE.onnx)")
	case !c.float && c.calibDir == "" && c.calibNpy == "" && c.synthetic <= 0:
		return bad("no calibration data: pass --calib DIR, --calib-npy DIR or --synthetic N (or --float)")
	case c.calibCount < 0 || c.synthetic < 0 || c.threads < 0 || c.evalCount < 0:
		return bad("--calib-count, --synthetic, --eval-count and --threads must not be negative")
	}
	if _, err := ptq.ParseQDQTypes(c.qdqTypes); err != nil {
		return bad("--qdq-types: %v", err)
	}
	if err := c.img.check(); err != nil {
		return bad("%v", err)
	}
	if !strings.EqualFold(strings.TrimSpace(c.method), "minmax") {
		if _, err := newObserver(c.method); err != nil {
			return bad("--method: %v", err)
		}
	}
	return c, nil
}
