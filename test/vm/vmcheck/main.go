//go:build linux

// Command vmcheck reads GPIO lines back through the kernel's GPIO
// character device (GPIO v2 ioctls), independently of edgeinfer and
// periph.io, for the VM test (test/vm). It runs inside the VM:
//
//	vmcheck info /dev/gpiochip0 0   # consumer, direction and flags of line 0
//	vmcheck get  /dev/gpiochip0 0   # request line 0 as-is and print its value
//	vmcheck ctrl /dev/video0 0xf0f000 5   # VIDIOC_S_CTRL (vivid's test pattern: black)
//
// "info" works while another process holds the line; "get" needs the
// line free. Both print one line "key=value ..." for the init script.
package main

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The GPIO v2 uAPI (include/uapi/linux/gpio.h).
const (
	gpioMaxLines = 64
	gpioMaxAttrs = 10

	flagUsed      = 1 << 0
	flagActiveLow = 1 << 1
	flagInput     = 1 << 2
	flagOutput    = 1 << 3
)

type lineAttribute struct {
	ID      uint32
	Padding uint32
	Value   uint64 // flags, values or debounce_period_us
}

type lineConfigAttribute struct {
	Attr lineAttribute
	Mask uint64
}

type lineConfig struct {
	Flags    uint64
	NumAttrs uint32
	Padding  [5]uint32
	Attrs    [gpioMaxAttrs]lineConfigAttribute
}

type lineRequest struct {
	Offsets         [gpioMaxLines]uint32
	Consumer        [32]byte
	Config          lineConfig
	NumLines        uint32
	EventBufferSize uint32
	Padding         [5]uint32
	Fd              int32
}

type lineValues struct {
	Bits, Mask uint64
}

type lineInfo struct {
	Name     [32]byte
	Consumer [32]byte
	Offset   uint32
	NumAttrs uint32
	Flags    uint64
	Attrs    [gpioMaxAttrs]lineAttribute
	Padding  [4]uint32
}

func iowr(typ, nr, size uintptr) uintptr { return 3<<30 | size<<16 | typ<<8 | nr }

// v4l2Control is struct v4l2_control.
type v4l2Control struct {
	ID    uint32
	Value int32
}

var (
	getLineInfoIoctl   = iowr(0xB4, 0x05, unsafe.Sizeof(lineInfo{}))
	getLineIoctl       = iowr(0xB4, 0x07, unsafe.Sizeof(lineRequest{}))
	lineGetValuesIoctl = iowr(0xB4, 0x0E, unsafe.Sizeof(lineValues{}))
	vidiocSCtrl        = iowr('V', 28, unsafe.Sizeof(v4l2Control{}))
)

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func info(fd int, line uint32) (string, error) {
	li := lineInfo{Offset: line}
	if err := ioctl(fd, getLineInfoIoctl, unsafe.Pointer(&li)); err != nil {
		return "", fmt.Errorf("GPIO_V2_GET_LINEINFO_IOCTL: %w", err)
	}
	dir := "input"
	if li.Flags&flagOutput != 0 {
		dir = "output"
	} else if li.Flags&flagInput == 0 {
		dir = "unknown"
	}
	consumer := cstr(li.Consumer[:])
	if consumer == "" {
		consumer = "-"
	}
	return fmt.Sprintf("line=%d used=%t direction=%s active_low=%t consumer=%s", line, li.Flags&flagUsed != 0, dir, li.Flags&flagActiveLow != 0, consumer), nil
}

// get requests the line with no direction flag, which leaves its
// direction and output value as they are, and reads its value.
func get(fd int, line uint32) (string, error) {
	var req lineRequest
	req.Offsets[0] = line
	req.NumLines = 1
	copy(req.Consumer[:], "vmcheck")
	if err := ioctl(fd, getLineIoctl, unsafe.Pointer(&req)); err != nil {
		return "", fmt.Errorf("GPIO_V2_GET_LINE_IOCTL line %d: %w", line, err)
	}
	defer unix.Close(int(req.Fd))
	v := lineValues{Mask: 1}
	if err := ioctl(int(req.Fd), lineGetValuesIoctl, unsafe.Pointer(&v)); err != nil {
		return "", fmt.Errorf("GPIO_V2_LINE_GET_VALUES_IOCTL: %w", err)
	}
	return fmt.Sprintf("line=%d value=%d", line, v.Bits&1), nil
}

// setCtrl sets a V4L2 control (VIDIOC_S_CTRL) on a video device, which
// may be streaming to another process.
func setCtrl(dev, id, value string) error {
	i, err := strconv.ParseUint(id, 0, 32)
	if err != nil {
		return fmt.Errorf("control id %q: %w", id, err)
	}
	v, err := strconv.ParseInt(value, 0, 32)
	if err != nil {
		return fmt.Errorf("control value %q: %w", value, err)
	}
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	c := v4l2Control{ID: uint32(i), Value: int32(v)}
	if err := ioctl(fd, vidiocSCtrl, unsafe.Pointer(&c)); err != nil {
		return fmt.Errorf("VIDIOC_S_CTRL %#x=%d: %w", i, v, err)
	}
	return nil
}

func main() {
	if len(os.Args) == 5 && os.Args[1] == "ctrl" {
		if err := setCtrl(os.Args[2], os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintf(os.Stderr, "vmcheck: %s: %v\n", os.Args[2], err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 4 || (os.Args[1] != "info" && os.Args[1] != "get") {
		fmt.Fprintln(os.Stderr, "usage: vmcheck info|get /dev/gpiochipN LINE, or vmcheck ctrl /dev/videoN ID VALUE")
		os.Exit(2)
	}
	line, err := strconv.ParseUint(os.Args[3], 10, 32)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmcheck: line %q: %v\n", os.Args[3], err)
		os.Exit(2)
	}
	fd, err := unix.Open(os.Args[2], unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmcheck: %s: %v\n", os.Args[2], err)
		os.Exit(1)
	}
	defer unix.Close(fd)
	var out string
	if os.Args[1] == "info" {
		out, err = info(fd, uint32(line))
	} else {
		out, err = get(fd, uint32(line))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmcheck: %s: %v\n", os.Args[2], err)
		os.Exit(1)
	}
	fmt.Println(out)
}
