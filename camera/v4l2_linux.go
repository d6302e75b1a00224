package camera

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/edgeinfer/edgeinfer/input"
)

// abi is the V4L2 ABI of the running architecture: its abiLayouts entry,
// or for an architecture without one the layout of the Go declarations
// with the ioctl numbers derived by the same formulas.
var abi = func() abiLayout {
	if l, ok := abiLayouts[runtime.GOARCH]; ok {
		return l
	}
	return goLayout()
}()

// Config selects the capture mode. Zero fields keep the driver's choice.
type Config struct {
	// Width and Height request a frame size; the driver picks the
	// nearest it supports (Format reports it).
	Width, Height int
	// Format is YUYV or MJPEG; 0 takes YUYV when the device offers it,
	// else MJPEG.
	Format PixelFormat
	// FPS requests a frame rate (VIDIOC_S_PARM); drivers round it.
	FPS int
	// Buffers is the number of mmap buffers (default 4).
	Buffers int
	// Timeout bounds the wait for one frame (default 2 s).
	Timeout time.Duration
}

// DeviceInfo is what VIDIOC_QUERYCAP and VIDIOC_ENUM_FMT report.
type DeviceInfo struct {
	Path, Driver, Card, BusInfo string
	Formats                     []FormatDesc
}

// FormatDesc is one capture format the device offers.
type FormatDesc struct {
	Format      PixelFormat
	Description string
	Sizes       [][2]int // discrete frame sizes, when the driver lists them
}

// Mode is the negotiated capture mode.
type Mode struct {
	Format        PixelFormat
	Width, Height int
	Stride        int // bytes per line
	SizeImage     int // bytes per frame (the upper bound for MJPEG)
	FPS           float64
	Range         input.YUVRange
	Matrix        input.YUVMatrix
}

// Device is an open V4L2 capture device streaming into mmap buffers.
type Device struct {
	path    string
	fd      int
	info    DeviceInfo
	mode    Mode
	bufs    [][]byte
	held    int // buffer index handed out by the last Next, −1 for none
	stream  bool
	timeout time.Duration
	frame   Frame
	count   int
	clock   clockMap
}

// Open opens the capture device at path (/dev/video0), negotiates the
// mode in cfg, maps the buffers and starts streaming.
func Open(path string, cfg Config) (d *Device, err error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("camera %s: %w", path, err)
	}
	d = &Device{path: path, fd: fd, held: -1, timeout: cfg.Timeout}
	if d.timeout <= 0 {
		d.timeout = 2 * time.Second
	}
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	if err := d.query(); err != nil {
		return nil, err
	}
	if err := d.setFormat(cfg); err != nil {
		return nil, err
	}
	if cfg.FPS > 0 {
		if err := d.setFPS(cfg.FPS); err != nil {
			return nil, err
		}
	} else {
		d.mode.FPS = d.getFPS()
	}
	n := cfg.Buffers
	if n <= 0 {
		n = 4
	}
	if err := d.mapBuffers(n); err != nil {
		return nil, err
	}
	for i := range d.bufs {
		if err := d.queue(i); err != nil {
			return nil, err
		}
	}
	typ := int32(bufTypeVideoCapture)
	if err := d.ioctl(abi.VIDIOC_STREAMON, unsafe.Pointer(&typ)); err != nil {
		return nil, fmt.Errorf("camera %s: VIDIOC_STREAMON: %w", path, err)
	}
	d.stream = true
	return d, nil
}

func (d *Device) ioctl(req uint32, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(d.fd), uintptr(req), uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// query runs VIDIOC_QUERYCAP and lists the formats.
func (d *Device) query() error {
	var c v4l2Capability
	if err := d.ioctl(abi.VIDIOC_QUERYCAP, unsafe.Pointer(&c)); err != nil {
		return fmt.Errorf("camera %s: VIDIOC_QUERYCAP: %w (not a V4L2 device?)", d.path, err)
	}
	d.info = DeviceInfo{Path: d.path, Driver: cstr(c.Driver[:]), Card: cstr(c.Card[:]), BusInfo: cstr(c.BusInfo[:])}
	caps := c.Capabilities
	if caps&capDeviceCaps != 0 {
		caps = c.DeviceCaps // this node's capabilities, not the whole device's
	}
	if caps&capVideoCapture == 0 {
		return fmt.Errorf("camera %s (%s): not a single-planar video capture node (capabilities 0x%08x); try another /dev/video*", d.path, d.info.Card, caps)
	}
	if caps&capStreaming == 0 {
		return fmt.Errorf("camera %s (%s): no streaming I/O (capabilities 0x%08x)", d.path, d.info.Card, caps)
	}
	for i := uint32(0); i < 64; i++ {
		fd := v4l2Fmtdesc{Index: i, Type: bufTypeVideoCapture}
		if err := d.ioctl(abi.VIDIOC_ENUM_FMT, unsafe.Pointer(&fd)); err != nil {
			break // EINVAL ends the list
		}
		desc := FormatDesc{Format: PixelFormat(fd.PixelFormat), Description: cstr(fd.Description[:])}
		for j := uint32(0); j < 64; j++ {
			fs := v4l2FrmSizeEnum{Index: j, PixelFormat: fd.PixelFormat}
			if d.ioctl(abi.VIDIOC_ENUM_FRAMESIZES, unsafe.Pointer(&fs)) != nil || fs.Type != frmSizeTypeDiscrete {
				break
			}
			desc.Sizes = append(desc.Sizes, [2]int{int(fs.Size[0]), int(fs.Size[1])})
		}
		d.info.Formats = append(d.info.Formats, desc)
	}
	return nil
}

func (d *Device) offers(p PixelFormat) bool {
	for _, f := range d.info.Formats {
		if f.Format == p {
			return true
		}
	}
	return false
}

func (d *Device) formatList() string {
	s := ""
	for i, f := range d.info.Formats {
		if i > 0 {
			s += ", "
		}
		s += f.Format.String()
	}
	if s == "" {
		return "none listed"
	}
	return s
}

// setFormat runs VIDIOC_S_FMT with the requested format and size and
// reads back what the driver chose.
func (d *Device) setFormat(cfg Config) error {
	want := cfg.Format
	switch {
	case want == 0 && d.offers(YUYV):
		want = YUYV
	case want == 0 && d.offers(MJPEG):
		want = MJPEG
	case want == 0 && d.offers(JPEG):
		want = JPEG
	case want == MJPEG && !d.offers(MJPEG) && d.offers(JPEG):
		want = JPEG
	}
	if want != YUYV && !want.compressed() {
		return fmt.Errorf("camera %s: format %v: this program reads YUYV and MJPEG; the device offers %s", d.path, want, d.formatList())
	}
	if !d.offers(want) {
		return fmt.Errorf("camera %s: the device does not offer %v; it offers %s", d.path, want, d.formatList())
	}
	var f v4l2Format
	f.Type = bufTypeVideoCapture
	if err := d.ioctl(abi.VIDIOC_G_FMT, unsafe.Pointer(&f)); err != nil {
		return fmt.Errorf("camera %s: VIDIOC_G_FMT: %w", d.path, err)
	}
	p := f.pix()
	p.PixelFormat = uint32(want)
	if cfg.Width > 0 && cfg.Height > 0 {
		p.Width, p.Height = uint32(cfg.Width), uint32(cfg.Height)
	}
	p.Field = fieldNone
	p.BytesPerLine = 0 // let the driver choose
	if err := d.ioctl(abi.VIDIOC_S_FMT, unsafe.Pointer(&f)); err != nil {
		return fmt.Errorf("camera %s: VIDIOC_S_FMT %v %dx%d: %w", d.path, want, p.Width, p.Height, err)
	}
	f = v4l2Format{Type: bufTypeVideoCapture}
	if err := d.ioctl(abi.VIDIOC_G_FMT, unsafe.Pointer(&f)); err != nil {
		return fmt.Errorf("camera %s: VIDIOC_G_FMT: %w", d.path, err)
	}
	p = f.pix()
	if PixelFormat(p.PixelFormat) != want {
		return fmt.Errorf("camera %s: asked for %v, the driver chose %v", d.path, want, PixelFormat(p.PixelFormat))
	}
	d.mode = Mode{
		Format: want, Width: int(p.Width), Height: int(p.Height),
		Stride: int(p.BytesPerLine), SizeImage: int(p.SizeImage),
	}
	if want == YUYV && d.mode.Stride < 2*d.mode.Width {
		d.mode.Stride = 2 * d.mode.Width
	}
	d.mode.Range, d.mode.Matrix = yuvEncoding(p)
	return nil
}

// yuvEncoding interprets the colour fields of a YUV format as the V4L2
// documentation defines the defaults: limited range unless the driver
// says full range (or the colorspace is JPEG), BT.709 only when the
// encoding or colorspace says so.
func yuvEncoding(p *v4l2PixFormat) (input.YUVRange, input.YUVMatrix) {
	r := input.LimitedRange
	if p.Quantization == quantFullRange || (p.Quantization == quantDefault && p.Colorspace == colorspaceJPEG) {
		r = input.FullRange
	}
	m := input.BT601
	if p.YCbCrEnc == ycbcrEnc709 || (p.YCbCrEnc == ycbcrEncDefault && p.Colorspace == colorspaceREC709) {
		m = input.BT709
	}
	return r, m
}

func (d *Device) setFPS(fps int) error {
	p := v4l2StreamParm{Type: bufTypeVideoCapture}
	if err := d.ioctl(abi.VIDIOC_G_PARM, unsafe.Pointer(&p)); err != nil {
		return fmt.Errorf("camera %s: VIDIOC_G_PARM: %w", d.path, err)
	}
	if p.capture().Capability&capTimePerFrame == 0 {
		d.mode.FPS = d.getFPS()
		return fmt.Errorf("camera %s: the driver cannot set the frame rate (--fps %d); omit it", d.path, fps)
	}
	c := p.capture()
	c.TimePerFrame = v4l2Fract{Numerator: 1, Denominator: uint32(fps)}
	if err := d.ioctl(abi.VIDIOC_S_PARM, unsafe.Pointer(&p)); err != nil {
		return fmt.Errorf("camera %s: VIDIOC_S_PARM %d fps: %w", d.path, fps, err)
	}
	d.mode.FPS = fpsOf(c.TimePerFrame) // S_PARM writes back what it set
	return nil
}

func (d *Device) getFPS() float64 {
	p := v4l2StreamParm{Type: bufTypeVideoCapture}
	if d.ioctl(abi.VIDIOC_G_PARM, unsafe.Pointer(&p)) != nil {
		return 0
	}
	return fpsOf(p.capture().TimePerFrame)
}

func fpsOf(t v4l2Fract) float64 {
	if t.Numerator == 0 {
		return 0
	}
	return float64(t.Denominator) / float64(t.Numerator)
}

// mapBuffers requests n mmap buffers and maps them.
func (d *Device) mapBuffers(n int) error {
	rb := v4l2RequestBuffers{Count: uint32(n), Type: bufTypeVideoCapture, Memory: memoryMmap}
	if err := d.ioctl(abi.VIDIOC_REQBUFS, unsafe.Pointer(&rb)); err != nil {
		return fmt.Errorf("camera %s: VIDIOC_REQBUFS %d: %w", d.path, n, err)
	}
	if rb.Count < 2 {
		return fmt.Errorf("camera %s: the driver granted %d buffers; need at least 2", d.path, rb.Count)
	}
	d.bufs = make([][]byte, 0, rb.Count)
	for i := uint32(0); i < rb.Count; i++ {
		b := v4l2Buffer{Index: i, Type: bufTypeVideoCapture, Memory: memoryMmap}
		if err := d.ioctl(abi.VIDIOC_QUERYBUF, unsafe.Pointer(&b)); err != nil {
			return fmt.Errorf("camera %s: VIDIOC_QUERYBUF %d: %w", d.path, i, err)
		}
		m, err := unix.Mmap(d.fd, int64(b.offset()), int(b.Length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("camera %s: mmap buffer %d (%d bytes): %w", d.path, i, b.Length, err)
		}
		d.bufs = append(d.bufs, m)
	}
	return nil
}

func (d *Device) queue(i int) error {
	b := v4l2Buffer{Index: uint32(i), Type: bufTypeVideoCapture, Memory: memoryMmap}
	if err := d.ioctl(abi.VIDIOC_QBUF, unsafe.Pointer(&b)); err != nil {
		return streamErr(d.path, fmt.Sprintf("VIDIOC_QBUF %d", i), err)
	}
	return nil
}

// Info describes the device.
func (d *Device) Info() DeviceInfo { return d.info }

// Mode is the negotiated capture mode.
func (d *Device) Mode() Mode { return d.mode }

// Next waits (up to the configured timeout, polling) for the next frame.
// The buffer of the previous frame is given back to the driver first.
// A frame the driver flags as damaged is returned as a *FrameError (the
// stream goes on).
func (d *Device) Next(ctx context.Context) (*Frame, error) {
	if !d.stream {
		return nil, fmt.Errorf("camera %s: not streaming", d.path)
	}
	if d.held >= 0 {
		i := d.held
		d.held = -1
		if err := d.queue(i); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(d.timeout)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := v4l2Buffer{Type: bufTypeVideoCapture, Memory: memoryMmap}
		err := d.ioctl(abi.VIDIOC_DQBUF, unsafe.Pointer(&b))
		if err == nil {
			return d.deliver(&b)
		}
		if err != unix.EAGAIN {
			return nil, streamErr(d.path, "VIDIOC_DQBUF", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("camera %s: no frame within %v", d.path, d.timeout)
		}
		// Short polls, so a cancelled ctx is noticed promptly.
		ms := int(min(left, 100*time.Millisecond) / time.Millisecond)
		pfd := [1]unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd[:], max(ms, 1)); err != nil && err != unix.EINTR {
			return nil, fmt.Errorf("camera %s: poll: %w", d.path, err)
		}
		if pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 && pfd[0].Revents&unix.POLLIN == 0 {
			return nil, fmt.Errorf("camera %s: %s (poll revents 0x%x)", d.path, disconnected, pfd[0].Revents)
		}
	}
}

// disconnected is what a camera whose ioctls fail with ENODEV has become:
// a USB camera pulled out, or a driver unbound from its device (vivid's
// unbind in test/vm). Every later ioctl fails the same way.
const disconnected = "the device is gone (unplugged, or its driver unbound)"

// streamErr reports a failed streaming ioctl, in words when the device
// has disappeared.
func streamErr(path, op string, err error) error {
	if errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("camera %s: %s: %s: %w", path, disconnected, op, err)
	}
	return fmt.Errorf("camera %s: %s: %w", path, op, err)
}

func (d *Device) deliver(b *v4l2Buffer) (*Frame, error) {
	i := int(b.Index)
	if i >= len(d.bufs) {
		return nil, fmt.Errorf("camera %s: driver returned buffer %d of %d", d.path, i, len(d.bufs))
	}
	d.held = i
	idx := d.count
	d.count++
	n := int(b.BytesUsed)
	if n <= 0 || n > len(d.bufs[i]) {
		n = len(d.bufs[i])
	}
	if b.Flags&bufFlagError != 0 {
		return nil, &FrameError{Frame: idx, Offset: -1, Err: errors.New("the driver flagged the buffer as damaged")}
	}
	d.frame = Frame{
		Index: idx, Sequence: b.Sequence, Format: d.mode.Format,
		Width: d.mode.Width, Height: d.mode.Height, Range: d.mode.Range, Matrix: d.mode.Matrix,
		Data: d.bufs[i][:n],
		Time: d.clock.wall(b),
	}
	if d.mode.Format.compressed() {
		d.frame.Width, d.frame.Height, d.frame.Range, d.frame.Matrix = 0, 0, input.FullRange, input.BT601
	} else {
		d.frame.Stride = d.mode.Stride
		if need := d.mode.Stride * d.mode.Height; n < need {
			return nil, &FrameError{Frame: idx, Offset: -1, Err: fmt.Errorf("short buffer: %d bytes, a %dx%d %v frame needs %d", n, d.mode.Width, d.mode.Height, d.mode.Format, need)}
		}
	}
	return &d.frame, nil
}

// clockMap converts driver timestamps to wall-clock time. Drivers stamp
// buffers with CLOCK_MONOTONIC (V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC); the
// offset to the wall clock is measured once.
type clockMap struct {
	set    bool
	offset time.Duration // wall − monotonic
}

func (c *clockMap) wall(b *v4l2Buffer) time.Time {
	ts := time.Duration(b.Timestamp.Sec)*time.Second + time.Duration(b.Timestamp.Usec)*time.Microsecond
	if b.Flags&bufFlagTimestampMask != bufFlagTimestampMono || ts == 0 {
		return time.Now()
	}
	if !c.set {
		var mono unix.Timespec
		if unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono) != nil {
			return time.Now()
		}
		now := time.Now()
		c.offset = time.Duration(now.UnixNano()) - time.Duration(mono.Nano())
		c.set = true
	}
	return time.Unix(0, int64(ts+c.offset))
}

// Close stops streaming, unmaps the buffers, frees them (VIDIOC_REQBUFS
// with count 0) and closes the device. It is safe to call more than once.
func (d *Device) Close() error {
	if d == nil || d.fd < 0 {
		return nil
	}
	var errs []error
	if d.stream {
		typ := int32(bufTypeVideoCapture)
		if err := d.ioctl(abi.VIDIOC_STREAMOFF, unsafe.Pointer(&typ)); err != nil {
			errs = append(errs, fmt.Errorf("VIDIOC_STREAMOFF: %w", err))
		}
		d.stream = false
	}
	for _, b := range d.bufs {
		if err := unix.Munmap(b); err != nil {
			errs = append(errs, fmt.Errorf("munmap: %w", err))
		}
	}
	if d.bufs != nil {
		rb := v4l2RequestBuffers{Count: 0, Type: bufTypeVideoCapture, Memory: memoryMmap}
		if err := d.ioctl(abi.VIDIOC_REQBUFS, unsafe.Pointer(&rb)); err != nil {
			errs = append(errs, fmt.Errorf("VIDIOC_REQBUFS 0: %w", err))
		}
		d.bufs = nil
	}
	if err := unix.Close(d.fd); err != nil {
		errs = append(errs, err)
	}
	d.fd = -1
	d.held = -1
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("camera %s: close: %w", d.path, err)
	}
	return nil
}

var _ Source = (*Device)(nil)

// Devices lists the video capture device nodes (/dev/video*), sorted.
func Devices() []string {
	var out []string
	for i := 0; i < 64; i++ {
		p := fmt.Sprintf("/dev/video%d", i)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}
