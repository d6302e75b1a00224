package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/edgeinfer/edgeinfer/actions"
	"github.com/edgeinfer/edgeinfer/boards"
	"github.com/edgeinfer/edgeinfer/camera"
	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// streamFlags are the run command's flags for frame streams (a camera or
// standard input) and for the actions predictions trigger.
type streamFlags struct {
	camera, cameraSize, cameraFormat string
	fps                              int
	stdin                            string
	frames, every                    int
	strict                           bool
	yuvRange, yuvMatrix              string
	timeout, stdinTimeout            time.Duration
	maxJPEG                          int

	on, gpio, exec string
	dryRun         bool
}

const streamArgs = " [--camera /dev/videoN [--camera-size WxH] [--fps N] [--camera-format yuyv|mjpeg] | --stdin yuv420:WxH|yuyv:WxH|mjpeg] [--frames N] [--every N] [--strict] [--on 'LABEL>=SCORE' (--gpio PIN | --exec CMD) [--dry-run]]"

func addStreamFlags(fs *flag.FlagSet) *streamFlags {
	s := &streamFlags{}
	fs.StringVar(&s.camera, "camera", "", "classify frames from this V4L2 capture `device` (/dev/video0) until --frames, SIGINT or SIGTERM")
	fs.StringVar(&s.cameraSize, "camera-size", "640x480", "capture size `WxH` (the driver picks the nearest it supports)")
	fs.IntVar(&s.fps, "fps", 0, "capture frame rate (0: the driver's default)")
	fs.StringVar(&s.cameraFormat, "camera-format", "", "capture pixel format: yuyv or mjpeg (default: yuyv when offered)")
	fs.StringVar(&s.stdin, "stdin", "", "classify frames read from standard input: yuv420:WxH (raw I420, as rpicam-vid --codec yuv420 -o - writes), yuyv:WxH, or mjpeg (concatenated JPEGs)")
	fs.IntVar(&s.frames, "frames", 0, "stop after `N` frames (0: until the stream ends or a signal)")
	fs.IntVar(&s.every, "every", 1, "print every `N`th prediction (actions still see every frame)")
	fs.BoolVar(&s.strict, "strict", false, "end with an error on the first bad or truncated frame instead of reporting and skipping it")
	fs.StringVar(&s.yuvRange, "yuv-range", "", "YUV quantisation of raw frames: limited or full (default: what the camera reports; limited for --stdin)")
	fs.StringVar(&s.yuvMatrix, "yuv-matrix", "", "YUV colour matrix of raw frames: bt601 or bt709 (default: what the camera reports; bt601 for --stdin)")
	fs.DurationVar(&s.timeout, "camera-timeout", 2*time.Second, "give up when the camera delivers no frame for this long")
	fs.DurationVar(&s.stdinTimeout, "stdin-timeout", 0, "with --stdin from a pipe, end with an error when no complete frame arrives for this long (0: wait for ever)")
	fs.IntVar(&s.maxJPEG, "max-jpeg", camera.DefaultMaxJPEG, "largest JPEG frame accepted in an MJPEG stream, in bytes")
	fs.StringVar(&s.on, "on", "", "action condition `CLASS>=SCORE` (>, <=, < too; CLASS a label or output index), evaluated on every frame")
	fs.StringVar(&s.gpio, "gpio", "", "drive this output `pin` high while --on holds, low otherwise: GPIO17, or a character-device line gpiochip0:17")
	fs.StringVar(&s.exec, "exec", "", "run this shell `command` on each rising edge of --on (one at a time; EDGEINFER_CLASS, _SCORE, _FRAME, _TIME in its environment)")
	fs.BoolVar(&s.dryRun, "dry-run", false, "print the --gpio transitions (and --exec commands) instead of driving the pin (running them)")
	return s
}

// active reports whether the run reads a frame stream.
func (s *streamFlags) active() bool { return s.camera != "" || s.stdin != "" }

// check validates the flags before the model is loaded.
func (s *streamFlags) check() error {
	if s.camera != "" && s.stdin != "" {
		return errors.New("--camera and --stdin: choose one frame source")
	}
	if s.frames < 0 {
		return fmt.Errorf("--frames %d: must not be negative", s.frames)
	}
	if s.every < 1 {
		return fmt.Errorf("--every %d: must be at least 1", s.every)
	}
	if s.fps < 0 {
		return fmt.Errorf("--fps %d: must not be negative", s.fps)
	}
	if s.stdinTimeout < 0 {
		return fmt.Errorf("--stdin-timeout %v: must not be negative", s.stdinTimeout)
	}
	if s.on == "" && (s.gpio != "" || s.exec != "") {
		return errors.New("--gpio and --exec need a condition: --on 'LABEL>=SCORE'")
	}
	if s.on != "" && s.gpio == "" && s.exec == "" && !s.dryRun {
		return errors.New("--on needs an action: --gpio PIN, --exec CMD, or --dry-run to print the transitions")
	}
	if s.on != "" && !s.active() {
		return errors.New("--on acts on a frame stream: add --camera or --stdin")
	}
	if s.stdin != "" {
		if _, err := camera.ParseStreamFormat(s.stdin); err != nil {
			return fmt.Errorf("--stdin: %w", err)
		}
	}
	if _, _, _, err := s.yuv(); err != nil {
		return err
	}
	if s.gpio != "" {
		if _, err := actions.ParsePinSpec(s.gpio); err != nil {
			return fmt.Errorf("--gpio: %w", err)
		}
	}
	return nil
}

// yuv parses --yuv-range and --yuv-matrix; set reports that either was
// given.
func (s *streamFlags) yuv() (r input.YUVRange, m input.YUVMatrix, set bool, err error) {
	switch strings.ToLower(s.yuvRange) {
	case "":
	case "limited", "tv", "video":
		r, set = input.LimitedRange, true
	case "full", "pc", "jpeg":
		r, set = input.FullRange, true
	default:
		return r, m, false, fmt.Errorf("--yuv-range %q: want limited or full", s.yuvRange)
	}
	switch strings.ToLower(strings.ReplaceAll(s.yuvMatrix, ".", "")) {
	case "":
	case "bt601", "601", "smpte170m":
		m, set = input.BT601, true
	case "bt709", "709", "rec709":
		m, set = input.BT709, true
	default:
		return r, m, false, fmt.Errorf("--yuv-matrix %q: want bt601 or bt709", s.yuvMatrix)
	}
	return r, m, set, nil
}

// streamRun is one streaming run: the model, its preprocessing, the
// source and the reporting.
type streamRun struct {
	sf         *streamFlags
	model      string
	m          *runtime.Model
	f          *feeder
	labels     []string
	labelsFile string
	top        int
	asJSON     bool
	stdout     io.Writer
	stderr     io.Writer

	ranker ranker
	stats  latencyStats
	ctl    *actions.Controller
}

// frameResult is the --json line of one frame.
type frameResult struct {
	Frame        int          `json:"frame"`
	Sequence     uint32       `json:"sequence"`
	Timestamp    string       `json:"timestamp"`
	LatencyMS    float64      `json:"latency_ms"`
	PreprocessMS float64      `json:"preprocess_ms"`
	Top          []class      `json:"top"`
	Softmax      bool         `json:"softmax"`
	Action       *actionState `json:"action,omitempty"`
}

type actionState struct {
	Condition string  `json:"condition"`
	Score     float64 `json:"score"`
	High      bool    `json:"high"`
	Edge      string  `json:"edge,omitempty"`
}

// runStream classifies the frames of a camera or of stdin until the
// stream ends, --frames is reached or SIGINT/SIGTERM arrives, then prints
// the latency statistics. The camera is released and the GPIO pin driven
// low on every way out.
func runStream(sr *streamRun, stdin io.Reader) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return sr.run(ctx, stdin)
}

func (sr *streamRun) run(ctx context.Context, stdin io.Reader) (err error) {
	sf := sr.sf
	m := sr.m
	if m.NumInputs() != 1 {
		return fmt.Errorf("model %s has %d inputs (%s): a frame stream feeds one image input", sr.model, m.NumInputs(), inputNames(m))
	}
	what := "camera frames"
	if sf.stdin != "" {
		what = "--stdin frames"
	}
	pre, err := sr.f.preprocessor(0, what)
	if err != nil {
		return err
	}
	if sr.labels != nil && m.NumOutputs() > 0 && m.OutputInfo(0).DType == ir.Float32 {
		if _, warn := topK(make([]float64, len(m.Output(0))), 1, sr.labels); warn != "" {
			fmt.Fprintf(sr.stderr, "edgeinfer run: warning: labels %s: %s\n", sr.labelsFile, warn)
		}
	}
	conv := camera.NewConverter(pre)
	yr, ym, yset, _ := sf.yuv()
	if yset && sf.camera != "" {
		conv.ForceYUV, conv.Range, conv.Matrix = true, yr, ym
	}

	// Actions first: a bad condition or pin fails before the camera opens.
	if sf.on != "" {
		if sr.ctl, err = sr.actions(); err != nil {
			return err
		}
		defer func() {
			if cerr := sr.ctl.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("actions: %w", cerr)
			}
		}()
	}

	var src camera.Source
	// stall arms the --stdin-timeout deadline before each frame; it is a
	// no-op for a camera (which has its own) and for readers without
	// deadlines.
	stall := func() {}
	switch {
	case sf.camera != "":
		cfg := camera.Config{FPS: sf.fps, Timeout: sf.timeout}
		if sf.cameraSize != "" {
			if cfg.Width, cfg.Height, err = parseSize(sf.cameraSize); err != nil {
				return fmt.Errorf("--camera-size: %w", err)
			}
		}
		switch strings.ToLower(sf.cameraFormat) {
		case "":
		case "yuyv", "yuy2":
			cfg.Format = camera.YUYV
		case "mjpeg", "mjpg", "jpeg":
			cfg.Format = camera.MJPEG
		default:
			return fmt.Errorf("--camera-format %q: want yuyv or mjpeg", sf.cameraFormat)
		}
		dev, err := camera.Open(sf.camera, cfg)
		if err != nil {
			return err
		}
		src = dev
		info, mode := dev.Info(), dev.Mode()
		if !sr.asJSON {
			fmt.Fprintf(sr.stdout, "camera   %s: %s (%s), %v %dx%d, %.3g fps\n", sf.camera, info.Card, info.Driver, mode.Format, mode.Width, mode.Height, mode.FPS)
		} else {
			fmt.Fprintf(sr.stderr, "edgeinfer run: camera %s: %s (%s), %v %dx%d, %.3g fps\n", sf.camera, info.Card, info.Driver, mode.Format, mode.Width, mode.Height, mode.FPS)
		}
	default:
		format, _ := camera.ParseStreamFormat(sf.stdin)
		r, restore := interruptible(ctx, stdin)
		defer restore()
		if f, ok := r.(*os.File); ok && sf.stdinTimeout > 0 {
			stall = func() {
				_ = f.SetReadDeadline(time.Now().Add(sf.stdinTimeout))
				if ctx.Err() != nil {
					// Cancelled while arming: the cancellation's own
					// deadline may have been overwritten.
					_ = f.SetReadDeadline(time.Now())
				}
			}
		}
		if format.Format == camera.MJPEG {
			src = camera.NewMJPEGStream(r, sf.maxJPEG)
		} else if src, err = camera.NewStream(r, format, yr, ym); err != nil {
			return err
		}
	}
	defer func() {
		if cerr := src.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	if !sr.asJSON {
		st := m.Stats()
		fmt.Fprintf(sr.stdout, "model    %s: %s params, %s MACs, %d threads; input %v\n",
			sr.model, fmtCount(st.Params), fmtCount(st.MACs), m.Threads(), m.InputInfo(0).Shape)
	}
	enc := json.NewEncoder(sr.stdout)
	enc.SetEscapeHTML(false) // conditions contain > and <
	start := time.Now()
	lastThermal := start
	var bad, truncated int
	var truncErr error
	dst := m.Input(0)
	n := 0
	for sf.frames == 0 || n < sf.frames {
		stall()
		f, err := src.Next(ctx)
		if ctx.Err() != nil {
			break // SIGINT/SIGTERM: a clean stop
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			sr.summary(start, n, bad, truncated)
			return fmt.Errorf("--stdin: no complete frame within %v (--stdin-timeout): the producer stalled", sf.stdinTimeout)
		}
		if err == io.EOF {
			break
		}
		if err == nil {
			t0 := time.Now()
			err = conv.Convert(f, dst)
			if err == nil {
				t1 := time.Now()
				if err = m.Run(); err != nil {
					return fmt.Errorf("frame %d: %w", f.Index, err)
				}
				t2 := time.Now()
				sr.stats.add(t1.Sub(t0), t2.Sub(t1))
				if err := sr.report(enc, f, t1.Sub(t0), t2.Sub(t1), n); err != nil {
					return err
				}
				n++
				if time.Since(lastThermal) > 30*time.Second {
					lastThermal = time.Now()
					warnThermal(sr.stderr)
				}
				continue
			}
		}
		fe, ok := camera.IsFrameError(err)
		if !ok {
			sr.summary(start, n, bad, truncated)
			return err
		}
		if fe.Truncated {
			truncated++
			truncErr = fe
			break
		}
		bad++
		if sf.strict {
			sr.summary(start, n, bad, truncated)
			return fmt.Errorf("%w (--strict)", fe)
		}
		fmt.Fprintf(sr.stderr, "edgeinfer run: %v\n", fe)
	}
	sr.summary(start, n, bad, truncated)
	if truncErr != nil {
		if sf.strict {
			return fmt.Errorf("%w (--strict)", truncErr)
		}
		fmt.Fprintf(sr.stderr, "edgeinfer run: warning: %v; the frames before it were classified (--strict makes this an error)\n", truncErr)
	}
	return nil
}

// actions builds the controller for --on with --gpio, --exec, --dry-run.
func (sr *streamRun) actions() (*actions.Controller, error) {
	sf := sr.sf
	cond, err := actions.ParseCondition(sf.on)
	if err != nil {
		return nil, fmt.Errorf("--on: %w", err)
	}
	if sr.m.NumOutputs() == 0 || sr.m.OutputInfo(0).DType != ir.Float32 {
		return nil, fmt.Errorf("--on: output 0 of %s is not a float32 score vector", sr.model)
	}
	classes := len(sr.m.Output(0))
	offset := 0
	if len(sr.labels) == classes+1 && strings.EqualFold(strings.TrimSpace(sr.labels[0]), "background") {
		offset = 1
	}
	if err := cond.Bind(sr.labels, classes, offset); err != nil {
		return nil, fmt.Errorf("--on: %w", err)
	}
	var outs []actions.Output
	if sf.gpio != "" {
		if sf.dryRun {
			outs = append(outs, actions.NewDryRun(sr.stderr, sf.gpio))
		} else {
			pin, err := actions.OpenPin(sf.gpio)
			if err != nil {
				return nil, fmt.Errorf("--gpio: %w", err)
			}
			g, err := actions.NewGPIO(pin, sf.gpio)
			if err != nil {
				return nil, fmt.Errorf("--gpio: %w", err)
			}
			outs = append(outs, g)
		}
	}
	if sf.exec != "" {
		if sf.dryRun {
			outs = append(outs, &dryExec{w: sr.stderr, cmd: sf.exec})
		} else {
			outs = append(outs, &actions.Exec{Command: sf.exec, Stdout: sr.stderr, Stderr: sr.stderr,
				OnExit: func(err error) {
					if err != nil {
						fmt.Fprintf(sr.stderr, "edgeinfer run: --exec %q: %v\n", sf.exec, err)
					}
				}})
		}
	}
	if sf.gpio == "" && sf.exec == "" {
		outs = append(outs, actions.NewDryRun(sr.stderr, "condition"))
	}
	return actions.NewController(cond, outs...), nil
}

// dryExec prints the command --exec would run.
type dryExec struct {
	w   io.Writer
	cmd string
}

func (d *dryExec) String() string { return "dry-run exec" }
func (d *dryExec) Close() error   { return nil }
func (d *dryExec) Edge(ev actions.Event) error {
	if ev.Edge != actions.Rising {
		return nil
	}
	_, err := fmt.Fprintf(d.w, "dry-run: frame %d: would run %q (EDGEINFER_CLASS=%s EDGEINFER_SCORE=%.4f)\n", ev.Frame, d.cmd, ev.Cond.Class, ev.Score)
	return err
}

// report handles one classified frame: actions on every frame, output on
// every --every-th.
func (sr *streamRun) report(enc *json.Encoder, f *camera.Frame, pre, inf time.Duration, n int) error {
	var scores []float64
	softmax := false
	out := sr.m.NumOutputs() > 0 && sr.m.OutputInfo(0).DType == ir.Float32
	if out {
		scores, softmax = sr.ranker.probabilities(sr.m.Output(0))
	}
	var act *actionState
	if sr.ctl != nil {
		edge, err := sr.ctl.Update(f.Index, f.Time, scores)
		if err != nil {
			fmt.Fprintf(sr.stderr, "edgeinfer run: frame %d: action: %v\n", f.Index, err)
		}
		c := sr.ctl.Condition()
		_, s := c.Eval(scores)
		act = &actionState{Condition: c.String(), Score: s, High: sr.ctl.High()}
		if math.IsNaN(act.Score) {
			act.Score = 0
		}
		if edge != actions.NoEdge {
			act.Edge = edge.String()
		}
	}
	if n%sr.sf.every != 0 {
		return nil
	}
	var top []class
	if out && sr.top > 0 {
		top = sr.ranker.topK(scores, sr.top, sr.labels)
	}
	if sr.asJSON {
		r := frameResult{Frame: f.Index, Sequence: f.Sequence, Timestamp: f.Time.UTC().Format(time.RFC3339Nano),
			LatencyMS: ms(inf), PreprocessMS: ms(pre), Top: top, Softmax: softmax, Action: act}
		if r.Top == nil {
			r.Top = []class{}
		}
		return enc.Encode(r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "frame %-6d %s  %7.2f ms (pre %.2f ms)", f.Index, f.Time.Format("15:04:05.000"), ms(inf), ms(pre))
	for i, c := range top {
		sep := "  "
		if i > 0 {
			sep = " | "
		}
		name := c.Label
		if name == "" {
			name = fmt.Sprint(c.Index)
		}
		fmt.Fprintf(&b, "%s%s %.3f", sep, name, c.Score)
	}
	if act != nil {
		state := "low"
		if act.High {
			state = "HIGH"
		}
		fmt.Fprintf(&b, "  [%s %.3f %s]", act.Condition, act.Score, state)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(sr.stdout, b.String())
	return err
}

// summary prints the latency statistics: to stdout, or to stderr with
// --json so that stdout stays one JSON object per line.
func (sr *streamRun) summary(start time.Time, n, bad, truncated int) {
	w := sr.stdout
	if sr.asJSON {
		w = sr.stderr
	}
	wall := time.Since(start)
	fps := 0.0
	if wall > 0 {
		fps = float64(n) / wall.Seconds()
	}
	extra := ""
	if bad > 0 || truncated > 0 {
		extra = fmt.Sprintf(" (%d bad, %d truncated skipped)", bad, truncated)
	}
	fmt.Fprintf(w, "frames   %d classified%s in %.2f s: %.2f fps\n", n, extra, wall.Seconds(), fps)
	if n == 0 {
		return
	}
	s := &sr.stats
	inf, pre := s.summaries()
	fmt.Fprintf(w, "latency  inference min %.2f ms, median %.2f ms, p90 %.2f ms, mean %.2f ms\n", inf.min, inf.median, inf.p90, inf.mean)
	fmt.Fprintf(w, "         preprocessing min %.2f ms, median %.2f ms, p90 %.2f ms, mean %.2f ms", pre.min, pre.median, pre.p90, pre.mean)
	if s.count > len(s.inf) {
		fmt.Fprintf(w, " (median and p90 over the last %d frames)", len(s.inf))
	}
	fmt.Fprintln(w)
}

// latencyStats keeps running min/mean over all frames and a window of the
// latest frames for the median and p90, so a service running for weeks
// does not grow.
type latencyStats struct {
	count          int
	next           int
	inf, pre       []time.Duration // ring buffers
	minInf, minPre time.Duration
	sumInf, sumPre time.Duration
}

const statsWindow = 10000

func (s *latencyStats) add(pre, inf time.Duration) {
	if s.count == 0 || inf < s.minInf {
		s.minInf = inf
	}
	if s.count == 0 || pre < s.minPre {
		s.minPre = pre
	}
	s.sumInf += inf
	s.sumPre += pre
	s.count++
	if len(s.inf) < statsWindow {
		s.inf = append(s.inf, inf)
		s.pre = append(s.pre, pre)
		return
	}
	s.inf[s.next], s.pre[s.next] = inf, pre
	s.next = (s.next + 1) % statsWindow
}

type latencySummary struct{ min, median, p90, mean float64 }

// summaries returns the inference and preprocessing statistics.
func (s *latencyStats) summaries() (inf, pre latencySummary) {
	window := func(w []time.Duration, lo, sum time.Duration) latencySummary {
		sorted := slices.Clone(w)
		slices.Sort(sorted)
		return latencySummary{min: ms(lo), median: ms(median(sorted)),
			p90: ms(sorted[min(len(sorted)-1, (len(sorted)*9+9)/10-1)]), mean: ms(sum) / float64(s.count)}
	}
	return window(s.inf, s.minInf, s.sumInf), window(s.pre, s.minPre, s.sumPre)
}

// ranker computes class scores and the top K without allocating per
// frame (the label strings are shared).
type ranker struct {
	scores []float64
	idx    []int
	top    []class
}

// probabilities is probabilities() into a reused buffer.
func (r *ranker) probabilities(out []float32) ([]float64, bool) {
	if cap(r.scores) < len(out) {
		r.scores = make([]float64, len(out))
	}
	s := r.scores[:len(out)]
	sum, isProb, mx := 0.0, true, math.Inf(-1)
	for i, v := range out {
		x := float64(v)
		s[i] = x
		sum += x
		mx = math.Max(mx, x)
		if !(x >= -1e-6 && x <= 1+1e-6) {
			isProb = false
		}
	}
	if isProb && math.Abs(sum-1) <= 1e-3 {
		return s, false
	}
	sum = 0
	for i, x := range s {
		e := math.Exp(x - mx)
		s[i] = e
		sum += e
	}
	for i := range s {
		s[i] /= sum
	}
	return s, true
}

// topK is topK() by selection, best first, ties by lower index.
func (r *ranker) topK(scores []float64, k int, labels []string) []class {
	k = min(k, len(scores))
	r.idx = r.idx[:0]
	r.top = r.top[:0]
	if k <= 0 {
		return r.top
	}
	better := func(a, b int) bool {
		sa, sb := scores[a], scores[b]
		if math.IsNaN(sb) {
			return !math.IsNaN(sa) || a < b
		}
		return sa > sb || (sa == sb && a < b)
	}
	for i := range scores {
		if len(r.idx) < k {
			r.idx = append(r.idx, i)
		} else if better(i, r.idx[k-1]) {
			r.idx[k-1] = i
		} else {
			continue
		}
		for j := len(r.idx) - 1; j > 0 && better(r.idx[j], r.idx[j-1]); j-- {
			r.idx[j], r.idx[j-1] = r.idx[j-1], r.idx[j]
		}
	}
	offset := 0
	if len(labels) == len(scores)+1 && strings.EqualFold(strings.TrimSpace(labels[0]), "background") {
		offset = 1
	}
	r.top = r.top[:0]
	for _, i := range r.idx {
		c := class{Index: i, Score: scores[i]}
		if j := i + offset; j < len(labels) {
			c.Label = labels[j]
		}
		r.top = append(r.top, c)
	}
	return r.top
}

// interruptible returns stdin in a form whose blocked Read ends when ctx
// is done: a pipe is switched to non-blocking mode and read through Go's
// poller with a deadline set on cancellation. Other readers are returned
// as they are (a terminal stays blocking; tests pass plain readers).
// restore undoes the change.
func interruptible(ctx context.Context, r io.Reader) (io.Reader, func()) {
	f, ok := r.(*os.File)
	if !ok {
		return r, func() {}
	}
	if f.SetReadDeadline(time.Time{}) == nil {
		// Already read through the poller (os.Pipe, a non-blocking fd).
		stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
		return f, func() { stop(); _ = f.SetReadDeadline(time.Time{}) }
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return r, func() {}
	}
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		return r, func() {}
	}
	pf := os.NewFile(uintptr(fd), f.Name()) // non-blocking: registered with the poller
	stop := context.AfterFunc(ctx, func() { _ = pf.SetReadDeadline(time.Now()) })
	return pf, func() {
		stop()
		_ = syscall.SetNonblock(fd, false)
	}
}

// warnThermal prints the board's thermal warnings: a hot or throttled SoC
// makes latency figures meaningless.
func warnThermal(w io.Writer) {
	d := boards.Detect()
	for _, msg := range boards.ReadThermal(d.Profile).Warnings() {
		fmt.Fprintf(w, "edgeinfer run: warning: %s\n", msg)
	}
}

// expandInputs expands --input values: a directory stands for the model
// input files in it (images, .npy, .pb; sorted), a pattern with * ? or [
// that names no file for its matches. Other values are kept as they are,
// so a missing file is reported by name later.
func expandInputs(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("--input %s: %w", p, err)
			}
			var files []string
			for _, e := range entries {
				name := e.Name()
				ext := strings.ToLower(filepath.Ext(name))
				if !e.IsDir() && !strings.HasPrefix(name, ".") && (input.IsImageFile(name) || ext == ".npy" || ext == ".pb") {
					files = append(files, filepath.Join(p, name))
				}
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("--input %s: a directory with no images (.jpg .jpeg .png .bmp), .npy or .pb files", p)
			}
			sort.Strings(files)
			out = append(out, files...)
		case err != nil && strings.ContainsAny(p, "*?["):
			matches, gerr := filepath.Glob(p)
			if gerr != nil {
				return nil, fmt.Errorf("--input %s: %w", p, gerr)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("--input %s: no files match", p)
			}
			sort.Strings(matches)
			out = append(out, matches...)
		default:
			out = append(out, p)
		}
	}
	return out, nil
}
