package ptq

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// probe is a copy of a graph with extra values exposed as outputs, so a
// run can read them.
//
// A value of rank ≥ 3 is exposed through a Transpose that moves the
// channel axis last (NCHW → NHWC). The runtime keeps such activations
// channels-last, so that transpose is a view of the bytes the kernels
// wrote and reading the value costs nothing; exposing the value itself
// would add a layout conversion (a full strided copy) per value and run.
// Observers and error sums depend only on the values, not on their order,
// and the float and int8 probes expose a value in the same order.
type probe struct {
	g *ir.Graph
	// index maps each graph output's name to its output index; exposed
	// maps each exposed value's name to the output index holding its
	// values (channels last for rank ≥ 3).
	index, exposed map[string]int
}

// probeSuffix names the channels-last view of an exposed value.
const probeSuffix = "/ptq_nhwc"

// newProbe exposes extra (in that order, after the graph's own outputs);
// the values named in logical are exposed in their logical order.
func newProbe(g *ir.Graph, extra []*ir.ValueInfo, logical map[string]bool) *probe {
	p := &probe{g: g.Clone(), index: map[string]int{}, exposed: map[string]int{}}
	if p.g.ValueInfo == nil {
		p.g.ValueInfo = map[string]*ir.ValueInfo{}
	}
	for i, o := range p.g.Outputs {
		p.index[o.Name] = i
	}
	for _, v := range extra {
		if _, ok := p.exposed[v.Name]; ok {
			continue
		}
		if r := len(v.Shape); r >= 3 && !logical[v.Name] {
			perm := make([]int64, 0, r)
			perm = append(perm, 0)
			for d := 2; d < r; d++ {
				perm = append(perm, int64(d))
			}
			perm = append(perm, 1)
			vv := &ir.ValueInfo{Name: v.Name + probeSuffix, DType: v.DType, Quant: v.Quant, Shape: make([]int, r)}
			for d, q := range perm {
				vv.Shape[d] = v.Shape[q]
			}
			n := &ir.Node{Name: vv.Name, Op: "Transpose", Inputs: []string{v.Name}, Outputs: []string{vv.Name}}
			n.SetInts("perm", perm...)
			p.g.Nodes = append(p.g.Nodes, n)
			p.g.ValueInfo[vv.Name] = vv
			p.exposed[v.Name] = len(p.g.Outputs)
			p.g.Outputs = append(p.g.Outputs, vv)
			continue
		}
		if i, ok := p.index[v.Name]; ok {
			p.exposed[v.Name] = i
			continue
		}
		p.exposed[v.Name] = len(p.g.Outputs)
		vv := *v
		vv.Shape = append([]int(nil), v.Shape...)
		p.g.Outputs = append(p.g.Outputs, &vv)
	}
	return p
}

// modelPool hands out prepared single-threaded models of one probe graph
// to the workers of successive stages, so that calibration and evaluation
// prepare the float model (pack its weights, allocate its arena) once per
// worker, not once per worker and stage.
type modelPool struct {
	p    *probe
	mu   sync.Mutex
	free []*runtime.Model
}

func newModelPool(p *probe) *modelPool { return &modelPool{p: p} }

// get returns an idle model, or prepares a new one.
func (mp *modelPool) get() (*runtime.Model, error) {
	mp.mu.Lock()
	if k := len(mp.free); k > 0 {
		m := mp.free[k-1]
		mp.free = mp.free[:k-1]
		mp.mu.Unlock()
		return m, nil
	}
	mp.mu.Unlock()
	return runtime.New(mp.p.g, runtime.Options{Threads: 1})
}

// put returns a model for later stages.
func (mp *modelPool) put(m *runtime.Model) {
	mp.mu.Lock()
	mp.free = append(mp.free, m)
	mp.mu.Unlock()
}

// close closes the idle models.
func (mp *modelPool) close() {
	mp.mu.Lock()
	defer mp.mu.Unlock()
	for _, m := range mp.free {
		m.Close()
	}
	mp.free = nil
}

// maxCachedSamples bounds the memory sampleCache keeps samples in (a
// variable for tests).
var maxCachedSamples = 256 << 20

// sampleCache is the calibration set that keeps a copy of the samples the
// evaluation will read again (evalIndices), so that each is loaded — an
// image decoded and resized — once; without the room for them
// (maxCachedSamples) it keeps none and the evaluation loads them again.
type sampleCache struct {
	Calibrator
	idx  []int       // the evaluation's sample j is calibration sample idx[j]
	slot map[int]int // calibration sample → j
	mu   sync.Mutex
	data [][][]float32
}

func newSampleCache(calib Calibrator, idx []int, fg *ir.Graph) *sampleCache {
	c := &sampleCache{Calibrator: calib, idx: idx, data: make([][][]float32, len(idx))}
	size := 0
	for _, in := range fg.Inputs {
		size += 4 * max(ir.NumElements(in.Shape), 0)
	}
	if size*len(idx) <= maxCachedSamples {
		c.slot = make(map[int]int, len(idx))
		for j, i := range idx {
			c.slot[i] = j
		}
	}
	return c
}

// Sample implements Calibrator, keeping a copy of the evaluation's samples.
func (c *sampleCache) Sample(i int, in [][]float32) error {
	if err := c.Calibrator.Sample(i, in); err != nil {
		return err
	}
	if j, ok := c.slot[i]; ok {
		cp := make([][]float32, len(in))
		for k, x := range in {
			cp[k] = append([]float32(nil), x...)
		}
		c.mu.Lock()
		c.data[j] = cp
		c.mu.Unlock()
	}
	return nil
}

// evalSet is the evaluation's calibrator: sample j is calibration sample
// idx[j], copied from the cache when it is there.
func (c *sampleCache) evalSet() Calibrator {
	return CalibratorFunc(len(c.idx), func(j int, in [][]float32) error {
		c.mu.Lock()
		cp := c.data[j]
		c.mu.Unlock()
		if cp == nil || len(cp) != len(in) {
			return c.Calibrator.Sample(c.idx[j], in)
		}
		for k := range in {
			if len(cp[k]) != len(in[k]) {
				return c.Calibrator.Sample(c.idx[j], in)
			}
		}
		for k := range in {
			copy(in[k], cp[k])
		}
		return nil
	})
}

// floatValues lists the float activations of fg that calibration observes:
// the graph inputs and every float node output, in graph order.
func floatValues(fg *ir.Graph) (inputs []string, outputs []*ir.ValueInfo) {
	for _, in := range fg.Inputs {
		if in.DType == ir.Float32 {
			inputs = append(inputs, in.Name)
		}
	}
	for _, n := range fg.Nodes {
		for _, o := range n.Outputs {
			if vi := fg.ValueInfo[o]; o != "" && vi != nil && vi.DType == ir.Float32 {
				outputs = append(outputs, vi)
			}
		}
	}
	return inputs, outputs
}

// calibrationProbe is fg with every value floatValues lists exposed.
func calibrationProbe(fg *ir.Graph) *probe {
	_, values := floatValues(fg)
	return newProbe(fg, values, nil)
}

// runSamples runs calib's samples on opts.threads() workers. newWorker is
// called once per worker (concurrently) and returns the per-sample body;
// workers take samples in any order. It stops at the first error.
func runSamples(calib Calibrator, opts *Options, stage string, newWorker func(w int) (func(i int) error, func(), error)) error {
	n := calib.Len()
	threads := min(opts.threads(), n)
	var (
		next    atomic.Int64
		failed  atomic.Bool
		mu      sync.Mutex
		done    int
		firstEr error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstEr == nil {
			firstEr = err
		}
		mu.Unlock()
		failed.Store(true)
	}
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			body, closeFn, err := newWorker(w)
			if err != nil {
				fail(err)
				return
			}
			defer closeFn()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := body(i); err != nil {
					fail(fmt.Errorf("%s sample %d: %w", stage, i, err))
					return
				}
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(stage, done, n)
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	return firstEr
}

// inputSlices returns the float storage of m's inputs, checking they are
// float32 (the calibrator writes floats).
func inputSlices(m *runtime.Model) ([][]float32, error) {
	in := make([][]float32, m.NumInputs())
	for k := range in {
		info := m.InputInfo(k)
		if info.DType != ir.Float32 {
			return nil, fmt.Errorf("input %q is %s; calibration needs float32 inputs", info.Name, info.DType)
		}
		in[k] = m.Input(k)
	}
	return in, nil
}

// calibrate runs the float graph over the calibration set and returns one
// merged observer per float value. Each worker has its own model and its
// own observers, merged in worker order at the end; the observers merge
// exactly, so the result does not depend on the thread count. models is
// newModelPool(calibrationProbe(fg)); the workers' models go back into it.
func calibrate(fg *ir.Graph, calib Calibrator, proto quant.Observer, opts *Options, models *modelPool) (map[string]quant.Observer, error) {
	inputs, values := floatValues(fg)
	p := models.p
	threads := min(opts.threads(), calib.Len())
	perWorker := make([]map[string]quant.Observer, threads)
	err := runSamples(calib, opts, "calibrate", func(w int) (func(int) error, func(), error) {
		m, err := models.get()
		if err != nil {
			return nil, nil, fmt.Errorf("prepare float model: %w", err)
		}
		in, err := inputSlices(m)
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		obs := map[string]quant.Observer{}
		for _, name := range inputs {
			obs[name] = proto.New()
		}
		for _, v := range values {
			obs[v.Name] = proto.New()
		}
		perWorker[w] = obs
		inIdx := make([]int, len(inputs))
		for k, name := range inputs {
			inIdx[k] = -1
			for j := range in {
				if m.InputInfo(j).Name == name {
					inIdx[k] = j
				}
			}
		}
		body := func(i int) error {
			if err := calib.Sample(i, in); err != nil {
				return err
			}
			for k, name := range inputs {
				if inIdx[k] >= 0 {
					obs[name].Observe(in[inIdx[k]])
				}
			}
			if err := m.Run(); err != nil {
				return err
			}
			for _, v := range values {
				obs[v.Name].Observe(m.Output(p.exposed[v.Name]))
			}
			return nil
		}
		return body, func() { models.put(m) }, nil
	})
	if err != nil {
		return nil, err
	}
	merged := map[string]quant.Observer{}
	for _, obs := range perWorker {
		for name, o := range obs {
			if merged[name] == nil {
				merged[name] = proto.New()
			}
			if err := merged[name].Merge(o); err != nil {
				return nil, err
			}
		}
	}
	return merged, nil
}
