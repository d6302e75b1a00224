package boards

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeRoot writes files (path → contents) under a temporary root.
func fakeRoot(t *testing.T, files map[string]string) string {
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(c), 0o644))
	}
	return root
}

const pi4cpuinfo = `processor	: 0
BogoMIPS	: 108.00
Features	: fp asimd evtstrm crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

Hardware	: BCM2835
Revision	: c03114
Model		: Raspberry Pi 4 Model B Rev 1.4
`

func TestDetectModels(t *testing.T) {
	for model, id := range map[string]string{
		"Raspberry Pi 4 Model B Rev 1.4\x00":         "pi4b",
		"Raspberry Pi 400 Rev 1.0\x00":               "pi400",
		"Raspberry Pi 3 Model B Rev 1.2\x00":         "pi3b",
		"Raspberry Pi 3 Model B Plus Rev 1.3\x00":    "pi3b+",
		"Raspberry Pi Zero 2 W Rev 1.0\x00":          "pi-zero-2w",
		"Raspberry Pi 5 Model B Rev 1.0\x00":         "pi5",
		"Raspberry Pi Compute Module 4 Rev 1.1\x00":  "cm4",
		"Raspberry Pi Compute Module 4S Rev 1.0\x00": "cm4",
	} {
		d := DetectRoot(fakeRoot(t, map[string]string{"proc/device-tree/model": model, "proc/cpuinfo": pi4cpuinfo}))
		require.Equal(t, id, d.Profile.ID, model)
		require.Equal(t, "device-tree model", d.How)
		require.Equal(t, strings.TrimRight(model, "\x00"), d.Model)
		require.Equal(t, uint16(0xd08), d.Part)
		require.Equal(t, uint16(0x41), d.Implementer)
	}
}

func TestDetectByCPUPart(t *testing.T) {
	d := DetectRoot(fakeRoot(t, map[string]string{
		"proc/device-tree/model": "Pine64 RockPro64\x00",
		"proc/cpuinfo":           strings.ReplaceAll(pi4cpuinfo, "0xd08", "0xd03"),
		"sys/devices/system/cpu/cpu0/cache/index0/level": "1", "sys/devices/system/cpu/cpu0/cache/index0/type": "Data", "sys/devices/system/cpu/cpu0/cache/index0/size": "32K",
		"sys/devices/system/cpu/cpu0/cache/index1/level": "1", "sys/devices/system/cpu/cpu0/cache/index1/type": "Instruction", "sys/devices/system/cpu/cpu0/cache/index1/size": "48K",
		"sys/devices/system/cpu/cpu0/cache/index2/level": "2", "sys/devices/system/cpu/cpu0/cache/index2/type": "Unified", "sys/devices/system/cpu/cpu0/cache/index2/size": "1024K",
		"sys/devices/system/cpu/cpu0/cache/index3/level": "3", "sys/devices/system/cpu/cpu0/cache/index3/type": "Unified", "sys/devices/system/cpu/cpu0/cache/index3/size": "2M",
	}))
	require.Equal(t, "CPU part 0xd03", d.How)
	require.Equal(t, "Cortex-A53", d.Profile.CPU)
	require.Equal(t, "cortex-a53", d.Profile.QEMUCPU)
	require.Contains(t, d.Profile.Name, "Pine64 RockPro64")
	require.Equal(t, [4]int{48 << 10, 32 << 10, 1 << 20, 2 << 20}, [4]int{d.L1I, d.L1D, d.L2, d.L3})
	require.Equal(t, d.L2, d.Profile.L2)
}

func TestDetectGeneric(t *testing.T) {
	d := DetectRoot(t.TempDir())
	require.Equal(t, runtime.GOARCH, d.Profile.GOARCH)
	require.NotEmpty(t, d.How)
	require.Equal(t, runtime.NumCPU(), d.CPUs)
	// The real machine too, whatever it is.
	real := Detect()
	require.NotEmpty(t, real.Profile.ID)
	t.Logf("this machine: %s (%s), %s, features %v, caches %d/%d/%d/%d", real.Profile.Name, real.How, real.Profile.CPU, real.Features, real.L1I, real.L1D, real.L2, real.L3)
}

func TestProfiles(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Profiles {
		require.False(t, seen[p.ID], "duplicate %s", p.ID)
		seen[p.ID] = true
		require.NotEmpty(t, p.Name)
		require.NotEmpty(t, p.QEMUCPU, p.ID)
		require.Contains(t, []string{"arm64", "arm", "amd64"}, p.GOARCH, p.ID)
		if strings.HasPrefix(p.ID, "pi") || p.ID == "cm4" {
			require.NotZero(t, p.CPUPart, p.ID)
			require.Equal(t, PartName(p.CPUPart), p.CPU, p.ID)
			require.Equal(t, 4, p.Cores, p.ID)
			require.NotZero(t, p.L1D, p.ID)
			require.NotZero(t, p.L2, p.ID)
			require.True(t, p.Firmware, p.ID)
			require.Contains(t, p.Features, "asimd", p.ID)
		}
	}
	for _, id := range []string{"pi-zero-2w", "pi3b", "pi3b+", "pi4b", "pi400", "pi5", "cm4", "generic-arm64", "generic-armv7", "x86-64"} {
		_, ok := ByID(id)
		require.True(t, ok, id)
	}
	p, _ := ByID("PI5")
	require.Contains(t, p.Features, "asimddp")
	p, _ = ByID("pi4b")
	require.NotContains(t, p.Features, "asimddp")
	require.Equal(t, "48 KiB", FormatSize(p.L1I))
	require.Equal(t, "1 MiB", FormatSize(p.L2))
	require.Equal(t, "Arm part 0xfff", PartName(0xfff))
}

func TestThermal(t *testing.T) {
	pi4, _ := ByID("pi4b")
	root := fakeRoot(t, map[string]string{
		"sys/class/thermal/thermal_zone0/temp":                "82500\n",
		"sys/devices/platform/soc/soc:firmware/get_throttled": "0x50005\n",
	})
	th := ReadThermalRoot(root, pi4)
	require.True(t, th.HasTemp)
	require.InDelta(t, 82.5, th.TempC, 1e-9)
	require.True(t, th.HasThrottled)
	require.Equal(t, uint32(0x50005), th.Throttled)
	w := th.Warnings()
	require.Len(t, w, 2)
	require.Contains(t, w[0], "82.5 °C")
	require.Contains(t, w[1], "under-voltage, throttled")
	require.Contains(t, th.String(), "get_throttled 0x50005")

	// Pi 5 firmware node name; only past events.
	pi5, _ := ByID("pi5")
	root = fakeRoot(t, map[string]string{
		"sys/class/thermal/thermal_zone0/temp":                                      "45000",
		"sys/devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled": "40000",
	})
	th = ReadThermalRoot(root, pi5)
	require.Equal(t, uint32(0x40000), th.Throttled)
	w = th.Warnings()
	require.Len(t, w, 1)
	require.Contains(t, w[0], "since boot")

	// Cool and quiet: nothing; close to the limit: a note.
	root = fakeRoot(t, map[string]string{"sys/class/thermal/thermal_zone0/temp": "50000"})
	require.Empty(t, ReadThermalRoot(root, pi4).Warnings())
	root = fakeRoot(t, map[string]string{"sys/class/thermal/thermal_zone0/temp": "77000"})
	require.Len(t, ReadThermalRoot(root, pi4).Warnings(), 1)
	require.Empty(t, ReadThermalRoot(t.TempDir(), pi4).Warnings())
}

// TestServiceUnit checks the systemd unit's essentials, and has systemd
// verify it when systemd-analyze is installed.
func TestServiceUnit(t *testing.T) {
	b, err := os.ReadFile("edgeinfer.service")
	require.NoError(t, err)
	unit := string(b)
	for _, want := range []string{
		"ExecStart=/usr/local/bin/edgeinfer run ", "Restart=on-failure", "User=edgeinfer",
		"DeviceAllow=char-video4linux rw", "DeviceAllow=char-gpiochip rw", "DevicePolicy=closed",
		"KillSignal=SIGINT", "[Install]", "WantedBy=multi-user.target",
	} {
		require.Contains(t, unit, want)
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed: unit not verified by systemd")
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", "edgeinfer.service").CombinedOutput()
	// The binary and user do not exist here; only syntax errors count.
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "Unknown key") || strings.Contains(l, "Invalid") || strings.Contains(l, "Failed to parse") {
			t.Errorf("systemd-analyze: %s", l)
		}
	}
	_ = err
}
