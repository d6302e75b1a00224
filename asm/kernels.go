package asm

// Kernel describes one registered kernel body. Tests and benchmarks loop over
// Kernels, so a body that is not listed here cannot ship and a listed one
// cannot go untested.
type Kernel struct {
	// Name is the canonical XNNPACK-style name,
	// <act>_<op>_<epilogue>_<MR>x<NR>__<isa>, used by tests, benchmarks, logs
	// and the EDGEINFER_KERNELS override.
	Name string
	// Op is the operation family the body implements: "gemm" (also used by
	// Conv2D through im2col or direct 1×1 reads), "dwconv", "maxpool",
	// "avgpool", "gavgpool" or "gmaxpool".
	Op string
	// MR×NR is the register tile of a GEMM body in output rows × columns
	// and KR the k unroll; all three are 0 for other families.
	MR, NR, KR int
	// ISA names the instructions the body needs; "scalar" runs everywhere.
	ISA string
	// Default reports whether this build selects the body by default.
	Default bool
}

// kernelTable is the single list of kernel bodies in this package.
var kernelTable = []Kernel{
	{Name: "f32_gemm_minmax_2x4__scalar", Op: "gemm", MR: 2, NR: f32GemmNR, KR: 1, ISA: "scalar", Default: f32GemmDefaultMR == 2},
	{Name: "f32_gemm_minmax_4x4__scalar", Op: "gemm", MR: 4, NR: f32GemmNR, KR: 1, ISA: "scalar", Default: f32GemmDefaultMR == 4},
	{Name: "f32_dwconv_minmax__scalar", Op: "dwconv", ISA: "scalar", Default: true},
	{Name: "f32_maxpool__scalar", Op: "maxpool", ISA: "scalar", Default: true},
	{Name: "f32_avgpool__scalar", Op: "avgpool", ISA: "scalar", Default: true},
	{Name: "f32_gavgpool__scalar", Op: "gavgpool", ISA: "scalar", Default: true},
	{Name: "f32_gmaxpool__scalar", Op: "gmaxpool", ISA: "scalar", Default: true},
}

// Kernels returns a copy of the kernel table.
func Kernels() []Kernel {
	return append([]Kernel(nil), kernelTable...)
}
