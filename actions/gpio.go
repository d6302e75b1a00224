package actions

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"
)

// PinSpec is a parsed --gpio value.
type PinSpec struct {
	// Name is a pin name for periph.io's registry: "GPIO17" (Raspberry
	// Pi, BCM numbering), "17", or a line name the kernel gives.
	Name string
	// Chip and Line address a line of a GPIO character device directly
	// (gpiochip0:17 or /dev/gpiochip0:17), for boards without line names
	// and for gpio-sim. LineName is set instead of Line for
	// gpiochip0:NAME.
	Chip     string
	Line     int
	LineName string
}

// ParsePinSpec parses a pin: GPIO17, 17, or CHIP:LINE where CHIP is
// gpiochipN or /dev/gpiochipN and LINE is the line offset on that chip
// (or its name).
func ParsePinSpec(s string) (PinSpec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return PinSpec{}, fmt.Errorf("gpio: empty pin name; want GPIO17 or gpiochip0:17")
	}
	chip, line, ok := strings.Cut(s, ":")
	if !ok {
		return PinSpec{Name: s}, nil
	}
	chip = strings.TrimPrefix(chip, "/dev/")
	if !strings.HasPrefix(chip, "gpiochip") {
		return PinSpec{}, fmt.Errorf("gpio %q: a CHIP:LINE pin names a character device, gpiochipN or /dev/gpiochipN", s)
	}
	if _, err := strconv.Atoi(strings.TrimPrefix(chip, "gpiochip")); err != nil {
		return PinSpec{}, fmt.Errorf("gpio %q: chip %q is not gpiochipN", s, chip)
	}
	if line == "" {
		return PinSpec{}, fmt.Errorf("gpio %q: no line after the colon", s)
	}
	p := PinSpec{Chip: chip, Line: -1}
	if n, err := strconv.Atoi(line); err == nil {
		if n < 0 {
			return PinSpec{}, fmt.Errorf("gpio %q: negative line offset", s)
		}
		p.Line = n
	} else {
		p.LineName = line
	}
	return p, nil
}

func (p PinSpec) String() string {
	switch {
	case p.Chip == "":
		return p.Name
	case p.LineName != "":
		return p.Chip + ":" + p.LineName
	}
	return fmt.Sprintf("%s:%d", p.Chip, p.Line)
}

var (
	initOnce sync.Once
	initErr  error
)

// hostInit loads periph.io's host drivers once: on Linux the GPIO
// character-device driver (gpioioctl, every /dev/gpiochipN), sysfs GPIO,
// and on arm the Raspberry Pi (bcm283x) drivers.
func hostInit() error {
	initOnce.Do(func() {
		_, initErr = host.Init()
	})
	return initErr
}

// OpenPin opens the output pin spec names through periph.io. A name
// (GPIO17) is looked up in periph's registry, which the host drivers fill
// with the named lines of every GPIO chip (and, on a Pi, the SoC's
// pins). CHIP:LINE takes line LINE of the character device
// /dev/gpiochipN, as GPIO_V2_GET_LINE_IOCTL numbers it (periph's
// gpioioctl driver), whether or not the line has a name. The pin is not
// driven until the first Out.
func OpenPin(spec string) (gpio.PinOut, error) {
	ps, err := ParsePinSpec(spec)
	if err != nil {
		return nil, err
	}
	if err := hostInit(); err != nil {
		return nil, fmt.Errorf("gpio %s: periph.io host drivers: %w", ps, err)
	}
	if ps.Chip == "" {
		p := gpioreg.ByName(ps.Name)
		if p == nil {
			return nil, fmt.Errorf("gpio %s: no such pin%s", ps, pinHint())
		}
		return p, nil
	}
	for _, c := range gpioioctl.Chips {
		if c.Name() != ps.Chip && filepath.Base(c.Path()) != ps.Chip {
			continue
		}
		var l *gpioioctl.GPIOLine
		if ps.LineName != "" {
			l = c.ByName(ps.LineName)
		} else if ps.Line < c.LineCount() {
			l = c.ByNumber(ps.Line)
		}
		if l == nil {
			return nil, fmt.Errorf("gpio %s: %s (%s) has %d lines and no line %s", ps, c.Name(), c.Label(), c.LineCount(), strings.TrimPrefix(ps.String(), ps.Chip+":"))
		}
		return l, nil
	}
	return nil, fmt.Errorf("gpio %s: no GPIO character device %s%s", ps, ps.Chip, pinHint())
}

// pinHint lists the chips and a few pin names for error messages.
func pinHint() string {
	var chips []string
	for _, c := range gpioioctl.Chips {
		chips = append(chips, fmt.Sprintf("%s (%s, %d lines)", c.Name(), c.Label(), c.LineCount()))
	}
	var names []string
	for _, p := range gpioreg.All() {
		names = append(names, p.Name())
	}
	sort.Strings(names)
	if len(names) > 12 {
		names = append(names[:12], "…")
	}
	if len(chips) == 0 && len(names) == 0 {
		return "; this machine has no GPIO (no readable /dev/gpiochip*): use --dry-run to test"
	}
	s := ""
	if len(chips) > 0 {
		s += "; chips: " + strings.Join(chips, ", ")
	}
	if len(names) > 0 {
		s += "; pins: " + strings.Join(names, " ")
	}
	return s
}
