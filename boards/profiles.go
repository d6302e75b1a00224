// Package boards describes the boards edgeinfer targets — Raspberry Pi
// models, generic arm64 and armv7 boards, x86-64 — and detects which one
// it runs on: SoC, CPU core, instruction-set features, cache sizes, the
// default thread count, the QEMU CPU model that emulates the core, and
// where the temperature and throttling state are read.
//
//	d := boards.Detect()
//	fmt.Println(d.Profile.Name, d.Profile.CPU, d.Features)
//	if w := boards.ReadThermal(d.Profile).Warnings(); len(w) > 0 { … }
package boards

import (
	"fmt"
	"strings"
)

// Profile describes one board (or a generic class of machines).
type Profile struct {
	// ID is the short name used on the command line (edgeinfer board
	// --profile pi4b).
	ID   string
	Name string
	// Models are prefixes of /proc/device-tree/model that identify the
	// board ("Raspberry Pi 4 Model B"); the longest match wins.
	Models []string
	SoC    string
	// CPU is the core ("Cortex-A72") and CPUPart its MIDR part number
	// (/proc/cpuinfo "CPU part"), 0 for generic profiles.
	CPU     string
	CPUPart uint16
	// Arch is the instruction set of the core (armv8-a …); GOARCH the Go
	// architecture of the binary to build for it (a Pi 4 also runs a
	// 32-bit armv7 userland: see Detection.GOARCH).
	Arch   string
	GOARCH string
	// Features are the SIMD and arithmetic extensions the core has, by
	// their Linux /proc/cpuinfo names (asimd = NEON on arm64, asimddp =
	// dot product, fphp/asimdhp = FP16, neon/vfpv4 on 32-bit arm).
	Features []string
	Cores    int
	MHz      int
	// Cache sizes in bytes: L1 per core, L2 per cluster (or per core when
	// L2PerCore), L3 shared; 0 when absent or unknown.
	L1I, L1D, L2, L3 int
	L2PerCore        bool
	// DefaultThreads is the worker count edgeinfer uses by default.
	DefaultThreads int
	// QEMUCPU is the qemu-aarch64/qemu-arm/qemu-system -cpu model of the
	// core; QEMUMachine a qemu-system -M machine for the board, if any.
	QEMUCPU, QEMUMachine string
	// ThermalZone is the sysfs directory with the SoC temperature (temp,
	// in millidegrees Celsius); Firmware reports whether the Raspberry Pi
	// firmware's get_throttled file is expected.
	ThermalZone string
	Firmware    bool
	// TempLimit is the temperature (°C) at which the SoC starts to
	// throttle (soft limit on the Pis); run warns from there.
	TempLimit float64
	// RAM lists the memory sizes sold, for information.
	RAM  string
	Note string
}

const (
	kiB = 1 << 10
	miB = 1 << 20

	thermal0 = "/sys/class/thermal/thermal_zone0"
)

// The CPU features of the cores. BCM2837/2711 lack the optional Armv8
// crypto extension (no aes, pmull, sha1, sha2).
var (
	a53Features = []string{"fp", "asimd", "evtstrm", "crc32", "cpuid"}
	a72Features = a53Features
	a76Features = []string{"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "fphp", "asimdhp", "cpuid", "asimdrdm", "lrcpc", "dcpop", "asimddp"}
)

// Profiles lists the known boards, then the generic profiles.
var Profiles = []Profile{
	{
		ID: "pi-zero-2w", Name: "Raspberry Pi Zero 2 W", Models: []string{"Raspberry Pi Zero 2 W"},
		SoC: "RP3A0 (BCM2710A1)", CPU: "Cortex-A53", CPUPart: 0xd03, Arch: "armv8-a", GOARCH: "arm64",
		Features: a53Features, Cores: 4, MHz: 1000,
		L1I: 32 * kiB, L1D: 32 * kiB, L2: 512 * kiB,
		// 512 MB of RAM and a small heat sink: three workers leave a core
		// for the camera stack and keep the SoC cooler.
		DefaultThreads: 3, QEMUCPU: "cortex-a53", QEMUMachine: "raspi3b",
		ThermalZone: thermal0, Firmware: true, TempLimit: 80, RAM: "512 MB",
	},
	{
		ID: "pi3b", Name: "Raspberry Pi 3 Model B", Models: []string{"Raspberry Pi 3 Model B Rev", "Raspberry Pi 3 Model B"},
		SoC: "BCM2837", CPU: "Cortex-A53", CPUPart: 0xd03, Arch: "armv8-a", GOARCH: "arm64",
		Features: a53Features, Cores: 4, MHz: 1200,
		L1I: 32 * kiB, L1D: 32 * kiB, L2: 512 * kiB,
		DefaultThreads: 4, QEMUCPU: "cortex-a53", QEMUMachine: "raspi3b",
		ThermalZone: thermal0, Firmware: true, TempLimit: 80, RAM: "1 GB",
	},
	{
		ID: "pi3b+", Name: "Raspberry Pi 3 Model B+", Models: []string{"Raspberry Pi 3 Model B Plus"},
		SoC: "BCM2837B0", CPU: "Cortex-A53", CPUPart: 0xd03, Arch: "armv8-a", GOARCH: "arm64",
		Features: a53Features, Cores: 4, MHz: 1400,
		L1I: 32 * kiB, L1D: 32 * kiB, L2: 512 * kiB,
		DefaultThreads: 4, QEMUCPU: "cortex-a53", QEMUMachine: "raspi3b",
		ThermalZone: thermal0, Firmware: true, TempLimit: 80, RAM: "1 GB",
		Note: "soft throttling from 60 °C unless temp_soft_limit is raised",
	},
	{
		ID: "pi4b", Name: "Raspberry Pi 4 Model B", Models: []string{"Raspberry Pi 4 Model B"},
		SoC: "BCM2711", CPU: "Cortex-A72", CPUPart: 0xd08, Arch: "armv8-a", GOARCH: "arm64",
		Features: a72Features, Cores: 4, MHz: 1800,
		L1I: 48 * kiB, L1D: 32 * kiB, L2: 1 * miB,
		DefaultThreads: 4, QEMUCPU: "cortex-a72", QEMUMachine: "raspi4b",
		ThermalZone: thermal0, Firmware: true, TempLimit: 80, RAM: "1, 2, 4 or 8 GB",
		Note: "1500 MHz on boards before revision 1.4 (2020)",
	},
	{
		ID: "pi400", Name: "Raspberry Pi 400", Models: []string{"Raspberry Pi 400"},
		SoC: "BCM2711", CPU: "Cortex-A72", CPUPart: 0xd08, Arch: "armv8-a", GOARCH: "arm64",
		Features: a72Features, Cores: 4, MHz: 1800,
		L1I: 48 * kiB, L1D: 32 * kiB, L2: 1 * miB,
		DefaultThreads: 4, QEMUCPU: "cortex-a72", QEMUMachine: "raspi4b",
		ThermalZone: thermal0, Firmware: true, TempLimit: 80, RAM: "4 GB",
	},
	{
		ID: "cm4", Name: "Raspberry Pi Compute Module 4", Models: []string{"Raspberry Pi Compute Module 4"},
		SoC: "BCM2711", CPU: "Cortex-A72", CPUPart: 0xd08, Arch: "armv8-a", GOARCH: "arm64",
		Features: a72Features, Cores: 4, MHz: 1500,
		L1I: 48 * kiB, L1D: 32 * kiB, L2: 1 * miB,
		DefaultThreads: 4, QEMUCPU: "cortex-a72", QEMUMachine: "raspi4b",
		ThermalZone: thermal0, Firmware: true, TempLimit: 80, RAM: "1, 2, 4 or 8 GB",
		Note: "cooling depends on the carrier board",
	},
	{
		ID: "pi5", Name: "Raspberry Pi 5", Models: []string{"Raspberry Pi 5"},
		SoC: "BCM2712", CPU: "Cortex-A76", CPUPart: 0xd0b, Arch: "armv8.2-a", GOARCH: "arm64",
		Features: a76Features, Cores: 4, MHz: 2400,
		L1I: 64 * kiB, L1D: 64 * kiB, L2: 512 * kiB, L2PerCore: true, L3: 2 * miB,
		DefaultThreads: 4, QEMUCPU: "cortex-a76", QEMUMachine: "virt",
		ThermalZone: thermal0, Firmware: true, TempLimit: 80, RAM: "2, 4, 8 or 16 GB",
		Note: "dot product (asimddp) and FP16 arithmetic; needs active cooling under sustained load",
	},
	{
		ID: "generic-arm64", Name: "generic arm64 board", SoC: "unknown", CPU: "Armv8-A core",
		Arch: "armv8-a", GOARCH: "arm64", Features: []string{"fp", "asimd"},
		DefaultThreads: 0, QEMUCPU: "max", QEMUMachine: "virt", ThermalZone: thermal0, TempLimit: 85,
	},
	{
		ID: "generic-armv7", Name: "generic armv7 board (32-bit)", SoC: "unknown", CPU: "Armv7-A core",
		Arch: "armv7-a", GOARCH: "arm", Features: []string{"neon", "vfpv4"},
		DefaultThreads: 0, QEMUCPU: "cortex-a7", QEMUMachine: "virt", ThermalZone: thermal0, TempLimit: 85,
		Note: "NEON is optional in Armv7-A; every Raspberry Pi since the 2 has it",
	},
	{
		ID: "x86-64", Name: "x86-64 machine", SoC: "unknown", CPU: "x86-64 CPU",
		Arch: "x86-64", GOARCH: "amd64", Features: []string{"sse2"},
		DefaultThreads: 0, QEMUCPU: "max", QEMUMachine: "q35", ThermalZone: thermal0, TempLimit: 90,
	},
}

// ByID returns the profile with the given ID (case-insensitive).
func ByID(id string) (Profile, bool) {
	for _, p := range Profiles {
		if strings.EqualFold(p.ID, id) {
			return p, true
		}
	}
	return Profile{}, false
}

// IDs lists the profile IDs.
func IDs() []string {
	var ids []string
	for _, p := range Profiles {
		ids = append(ids, p.ID)
	}
	return ids
}

// genericFor returns the generic profile for a Go architecture.
func genericFor(goarch string) Profile {
	switch goarch {
	case "arm64":
		p, _ := ByID("generic-arm64")
		return p
	case "arm":
		p, _ := ByID("generic-armv7")
		return p
	case "amd64":
		p, _ := ByID("x86-64")
		return p
	}
	return Profile{ID: "generic-" + goarch, Name: "generic " + goarch + " machine", SoC: "unknown", CPU: "unknown", GOARCH: goarch, ThermalZone: thermal0, TempLimit: 85}
}

// armParts names Arm Ltd cores by MIDR part number (implementer 0x41).
var armParts = map[uint16]string{
	0xc07: "Cortex-A7", 0xc08: "Cortex-A8", 0xc09: "Cortex-A9", 0xc0d: "Cortex-A12",
	0xc0e: "Cortex-A17", 0xc0f: "Cortex-A15",
	0xd03: "Cortex-A53", 0xd04: "Cortex-A35", 0xd05: "Cortex-A55", 0xd07: "Cortex-A57",
	0xd08: "Cortex-A72", 0xd09: "Cortex-A73", 0xd0a: "Cortex-A75", 0xd0b: "Cortex-A76",
	0xd0c: "Neoverse-N1", 0xd0d: "Cortex-A77", 0xd41: "Cortex-A78", 0xd44: "Cortex-X1",
	0xd46: "Cortex-A510", 0xd47: "Cortex-A710", 0xd40: "Neoverse-V1", 0xd49: "Neoverse-N2",
	0xd4f: "Neoverse-V2",
}

// PartName names an Arm core by its MIDR part number.
func PartName(part uint16) string {
	if n, ok := armParts[part]; ok {
		return n
	}
	return fmt.Sprintf("Arm part 0x%03x", part)
}

// FormatSize prints a cache size (32 KiB, 1 MiB).
func FormatSize(n int) string {
	switch {
	case n == 0:
		return "-"
	case n%miB == 0:
		return fmt.Sprintf("%d MiB", n/miB)
	case n%kiB == 0:
		return fmt.Sprintf("%d KiB", n/kiB)
	}
	return fmt.Sprintf("%d B", n)
}
