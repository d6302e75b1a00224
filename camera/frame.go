// Package camera delivers video frames to the model: a V4L2 capture device
// (USB webcams, the Pi camera through its V4L2 driver), raw I420 or YUYV
// frames and concatenated JPEGs (MJPEG) on a reader such as standard
// input, as rpicam-vid writes them, and a Converter that turns each frame
// into a model input tensor without allocating.
//
//	src, err := camera.Open("/dev/video0", camera.Config{Width: 640, Height: 480, FPS: 15})
//	defer src.Close()
//	conv := camera.NewConverter(pre) // pre: an *input.Preprocessor for the model's input
//	for {
//		f, err := src.Next(ctx)
//		…
//		err = conv.Convert(f, m.Input(0))
//		err = m.Run()
//	}
//
// The V4L2 code is plain system calls through golang.org/x/sys/unix (no
// cgo), so the binary cross-compiles statically for arm and arm64.
package camera

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/input"
)

// PixelFormat is a V4L2 fourcc pixel format.
type PixelFormat uint32

// fourcc is v4l2_fourcc(a, b, c, d).
func fourcc(a, b, c, d byte) PixelFormat {
	return PixelFormat(uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24)
}

// The pixel formats this package reads.
var (
	YUYV  = fourcc('Y', 'U', 'Y', 'V') // packed 4:2:2: Y0 Cb Y1 Cr
	I420  = fourcc('Y', 'U', '1', '2') // planar 4:2:0: Y, then Cb, then Cr (V4L2_PIX_FMT_YUV420)
	MJPEG = fourcc('M', 'J', 'P', 'G') // one JPEG per frame
	JPEG  = fourcc('J', 'P', 'E', 'G') // the same, as some drivers name it
)

// fourccBE is the flag v4l2_fourcc_be sets on the big-endian variant of
// a format (Y16-BE, XR15-BE: vivid lists several).
const fourccBE = 1 << 31

// String returns the fourcc as text ("YUYV", "Y16-BE").
func (p PixelFormat) String() string {
	suffix := ""
	if p&fourccBE != 0 {
		suffix = "-BE"
	}
	q := p &^ fourccBE
	b := [4]byte{byte(q), byte(q >> 8), byte(q >> 16), byte(q >> 24)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%08x", uint32(p))
		}
	}
	return strings.TrimRight(string(b[:]), " ") + suffix
}

// compressed reports whether frames of this format are JPEG images.
func (p PixelFormat) compressed() bool { return p == MJPEG || p == JPEG }

// Frame is one video frame. Its Data belongs to the source and is valid
// until the next call to the source's Next or Close.
type Frame struct {
	// Index counts the frames the source has delivered, from 0; frames
	// reported as bad by a FrameError take an index too.
	Index int
	// Sequence is the driver's frame counter for a camera (a gap means
	// the driver dropped frames), Index otherwise.
	Sequence uint32
	Format   PixelFormat
	// Width and Height are the frame size in pixels; 0 for JPEG frames
	// before decoding.
	Width, Height int
	// Stride is the bytes per row of the Y plane (I420) or of the packed
	// frame (YUYV); 0 for JPEG.
	Stride int
	// Range and Matrix describe the YUV encoding of raw frames. JPEG
	// frames are always full-range BT.601 (JFIF).
	Range  input.YUVRange
	Matrix input.YUVMatrix
	Data   []byte
	// Time is when the frame was captured (camera) or read (streams).
	Time time.Time
}

// Source delivers frames.
type Source interface {
	// Next returns the next frame. It returns io.EOF at the end of a
	// stream, a *FrameError for a frame that could not be read (the
	// source may go on past it), and ctx.Err() when ctx is done. The
	// frame and its Data are valid until the next call.
	Next(ctx context.Context) (*Frame, error)
	// Close releases the source.
	Close() error
}

// FrameError reports one bad frame: a corrupt or oversized JPEG, a frame
// the driver flagged as damaged, or a truncated last frame.
type FrameError struct {
	Frame     int   // index of the frame, from 0
	Offset    int64 // byte offset of the frame in the stream, −1 for a camera
	Truncated bool  // the stream ended inside the frame; no frame follows
	Err       error
}

func (e *FrameError) Error() string {
	at := ""
	if e.Offset >= 0 {
		at = fmt.Sprintf(" (byte %d)", e.Offset)
	}
	if e.Truncated {
		return fmt.Sprintf("frame %d%s: truncated: %v", e.Frame, at, e.Err)
	}
	return fmt.Sprintf("frame %d%s: %v", e.Frame, at, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }

// IsFrameError reports whether err is a *FrameError, returning it.
func IsFrameError(err error) (*FrameError, bool) {
	var fe *FrameError
	ok := errors.As(err, &fe)
	return fe, ok
}
