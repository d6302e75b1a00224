package runtime

import "sort"

// arenaAlign keeps every block on a cache line (and on the 64-byte
// alignment SIMD kernels prefer).
const arenaAlign = 64

// block is one arena allocation, shared by a root value and everything
// aliasing or viewing it, live over steps [first, last].
type block struct {
	size        int
	first, last int
	offset      int
}

// planMemory computes liveness for every root value and packs the blocks
// into one arena greedily by size (TFLite's "greedy by size" strategy):
// each block, largest first, goes at the lowest offset that overlaps no
// already placed block with an overlapping lifetime. It returns the arena
// size in bytes.
func planMemory(values []*value, steps []*step) int {
	blocks := map[*value]*block{}
	get := func(v *value) *block {
		r := v.root()
		if r.konst != nil {
			return nil
		}
		b := blocks[r]
		if b == nil {
			b = &block{size: r.span() * r.dtype.Size(), first: 1 << 30, last: -1}
			blocks[r] = b
			r.block = b
		}
		return b
	}
	touch := func(v *value, at int) {
		if b := get(v); b != nil {
			b.first = min(b.first, at)
			b.last = max(b.last, at)
		}
	}
	for _, v := range values {
		if v.konst != nil {
			continue
		}
		if v.graphIn {
			touch(v, -1)
		}
		if v.graphOut {
			touch(v, len(steps))
		}
	}
	for i, s := range steps {
		for _, v := range s.inputs {
			touch(v, i)
		}
		for _, v := range s.outputs {
			touch(v, i)
		}
	}
	list := make([]*block, 0, len(blocks))
	for _, b := range blocks {
		if b.last < b.first { // never touched: an unused value
			b.first, b.last = 0, 0
		}
		list = append(list, b)
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].size != list[j].size {
			return list[i].size > list[j].size
		}
		return list[i].first < list[j].first
	})
	var placed []*block
	total := 0
	for _, b := range list {
		b.offset = 0
		// Candidate gaps between already placed blocks that are live at
		// the same time, in offset order.
		var live []*block
		for _, p := range placed {
			if p.first <= b.last && b.first <= p.last {
				live = append(live, p)
			}
		}
		sort.Slice(live, func(i, j int) bool { return live[i].offset < live[j].offset })
		off := 0
		for _, p := range live {
			if p.offset-off >= b.size {
				break
			}
			off = max(off, alignUp(p.offset+p.size))
		}
		b.offset = off
		placed = append(placed, b)
		total = max(total, alignUp(off+b.size))
	}
	return total
}

func alignUp(n int) int { return (n + arenaAlign - 1) &^ (arenaAlign - 1) }
