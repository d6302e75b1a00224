//go:build linux

package main

import (
	"testing"
	"unsafe"
)

// The uAPI struct sizes are fixed by the kernel (and encoded in the ioctl
// numbers): a layout mistake here would make every ioctl fail with ENOTTY.
func TestUAPISizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"gpio_v2_line_request", unsafe.Sizeof(lineRequest{}), 592},
		{"gpio_v2_line_info", unsafe.Sizeof(lineInfo{}), 256},
		{"gpio_v2_line_values", unsafe.Sizeof(lineValues{}), 16},
		{"gpio_v2_line_config", unsafe.Sizeof(lineConfig{}), 272},
	} {
		if c.got != c.want {
			t.Errorf("sizeof(%s) = %d, want %d", c.name, c.got, c.want)
		}
	}
	// GPIO_V2_GET_LINE_IOCTL from the kernel headers.
	if getLineIoctl != 0xc250b407 {
		t.Errorf("GPIO_V2_GET_LINE_IOCTL = %#x, want 0xc250b407", getLineIoctl)
	}
	if vidiocSCtrl != 0xc008561c {
		t.Errorf("VIDIOC_S_CTRL = %#x, want 0xc008561c", vidiocSCtrl)
	}
}
