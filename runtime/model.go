// Package runtime prepares an ir.Graph for execution — graph passes, NHWC
// (channels-last) layout assignment, lowering to kernels with pre-packed
// weights, a static memory plan — and runs it without heap allocation.
//
//	m, err := runtime.New(g, runtime.Options{Threads: 2})
//	copy(m.Input(0), pixels) // NCHW, as the graph declares
//	err = m.Run()
//	logits := m.Output(0)
package runtime

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime/passes"
)

// Options configure New.
type Options struct {
	// Threads is the worker count (≤ 0 means 1). Results are identical
	// for every value.
	Threads int
	// StopAfterPass runs only the first N graph passes when > 0: a debug
	// switch for finding which rewrite broke a model.
	StopAfterPass int
	// MaxArenaBytes refuses a model whose activation arena (the memory
	// plan's peak) would exceed it; 0 means DefaultMaxArenaBytes. A
	// hostile or broken file is refused before the allocation.
	MaxArenaBytes int
}

// DefaultMaxArenaBytes is the activation-arena limit when
// Options.MaxArenaBytes is 0: 100× what VGG-16 needs at batch 1, and more
// than a Raspberry Pi has. On 32-bit builds (armv7) it is 1 GiB, half the
// address space, as 2 GiB does not fit in an int there.
const DefaultMaxArenaBytes = min(2<<30, math.MaxInt/2+1)

// TensorInfo describes a model input or output.
type TensorInfo struct {
	Name  string
	DType ir.DType
	Shape []int
}

// Stats summarises a prepared model.
type Stats struct {
	Params     int64 // weight elements (after BN folding)
	MACs       int64 // multiply-accumulates of conv and matmul layers per inference
	ArenaBytes int   // the activation arena of the memory plan
	NaiveBytes int   // what the activations would need without sharing
	Steps      int
	Ops        []ir.OpCount // operator histogram of the optimised graph
	InPlace    int          // concat inputs written in place by their producers
}

// Model is a prepared graph. Run is not safe for concurrent use; prepare
// one Model per goroutine (weights are shared through the graph's tensors).
type Model struct {
	graph   *ir.Graph
	steps   []*step
	values  []*value
	inputs  []*value
	outputs []*value
	arena   []byte
	pool    *pool
	scratch [][]float32
	// scratchBytes is the int8 kernels' per-worker scratch.
	scratchBytes [][]byte
	stats        Stats
}

// step is one kernel invocation of the lowered program.
type step struct {
	op, name string
	inputs   []*value
	outputs  []*value
	macs     int64
	run      func()
}

// New optimises a copy of g and prepares it for execution.
func New(g *ir.Graph, opt Options) (*Model, error) {
	g = g.Clone()
	stop := -1
	if opt.StopAfterPass > 0 {
		stop = opt.StopAfterPass
	}
	if err := passes.Apply(g, passes.Default, stop); err != nil {
		return nil, fmt.Errorf("%s: %w", describeGraph(g), err)
	}
	if stop >= 0 && stop < len(passes.Default) {
		// Later stages need inferred shapes even when rewrites stop early.
		if err := passes.InferAndFold(g); err != nil {
			return nil, fmt.Errorf("%s: %w", describeGraph(g), err)
		}
	}
	m := &Model{graph: g, pool: newPool(opt.Threads)}
	l := newLowering(m, g)
	if err := l.lower(); err != nil {
		m.pool.close()
		return nil, fmt.Errorf("%s: %w", describeGraph(g), err)
	}
	m.stats.ArenaBytes = planMemory(m.values, m.steps)
	limit := opt.MaxArenaBytes
	if limit <= 0 {
		limit = DefaultMaxArenaBytes
	}
	if m.stats.ArenaBytes > limit {
		m.pool.close()
		return nil, fmt.Errorf("%s: the activations need a %d MiB arena, over the %d MiB limit (runtime.Options.MaxArenaBytes)",
			describeGraph(g), m.stats.ArenaBytes>>20, limit>>20)
	}
	m.arena = make([]byte, m.stats.ArenaBytes+arenaAlign)
	// Align the arena base so block offsets are cache-line aligned.
	base := alignUp(int(addrOf(m.arena))) - int(addrOf(m.arena))
	m.arena = m.arena[base : base+m.stats.ArenaBytes]
	for _, v := range m.values {
		v.bindStorage(m.arena)
	}
	m.scratch = make([][]float32, m.pool.threads)
	m.scratchBytes = make([][]byte, m.pool.threads)
	for i := range m.scratch {
		m.scratch[i] = make([]float32, l.scratch)
		m.scratchBytes[i] = make([]byte, l.scratchBytes)
	}
	seen := map[*value]bool{}
	for _, v := range m.values {
		if r := v.root(); r.block != nil && !seen[r] {
			seen[r] = true
			m.stats.NaiveBytes += r.block.size
		}
	}
	for _, s := range m.steps {
		m.stats.MACs += s.macs
	}
	m.stats.Params = g.ParamCount()
	m.stats.Steps = len(m.steps)
	m.stats.Ops = g.OpHistogram()
	m.stats.InPlace = l.inPlace
	return m, nil
}

func describeGraph(g *ir.Graph) string {
	if g.Source != "" {
		return g.Source
	}
	if g.Name != "" {
		return "model " + g.Name
	}
	return "model"
}

// Run executes the model once on the current input contents. It does not
// allocate.
func (m *Model) Run() error {
	for _, s := range m.steps {
		s.run()
	}
	return nil
}

// StepTime is the time one step took in a profiled run.
type StepTime struct {
	Op, Name string
	Shape    []int // output shape
	MACs     int64
	Time     time.Duration
}

// RunProfiled runs once and records each step's duration into prof
// (resized to the step count; reuse it across runs to avoid allocation).
func (m *Model) RunProfiled(prof []StepTime) []StepTime {
	if cap(prof) < len(m.steps) {
		prof = make([]StepTime, len(m.steps))
	}
	prof = prof[:len(m.steps)]
	for i, s := range m.steps {
		t0 := time.Now()
		s.run()
		var shape []int
		if len(s.outputs) > 0 {
			shape = s.outputs[0].shape
		}
		prof[i] = StepTime{Op: s.op, Name: s.name, Shape: shape, MACs: s.macs, Time: time.Since(t0)}
	}
	return prof
}

// NumInputs is the number of graph inputs.
func (m *Model) NumInputs() int { return len(m.inputs) }

// NumOutputs is the number of graph outputs.
func (m *Model) NumOutputs() int { return len(m.outputs) }

// InputInfo describes input i (logical ONNX shape).
func (m *Model) InputInfo(i int) TensorInfo {
	v := m.inputs[i]
	return TensorInfo{Name: v.name, DType: v.dtype, Shape: v.shape}
}

// OutputInfo describes output i.
func (m *Model) OutputInfo(i int) TensorInfo {
	v := m.outputs[i]
	return TensorInfo{Name: v.name, DType: v.dtype, Shape: v.shape}
}

// Input returns the storage of float32 input i in row-major logical order.
// Write the input there before each Run: the memory plan reuses the
// buffer once the input has been consumed.
func (m *Model) Input(i int) []float32 { return m.inputs[i].f32 }

// InputBytes returns the raw storage of input i (for non-float inputs).
func (m *Model) InputBytes(i int) []byte { return m.inputs[i].raw }

// Output returns float32 output i in row-major logical order. The slice
// aliases the arena and is valid until the next Run.
func (m *Model) Output(i int) []float32 { return m.outputs[i].f32 }

// OutputBytes returns the raw storage of output i (int8/uint8 outputs).
func (m *Model) OutputBytes(i int) []byte { return m.outputs[i].raw }

// OutputTensor copies output i into a new tensor of its dtype.
func (m *Model) OutputTensor(i int) *ir.Tensor {
	v := m.outputs[i]
	t := &ir.Tensor{DType: v.dtype, Shape: append([]int{}, v.shape...)}
	if v.konst != nil {
		c := *v.konst
		return &c
	}
	switch v.dtype {
	case ir.Float32:
		t.F32 = append([]float32(nil), v.f32...)
	case ir.Int64:
		t.I64 = append([]int64(nil), v.ints64()...)
	case ir.Int8:
		t.I8 = make([]int8, len(v.raw))
		for i, b := range v.raw {
			t.I8[i] = int8(b)
		}
	case ir.Uint8:
		t.U8 = append([]uint8(nil), v.raw...)
	default:
		return nil
	}
	return t
}

// Stats describes the prepared model.
func (m *Model) Stats() Stats { return m.stats }

// Graph returns the optimised graph the model was lowered from.
func (m *Model) Graph() *ir.Graph { return m.graph }

// Threads is the worker count.
func (m *Model) Threads() int { return m.pool.threads }

// Close stops the worker goroutines.
func (m *Model) Close() { m.pool.close() }

// Layers lists the lowered steps (op, name, output shape, MACs) in
// execution order.
func (m *Model) Layers() []StepTime {
	out := make([]StepTime, len(m.steps))
	for i, s := range m.steps {
		out[i] = StepTime{Op: s.op, Name: s.name, MACs: s.macs}
		if len(s.outputs) > 0 {
			out[i].Shape = s.outputs[0].shape
		}
	}
	return out
}

// OpNames returns the sorted distinct op types of the lowered steps.
func (m *Model) OpNames() []string {
	set := map[string]bool{}
	for _, s := range m.steps {
		set[s.op] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
