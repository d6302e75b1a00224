package runtime

import (
	"sync"
	"sync/atomic"
)

// pool runs index ranges on a fixed set of goroutines. The calling
// goroutine is worker 0 and takes part, so a pool of one thread runs
// everything inline. Work items are claimed from an atomic counter; the
// decomposition into items never depends on the thread count, so results
// are identical for every thread count. Dispatch allocates nothing: the job
// is a field of the pool and the work function is built at prepare time.
type pool struct {
	threads int
	wake    []chan struct{}
	wg      sync.WaitGroup
	job     struct {
		fn   func(worker, i int)
		n    int64
		next atomic.Int64
	}
	closed bool
}

func newPool(threads int) *pool {
	p := &pool{threads: max(threads, 1)}
	for w := 1; w < p.threads; w++ {
		ch := make(chan struct{})
		p.wake = append(p.wake, ch)
		go p.worker(w, ch)
	}
	return p
}

func (p *pool) worker(w int, wake chan struct{}) {
	for range wake {
		p.drain(w)
		p.wg.Done()
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
	helpers := min(p.threads-1, n-1)
	p.wg.Add(helpers)
	for w := 0; w < helpers; w++ {
		p.wake[w] <- struct{}{}
	}
	p.drain(0)
	p.wg.Wait()
	p.job.fn = nil
}

func (p *pool) close() {
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.wake {
		close(ch)
	}
}
