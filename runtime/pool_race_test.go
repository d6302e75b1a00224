package runtime

import (
	"sync"
	"testing"
)

// TestPoolRace drives the worker pool the way prepared models do, with
// more threads than items, one item, none, and two pools at once from
// different goroutines; under -race it checks the hand-off of the job
// to the workers and back. Every item must run exactly once.
func TestPoolRace(t *testing.T) {
	var wg sync.WaitGroup
	for _, threads := range []int{1, 2, 4} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newPool(threads)
			defer p.close()
			counts := make([]int, 16)
			perWorker := make([][]int, threads)
			for w := range perWorker {
				perWorker[w] = make([]int, 16)
			}
			for round := 0; round < 300; round++ {
				n := round % len(counts)
				p.parallelFor(n, func(w, i int) {
					counts[i]++ // each i by one worker: no lock
					perWorker[w][i]++
				})
			}
			for i, c := range counts {
				want := 0
				for round := 0; round < 300; round++ {
					if i < round%len(counts) {
						want++
					}
				}
				sum := 0
				for w := range perWorker {
					sum += perWorker[w][i]
				}
				if c != want || sum != want {
					t.Errorf("threads %d: item %d ran %d times (workers say %d), want %d", threads, i, c, sum, want)
				}
			}
		}()
	}
	wg.Wait()
}
