// Command iprof turns the block counts written by the iprof QEMU plugin
// (scripts/qemu/iprof.c) into instructions per function of an arm64 ELF binary.
//
//	iprof [-top N] [-per D] [-focus S] BINARY A.out [B.out]
//
// With two profiles it prints B − A per function, divided by D (the
// difference in iterations between the two runs), which cancels start-up
// and set-up the way scripts/icount.sh does for whole-program counts.
package main

import (
	"bufio"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

type sym struct {
	addr, size uint64
	name       string
}

func main() {
	top := flag.Int("top", 40, "functions to print")
	per := flag.Float64("per", 1, "divide counts by this (iterations between the two profiles)")
	focus := flag.String("focus", "github.com/edgeinfer/edgeinfer/", "also print the subtotal of functions whose names contain this")
	flag.Parse()
	if flag.NArg() < 2 || flag.NArg() > 3 {
		fmt.Fprintln(os.Stderr, "usage: iprof [-top N] [-per D] BINARY A.out [B.out]")
		os.Exit(2)
	}
	syms, err := symbols(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	a, err := profile(flag.Arg(1), syms)
	if err != nil {
		fail(err)
	}
	if flag.NArg() == 3 {
		b, err := profile(flag.Arg(2), syms)
		if err != nil {
			fail(err)
		}
		for k, v := range a {
			b[k] -= v
		}
		a = b
	}
	type row struct {
		name string
		n    float64
	}
	var rows []row
	var total, sub float64
	for k, v := range a {
		n := v / *per
		rows = append(rows, row{k, n})
		total += n
		if *focus != "" && strings.Contains(k, *focus) {
			sub += n
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].n > rows[j].n })
	fmt.Printf("%14.0f  100.0%%  total\n", total)
	if *focus != "" {
		// The total also holds the Go runtime's background threads (GC,
		// sysmon), which differ between the two runs by up to a few M.
		fmt.Printf("%14.0f  %5.1f%%  functions matching %q\n", sub, 100*sub/total, *focus)
	}
	for i, r := range rows {
		if i == *top {
			break
		}
		fmt.Printf("%14.0f  %5.1f%%  %s\n", r.n, 100*r.n/total, r.name)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "iprof:", err)
	os.Exit(1)
}

func symbols(path string) ([]sym, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ss, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []sym
	for _, s := range ss {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC || (elf.ST_TYPE(s.Info) == elf.STT_NOTYPE && s.Section < elf.SHN_LORESERVE) {
			out = append(out, sym{s.Value, s.Size, s.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out, nil
}

func lookup(syms []sym, pc uint64) string {
	i := sort.Search(len(syms), func(i int) bool { return syms[i].addr > pc }) - 1
	if i < 0 {
		return fmt.Sprintf("?%x", pc)
	}
	return syms[i].name
}

// profile sums instructions per function; a block is charged to the
// function it starts in.
func profile(path string, syms []sym) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			return nil, fmt.Errorf("%s:%d: want 3 fields", path, line)
		}
		pc, err1 := strconv.ParseUint(fs[0], 16, 64)
		n, err2 := strconv.ParseFloat(fs[1], 64)
		e, err3 := strconv.ParseFloat(fs[2], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%s:%d: bad number", path, line)
		}
		m[lookup(syms, pc)] += n * e
	}
	return m, sc.Err()
}
