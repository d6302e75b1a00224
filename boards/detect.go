package boards

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// Detection is what Detect found out about the machine.
type Detection struct {
	// Profile is the matched board, or the generic profile for the
	// architecture with CPU and caches filled in from what was detected.
	Profile Profile
	// How says what identified the profile: "device-tree model",
	// "CPU part 0xd08", or "GOARCH".
	How string
	// Model is /proc/device-tree/model, if any.
	Model string
	// Implementer and Part are the first core's MIDR fields (Arm only).
	Implementer, Part uint16
	// GOARCH is the architecture this binary runs as (a Pi 4 with a
	// 32-bit OS runs arm on an arm64 core).
	GOARCH string
	// CPUs is the number of logical CPUs the Go runtime sees.
	CPUs int
	// Features are the instruction-set features the running process can
	// use (golang.org/x/sys/cpu, from the kernel's HWCAP on Arm and CPUID
	// on x86), by /proc/cpuinfo name.
	Features []string
	// Brand and Vendor are klauspost/cpuid's report: the x86 brand
	// string, or on arm64 the vendor decoded from MIDR_EL1.
	Brand, Vendor string
	// Caches from /sys/devices/system/cpu/cpu0/cache (or cpuid on x86),
	// in bytes; 0 when unknown.
	L1I, L1D, L2, L3 int
	// Emulated reports an Arm binary reading an x86 host's /proc/cpuinfo:
	// qemu-user, whose /proc and /sys describe the host, not the
	// emulated CPU (caches and thermal state are then not reported).
	Emulated bool
}

// Detect inspects the running machine.
func Detect() Detection { return DetectRoot("/") }

// DetectRoot inspects a machine whose /proc and /sys are under root (for
// tests: a directory with proc/device-tree/model, proc/cpuinfo …). The
// runtime features and cpuid report always describe the running process.
func DetectRoot(root string) Detection {
	d := Detection{GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Features: runtimeFeatures()}
	d.Brand, d.Vendor = cpuid.CPU.BrandName, cpuid.CPU.VendorString
	d.Model = readModel(root)
	var hostX86 bool
	d.Implementer, d.Part, hostX86 = cpuPart(root)
	d.Emulated = hostX86 && (runtime.GOARCH == "arm64" || runtime.GOARCH == "arm")
	if d.Part == 0 && runtime.GOARCH == "arm64" && cpuid.CPU.VendorID != cpuid.VendorUnknown {
		// No "CPU part" line (qemu-user shows the host's cpuinfo):
		// cpuid read MIDR_EL1, which the kernel (or qemu) emulates.
		d.Part = uint16(cpuid.CPU.Model>>4) & 0xfff
		if cpuid.CPU.VendorID == cpuid.ARM {
			d.Implementer = 0x41
		}
	}
	if !d.Emulated {
		d.L1I, d.L1D, d.L2, d.L3 = sysCaches(root)
	}
	if d.L1D == 0 && cpuid.CPU.Cache.L1D > 0 && !d.Emulated {
		d.L1I, d.L1D, d.L2, d.L3 = cpuid.CPU.Cache.L1I, cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2, max(cpuid.CPU.Cache.L3, 0)
	}

	if p, ok := matchModel(d.Model); ok {
		d.Profile, d.How = p, "device-tree model"
		return d
	}
	p := genericFor(runtime.GOARCH)
	d.How = "GOARCH " + runtime.GOARCH
	if d.Part != 0 && d.Implementer == 0x41 {
		p.CPU, p.CPUPart = PartName(d.Part), d.Part
		d.How = "CPU part 0x" + strconv.FormatUint(uint64(d.Part), 16)
		for _, q := range Profiles {
			if q.CPUPart == d.Part && p.QEMUCPU == "max" {
				p.QEMUCPU = q.QEMUCPU
			}
		}
		if q, ok := qemuCPUs[d.Part]; ok {
			p.QEMUCPU = q
		}
	} else if d.Brand != "" && runtime.GOARCH == "amd64" {
		p.CPU = d.Brand
	}
	p.Cores = d.CPUs
	p.L1I, p.L1D, p.L2, p.L3 = d.L1I, d.L1D, d.L2, d.L3
	p.Features = d.Features
	if d.Model != "" {
		p.Name += " (" + d.Model + ")"
	}
	if d.Emulated {
		p.Name += ", emulated (qemu-user)"
		p.ThermalZone = ""
	}
	d.Profile = p
	return d
}

// qemuCPUs maps MIDR part numbers to qemu -cpu models.
var qemuCPUs = map[uint16]string{
	0xc07: "cortex-a7", 0xc0f: "cortex-a15", 0xd03: "cortex-a53", 0xd04: "cortex-a35", 0xd05: "cortex-a55",
	0xd07: "cortex-a57", 0xd08: "cortex-a72", 0xd0b: "cortex-a76", 0xd0c: "neoverse-n1", 0xd40: "neoverse-v1",
	0xd41: "cortex-a78ae", 0xd49: "neoverse-n2",
}

// matchModel finds the profile whose model prefix is the longest prefix of
// model.
func matchModel(model string) (Profile, bool) {
	best, n := Profile{}, 0
	for _, p := range Profiles {
		for _, m := range p.Models {
			if strings.HasPrefix(model, m) && len(m) > n {
				best, n = p, len(m)
			}
		}
	}
	return best, n > 0
}

// readModel returns /proc/device-tree/model without its NUL terminator.
func readModel(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "proc/device-tree/model"))
	if err != nil {
		b, err = os.ReadFile(filepath.Join(root, "sys/firmware/devicetree/base/model"))
		if err != nil {
			return ""
		}
	}
	return strings.TrimSpace(string(bytes.TrimRight(b, "\x00")))
}

// cpuPart reads the first "CPU implementer" and "CPU part" of
// /proc/cpuinfo (Arm kernels); x86 reports an x86 vendor_id line.
func cpuPart(root string) (impl, part uint16, x86 bool) {
	f, err := os.Open(filepath.Join(root, "proc/cpuinfo"))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "vendor_id" && (v == "GenuineIntel" || v == "AuthenticAMD") {
			x86 = true
		}
		n, err := strconv.ParseUint(v, 0, 16)
		if err != nil {
			continue
		}
		switch {
		case k == "CPU implementer" && impl == 0:
			impl = uint16(n)
		case k == "CPU part" && part == 0:
			part = uint16(n)
		}
		if impl != 0 && part != 0 {
			break
		}
	}
	return impl, part, x86
}

// sysCaches reads cpu0's cache sizes from sysfs.
func sysCaches(root string) (l1i, l1d, l2, l3 int) {
	dirs, _ := filepath.Glob(filepath.Join(root, "sys/devices/system/cpu/cpu0/cache/index*"))
	for _, dir := range dirs {
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			return strings.TrimSpace(string(b))
		}
		size := parseSize(read("size"))
		switch read("level") + "/" + read("type") {
		case "1/Instruction":
			l1i = size
		case "1/Data":
			l1d = size
		case "2/Unified", "2/Data":
			l2 = size
		case "3/Unified":
			l3 = size
		}
	}
	return
}

// parseSize parses sysfs cache sizes: "32K", "1024K", "2M", "512".
func parseSize(s string) int {
	mul := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = kiB, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mul, s = miB, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n * mul
}

// runtimeFeatures lists the features golang.org/x/sys/cpu detected, by
// their /proc/cpuinfo names.
func runtimeFeatures() []string {
	var fs []string
	add := func(name string, ok bool) {
		if ok {
			fs = append(fs, name)
		}
	}
	switch runtime.GOARCH {
	case "arm64":
		a := &cpu.ARM64
		add("fp", a.HasFP)
		add("asimd", a.HasASIMD)
		add("evtstrm", a.HasEVTSTRM)
		add("aes", a.HasAES)
		add("pmull", a.HasPMULL)
		add("sha1", a.HasSHA1)
		add("sha2", a.HasSHA2)
		add("crc32", a.HasCRC32)
		add("atomics", a.HasATOMICS)
		add("fphp", a.HasFPHP)
		add("asimdhp", a.HasASIMDHP)
		add("cpuid", a.HasCPUID)
		add("asimdrdm", a.HasASIMDRDM)
		add("jscvt", a.HasJSCVT)
		add("fcma", a.HasFCMA)
		add("lrcpc", a.HasLRCPC)
		add("dcpop", a.HasDCPOP)
		add("sha3", a.HasSHA3)
		add("asimddp", a.HasASIMDDP)
		add("sha512", a.HasSHA512)
		add("sve", a.HasSVE)
		add("asimdfhm", a.HasASIMDFHM)
		add("sve2", a.HasSVE2)
		add("i8mm", a.HasI8MM)
	case "arm":
		a := &cpu.ARM
		add("half", a.HasHALF)
		add("thumb", a.HasTHUMB)
		add("fastmult", a.HasFASTMUL)
		add("vfp", a.HasVFP)
		add("edsp", a.HasEDSP)
		add("neon", a.HasNEON)
		add("vfpv3", a.HasVFPv3)
		add("vfpd32", a.HasVFPD32)
		add("lpae", a.HasLPAE)
		add("evtstrm", a.HasEVTSTRM)
		add("idiva", a.HasIDIVA)
		add("idivt", a.HasIDIVT)
		add("vfpv4", a.HasVFPv4)
		add("aes", a.HasAES)
		add("pmull", a.HasPMULL)
		add("sha1", a.HasSHA1)
		add("sha2", a.HasSHA2)
		add("crc32", a.HasCRC32)
	case "amd64", "386":
		x := &cpu.X86
		add("sse2", x.HasSSE2)
		add("sse3", x.HasSSE3)
		add("ssse3", x.HasSSSE3)
		add("sse4_1", x.HasSSE41)
		add("sse4_2", x.HasSSE42)
		add("popcnt", x.HasPOPCNT)
		add("fma", x.HasFMA)
		add("f16c", x.HasF16C)
		add("avx", x.HasAVX)
		add("avx2", x.HasAVX2)
		add("bmi2", x.HasBMI2)
		add("avx512f", x.HasAVX512F)
		add("avx512bw", x.HasAVX512BW)
		add("avx512vl", x.HasAVX512VL)
		add("avx512_vnni", x.HasAVX512VNNI)
		add("avx_vnni", x.HasAVXVNNI)
		add("avx512_bf16", x.HasAVX512BF16)
		add("amx_bf16", x.HasAMXBF16)
	}
	return fs
}

// Missing returns the profile features the running CPU lacks (a wrong
// profile, or an emulator presenting a smaller core), sorted.
func (d Detection) Missing() []string {
	have := map[string]bool{}
	for _, f := range d.Features {
		have[f] = true
	}
	var miss []string
	if d.Profile.GOARCH != d.GOARCH {
		return nil // a 32-bit userland on a 64-bit core: different names
	}
	for _, f := range d.Profile.Features {
		if !have[f] && f != "evtstrm" && f != "cpuid" {
			miss = append(miss, f)
		}
	}
	sort.Strings(miss)
	return miss
}
