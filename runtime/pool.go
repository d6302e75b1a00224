package runtime

import (
	"runtime"
	"sync/atomic"
)

// pool runs index ranges on a fixed set of goroutines. The calling
// goroutine is worker 0 and takes part, so a pool of one thread runs
// everything inline. Work items are claimed from an atomic counter; the
// decomposition into items never depends on the thread count, so results
// are identical for every thread count. Dispatch allocates nothing: the job
// is a field of the pool and the work function is built at prepare time.
//
// A model runs one short job per layer (tens of µs to a few ms), so the
// hand-off is on the critical path of every layer: helpers spin on the job
// generation for a while (poolSpin) after their last job before they park on their
// channel, and the caller spins for the helpers to finish. Parking and
// waking through a channel costs a scheduler round trip per layer
// (measured: int8 ResNet-50's ADDs ran slower on two threads than on one).
type pool struct {
	threads int
	gen     atomic.Uint64 // job generation: bumped to publish a job
	pending atomic.Int32  // helpers that have not finished the current job
	closed  atomic.Bool
	helpers []poolHelper
	job     struct {
		fn   func(worker, i int)
		n    int64
		next atomic.Int64
	}
}

// poolHelper is a helper goroutine's parking state, padded to its own
// cache line so that one helper's flag does not share a line with
// another's.
type poolHelper struct {
	sleeping atomic.Bool
	wake     chan struct{} // one token per park; buffered so a wake never blocks
	_        [48]byte
}

// poolSpin is how many times an idle helper polls for the next job
// before it parks (yielding to other goroutines every 64 polls; about
// 0.2–0.5 ms on a Zen 4): longer than the gap between two layers, short
// enough not to burn a core between frames. A count rather than a clock,
// so that a helper the OS preempted (a loaded machine) does not park at
// once when it runs again: every park can cost the Go runtime a wait
// record (sudog) allocation, which TestSoakInt8MobileNetV2 counts.
const poolSpin = 1 << 17

func newPool(threads int) *pool {
	p := &pool{threads: max(threads, 1)}
	p.helpers = make([]poolHelper, p.threads-1)
	for w := range p.helpers {
		p.helpers[w].wake = make(chan struct{}, 1)
		go p.worker(w + 1)
	}
	return p
}

func (p *pool) worker(w int) {
	h := &p.helpers[w-1]
	var seen uint64 // newPool's generation: a job published before this goroutine runs is still new to it
	for {
		g := p.await(h, seen)
		if p.closed.Load() {
			return
		}
		seen = g
		p.drain(w)
		p.pending.Add(-1)
	}
}

// await returns the first job generation after seen: it polls poolSpin
// times, then parks until parallelFor or close wakes it.
func (p *pool) await(h *poolHelper, seen uint64) uint64 {
	for spins := 1; ; spins++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if spins%64 != 0 {
			continue
		}
		if spins < poolSpin {
			runtime.Gosched()
			continue
		}
		// Park. Whoever clears sleeping (the waker or this helper on
		// seeing a new job first) decides whether a token is in flight.
		h.sleeping.Store(true)
		if g := p.gen.Load(); g != seen {
			if !h.sleeping.CompareAndSwap(true, false) {
				<-h.wake // the waker cleared it and sent a token: take it
			}
			return g
		}
		<-h.wake
		spins = 0
	}
}

// wakeAll wakes every parked helper after a new generation is published.
func (p *pool) wakeAll() {
	for w := range p.helpers {
		h := &p.helpers[w]
		if h.sleeping.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
}

func (p *pool) drain(w int) {
	fn, n := p.job.fn, p.job.n
	for {
		i := p.job.next.Add(1) - 1
		if i >= n {
			return
		}
		fn(w, int(i))
	}
}

// parallelFor calls fn(worker, i) for i in [0, n), spread over the pool.
func (p *pool) parallelFor(n int, fn func(worker, i int)) {
	if p.threads == 1 || n <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	p.job.fn, p.job.n = fn, int64(n)
	p.job.next.Store(0)
	p.pending.Store(int32(len(p.helpers)))
	p.gen.Add(1) // publishes the job fields above to the helpers
	p.wakeAll()
	p.drain(0)
	// The helpers are running (or finishing an item): poll, yielding now
	// and then in case one shares this core.
	for spins := 1; p.pending.Load() != 0; spins++ {
		if spins%64 == 0 {
			runtime.Gosched()
		}
	}
	p.job.fn = nil
}

func (p *pool) close() {
	if p.closed.Swap(true) {
		return
	}
	p.gen.Add(1)
	p.wakeAll()
}
