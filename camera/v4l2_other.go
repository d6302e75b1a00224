//go:build !linux

package camera

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/edgeinfer/edgeinfer/input"
)

// Config selects the capture mode; see the Linux documentation.
type Config struct {
	Width, Height int
	Format        PixelFormat
	FPS           int
	Buffers       int
	Timeout       time.Duration
}

// Mode is the negotiated capture mode.
type Mode struct {
	Format        PixelFormat
	Width, Height int
	Stride        int
	SizeImage     int
	FPS           float64
	Range         input.YUVRange
	Matrix        input.YUVMatrix
}

// DeviceInfo describes a capture device.
type DeviceInfo struct {
	Path, Driver, Card, BusInfo string
	Formats                     []FormatDesc
}

// FormatDesc is one capture format the device offers.
type FormatDesc struct {
	Format      PixelFormat
	Description string
	Sizes       [][2]int
}

// Device is a V4L2 capture device; V4L2 exists on Linux only.
type Device struct{}

// Open fails: V4L2 exists on Linux only.
func Open(path string, cfg Config) (*Device, error) {
	return nil, fmt.Errorf("camera %s: V4L2 capture needs Linux (this is %s)", path, runtime.GOOS)
}

func (d *Device) Info() DeviceInfo                         { return DeviceInfo{} }
func (d *Device) Mode() Mode                               { return Mode{} }
func (d *Device) Next(ctx context.Context) (*Frame, error) { return nil, fmt.Errorf("camera: no V4L2") }
func (d *Device) Close() error                             { return nil }

// Devices lists no devices outside Linux.
func Devices() []string { return nil }
