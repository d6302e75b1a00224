package main

import (
	"encoding/json"
	"fmt"
	"io"
	goruntime "runtime"
	"strings"
	"text/tabwriter"

	"github.com/edgeinfer/edgeinfer/asm"
	"github.com/edgeinfer/edgeinfer/boards"
)

func cmdBoard(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("board", "[--profile ID] [--list] [--json]", stderr)
	id := fs.String("profile", "", "describe this profile instead of the detected board (IDs: "+strings.Join(boards.IDs(), ", ")+")")
	list := fs.Bool("list", false, "list every profile")
	asJSON := fs.Bool("json", false, "print the detection as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		return listBoards(stdout)
	}
	d := boards.Detect()
	if *id != "" {
		p, ok := boards.ByID(*id)
		if !ok {
			return fmt.Errorf("--profile %q: unknown; profiles: %s", *id, strings.Join(boards.IDs(), ", "))
		}
		d.Profile, d.How = p, "--profile"
	}
	th := boards.ReadThermal(d.Profile)
	path, kernels := kernelPath()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			boards.Detection
			Thermal    boards.Thermal
			KernelPath string
			Kernels    []asm.Kernel
		}{d, th, path, kernels})
	}
	p := d.Profile
	w := stdout
	how := d.How
	if d.Model != "" && d.How == "device-tree model" {
		how += fmt.Sprintf(" %q", d.Model)
	}
	fmt.Fprintf(w, "board     %s [%s], by %s\n", p.Name, p.ID, how)
	fmt.Fprintf(w, "soc       %s\n", p.SoC)
	cpu := p.CPU
	if p.CPUPart != 0 {
		cpu += fmt.Sprintf(" (part 0x%03x)", p.CPUPart)
	}
	if p.MHz > 0 {
		cpu += fmt.Sprintf(" @ %d MHz", p.MHz)
	}
	cores := p.Cores
	if cores == 0 {
		cores = d.CPUs
	}
	fmt.Fprintf(w, "cpu       %d× %s, %s\n", cores, cpu, p.Arch)
	if d.Part != 0 && d.Part != p.CPUPart {
		fmt.Fprintf(w, "          this CPU reports part 0x%03x (%s)\n", d.Part, boards.PartName(d.Part))
	}
	if d.Vendor != "" || d.Brand != "" {
		fmt.Fprintf(w, "cpuid     %s\n", strings.TrimSpace(d.Vendor+" "+d.Brand))
	}
	fmt.Fprintf(w, "features  %s (profile)\n", strings.Join(p.Features, " "))
	fmt.Fprintf(w, "          %s (this process, golang.org/x/sys/cpu)\n", strings.Join(d.Features, " "))
	if miss := d.Missing(); len(miss) > 0 {
		fmt.Fprintf(w, "          missing here: %s (an emulator with a smaller -cpu, or another board)\n", strings.Join(miss, " "))
	}
	l2 := boards.FormatSize(p.L2)
	if p.L2 > 0 && len(p.Models) > 0 { // sharing is known for the boards, not from sysfs
		if p.L2PerCore {
			l2 += " per core"
		} else {
			l2 += " shared"
		}
	}
	fmt.Fprintf(w, "caches    L1i %s, L1d %s per core; L2 %s; L3 %s\n", boards.FormatSize(p.L1I), boards.FormatSize(p.L1D), l2, boards.FormatSize(p.L3))
	if p.RAM != "" {
		fmt.Fprintf(w, "ram       %s\n", p.RAM)
	}
	threads := p.DefaultThreads
	if threads <= 0 {
		threads = d.CPUs
	}
	fmt.Fprintf(w, "threads   %d recommended (--threads; run defaults to all %d CPUs)\n", threads, d.CPUs)
	fmt.Fprintf(w, "binary    %s/%s, %d CPUs online, GOARCH for this board: %s\n", goruntime.GOOS, d.GOARCH, d.CPUs, p.GOARCH)
	q := "-cpu " + p.QEMUCPU
	if p.QEMUMachine != "" {
		q += " (qemu-system: -M " + p.QEMUMachine + ")"
	}
	fmt.Fprintf(w, "qemu      %s\n", q)
	fmt.Fprintf(w, "thermal   %s\n", th)
	for _, msg := range th.Warnings() {
		fmt.Fprintf(w, "          warning: %s\n", msg)
	}
	if p.Note != "" {
		fmt.Fprintf(w, "note      %s\n", p.Note)
	}
	fmt.Fprintf(w, "kernels   %s\n", path)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range kernels {
		if k.Active {
			fmt.Fprintf(tw, "          %s\t%s\t%s\n", k.Op, k.Name, k.ISA)
		}
	}
	return tw.Flush()
}

// kernelPath summarises the kernel table of package asm: the selected
// path ("generic" while every active kernel is the portable body) and the
// ISAs of the active kernels.
func kernelPath() (string, []asm.Kernel) {
	ks := asm.Kernels()
	isas := map[string]bool{}
	var list []string
	for _, k := range ks {
		if k.Active && !isas[k.ISA] {
			isas[k.ISA] = true
			list = append(list, k.ISA)
		}
	}
	if len(list) == 1 && list[0] == "scalar" {
		return "generic (portable Go bodies; no SIMD kernel is selected on this CPU)", ks
	}
	return asm.Selected() + " (" + strings.Join(list, " + ") + ")", ks
}

func listBoards(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tboard\tSoC\tCPU\tcores\tL1i/L1d\tL2\tL3\tthreads\tqemu -cpu\tfeatures")
	for _, p := range boards.Profiles {
		cores, threads := "-", "all"
		if p.Cores > 0 {
			cores = fmt.Sprint(p.Cores)
		}
		if p.DefaultThreads > 0 {
			threads = fmt.Sprint(p.DefaultThreads)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.SoC, p.CPU, cores,
			boards.FormatSize(p.L1I), boards.FormatSize(p.L1D), boards.FormatSize(p.L2), boards.FormatSize(p.L3), threads, p.QEMUCPU, strings.Join(p.Features, " "))
	}
	return tw.Flush()
}
