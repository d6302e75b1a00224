package boards

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Thermal is the SoC's temperature and, on a Raspberry Pi, the firmware's
// throttling state.
type Thermal struct {
	Zone    string  // the thermal zone read
	TempC   float64 // degrees Celsius
	HasTemp bool
	// Throttled is the firmware's get_throttled bit field (vcgencmd
	// get_throttled): bits 0–3 are the current state (under-voltage, ARM
	// frequency capped, throttled, soft temperature limit), bits 16–19
	// the same since boot.
	Throttled    uint32
	HasThrottled bool
	ThrottlePath string
	// Limit is the profile's temperature limit.
	Limit float64
}

// The get_throttled bits.
const (
	UnderVoltage     = 1 << 0
	FreqCapped       = 1 << 1
	Throttling       = 1 << 2
	SoftTempLimit    = 1 << 3
	UnderVoltageSeen = 1 << 16
	FreqCappedSeen   = 1 << 17
	ThrottlingSeen   = 1 << 18
	SoftTempSeen     = 1 << 19
)

// ReadThermal reads the profile's thermal zone and, when the profile has
// the Raspberry Pi firmware, get_throttled.
func ReadThermal(p Profile) Thermal { return ReadThermalRoot("/", p) }

// ReadThermalRoot is ReadThermal with /sys under root.
func ReadThermalRoot(root string, p Profile) Thermal {
	t := Thermal{Zone: p.ThermalZone, Limit: p.TempLimit}
	if t.Zone == "" {
		return t // no thermal zone (an emulator's view of the host's)
	}
	if b, err := os.ReadFile(filepath.Join(root, t.Zone, "temp")); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			t.TempC, t.HasTemp = float64(n)/1000, true
		}
	}
	// The firmware node is soc:firmware on the Pi 3/4 and carries the bus
	// address on the Pi 5 (soc@107c000000:firmware): glob for it.
	paths, _ := filepath.Glob(filepath.Join(root, "sys/devices/platform/soc*/soc*:firmware/get_throttled"))
	if len(paths) == 0 && p.Firmware {
		paths, _ = filepath.Glob(filepath.Join(root, "sys/devices/platform/soc/soc:firmware/get_throttled"))
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := strings.TrimPrefix(strings.TrimSpace(string(b)), "0x")
		if n, err := strconv.ParseUint(s, 16, 32); err == nil {
			t.Throttled, t.HasThrottled = uint32(n), true
			t.ThrottlePath = strings.TrimPrefix(path, filepath.Clean(root))
			break
		}
	}
	return t
}

// Warnings describes conditions that distort latency measurements: a
// temperature at or above the limit (or within 5 °C of it), current
// throttling, capping or under-voltage, and throttling since boot.
func (t Thermal) Warnings() []string {
	var w []string
	limit := t.Limit
	if limit <= 0 {
		limit = 80
	}
	if t.HasTemp {
		switch {
		case t.TempC >= limit:
			w = append(w, fmt.Sprintf("SoC temperature %.1f °C is at or above the %.0f °C throttling limit (%s): latency will be inflated; add cooling", t.TempC, limit, t.Zone))
		case t.TempC >= limit-5:
			w = append(w, fmt.Sprintf("SoC temperature %.1f °C is close to the %.0f °C throttling limit (%s)", t.TempC, limit, t.Zone))
		}
	}
	if t.HasThrottled {
		now := []string{}
		if t.Throttled&UnderVoltage != 0 {
			now = append(now, "under-voltage")
		}
		if t.Throttled&FreqCapped != 0 {
			now = append(now, "ARM frequency capped")
		}
		if t.Throttled&Throttling != 0 {
			now = append(now, "throttled")
		}
		if t.Throttled&SoftTempLimit != 0 {
			now = append(now, "soft temperature limit active")
		}
		if len(now) > 0 {
			w = append(w, fmt.Sprintf("the firmware reports %s (get_throttled 0x%x): latency figures are not representative", strings.Join(now, ", "), t.Throttled))
		} else if t.Throttled&(UnderVoltageSeen|FreqCappedSeen|ThrottlingSeen|SoftTempSeen) != 0 {
			w = append(w, fmt.Sprintf("the firmware throttled or saw under-voltage since boot (get_throttled 0x%x): check the power supply and cooling", t.Throttled))
		}
	}
	return w
}

// String summarises the state for edgeinfer board.
func (t Thermal) String() string {
	var parts []string
	if t.HasTemp {
		parts = append(parts, fmt.Sprintf("%.1f °C (%s/temp)", t.TempC, t.Zone))
	} else if t.Zone == "" {
		parts = append(parts, "not read (no thermal zone for this profile)")
	} else {
		parts = append(parts, fmt.Sprintf("no temperature at %s/temp", t.Zone))
	}
	if t.HasThrottled {
		parts = append(parts, fmt.Sprintf("get_throttled 0x%x (%s)", t.Throttled, t.ThrottlePath))
	}
	return strings.Join(parts, "; ")
}
