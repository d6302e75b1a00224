package camera

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/edgeinfer/edgeinfer/input"
)

// StreamFormat describes the frames on a byte stream.
type StreamFormat struct {
	Format        PixelFormat // I420, YUYV or MJPEG
	Width, Height int         // raw formats only
}

// ParseStreamFormat parses a stream description:
//
//	yuv420:WxH   raw I420 frames (rpicam-vid --codec yuv420, ffmpeg -pix_fmt yuv420p -f rawvideo)
//	yuyv:WxH     raw YUYV 4:2:2 frames
//	mjpeg        concatenated JPEG images (rpicam-vid --codec mjpeg, ffmpeg -f mjpeg)
func ParseStreamFormat(s string) (StreamFormat, error) {
	name, size, hasSize := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	var f StreamFormat
	switch name {
	case "yuv420", "i420", "yuv420p":
		f.Format = I420
	case "yuyv", "yuyv422", "yuy2":
		f.Format = YUYV
	case "mjpeg", "mjpg", "jpeg":
		if hasSize {
			return f, fmt.Errorf("stream format %q: mjpeg takes no size (each JPEG carries its own)", s)
		}
		f.Format = MJPEG
		return f, nil
	default:
		return f, fmt.Errorf("stream format %q: want yuv420:WxH, yuyv:WxH or mjpeg", s)
	}
	if !hasSize {
		return f, fmt.Errorf("stream format %q: raw frames need a size, e.g. %s:640x480", s, name)
	}
	ws, hs, ok := strings.Cut(size, "x")
	var err error
	if ok {
		if f.Width, err = strconv.Atoi(ws); err == nil {
			f.Height, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || f.Width <= 0 || f.Height <= 0 || f.Width > 1<<14 || f.Height > 1<<14 {
		return f, fmt.Errorf("stream format %q: size %q: want WIDTHxHEIGHT, e.g. 640x480", s, size)
	}
	if f.Format == YUYV && f.Width%2 != 0 {
		return f, fmt.Errorf("stream format %q: YUYV needs an even width", s)
	}
	return f, nil
}

// NewStream returns a Source reading frames of format f from r. Raw
// frames are taken as limited-range BT.601 unless yuvRange or yuvMatrix
// say otherwise (the values are ignored for MJPEG).
func NewStream(r io.Reader, f StreamFormat, yuvRange input.YUVRange, yuvMatrix input.YUVMatrix) (Source, error) {
	switch f.Format {
	case I420, YUYV:
		return NewRawStream(r, f.Format, f.Width, f.Height, yuvRange, yuvMatrix)
	case MJPEG, JPEG:
		return NewMJPEGStream(r, 0), nil
	}
	return nil, fmt.Errorf("stream: unsupported format %v", f.Format)
}

// RawStream reads fixed-size raw frames (I420 or YUYV, no padding).
type RawStream struct {
	r      io.Reader
	layout input.YUVLayout
	frame  Frame
	buf    []byte
	count  int
	offset int64
	done   bool
}

// NewRawStream returns a Source of w×h frames in layout format (I420 or
// YUYV) read from r.
func NewRawStream(r io.Reader, format PixelFormat, w, h int, rng input.YUVRange, mat input.YUVMatrix) (*RawStream, error) {
	var l input.YUVLayout
	switch format {
	case I420:
		l = input.I420
	case YUYV:
		l = input.YUYV
		if w%2 != 0 {
			return nil, fmt.Errorf("stream: YUYV width %d is odd", w)
		}
	default:
		return nil, fmt.Errorf("stream: raw format %v: want I420 or YUYV", format)
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("stream: frame size %dx%d must be positive", w, h)
	}
	s := &RawStream{r: r, buf: make([]byte, input.FrameSize(l, w, h)), layout: l}
	s.frame = Frame{Format: format, Width: w, Height: h, Range: rng, Matrix: mat, Data: s.buf}
	s.frame.Stride = w
	if l == input.YUYV {
		s.frame.Stride = 2 * w
	}
	return s, nil
}

// FrameBytes is the size of one frame.
func (s *RawStream) FrameBytes() int { return len(s.buf) }

// Next reads the next frame. The stream ending inside a frame gives a
// *FrameError with Truncated set, naming the frame and the bytes read.
func (s *RawStream) Next(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	n, err := io.ReadFull(s.r, s.buf)
	idx := s.count
	off := s.offset
	s.offset += int64(n)
	switch {
	case err == io.EOF:
		s.done = true
		return nil, io.EOF
	case err == io.ErrUnexpectedEOF:
		s.done = true
		s.count++
		return nil, &FrameError{Frame: idx, Offset: off, Truncated: true,
			Err: fmt.Errorf("the stream ended after %d of the frame's %d bytes (%s %dx%d)", n, len(s.buf), s.layout, s.frame.Width, s.frame.Height)}
	case err != nil:
		return nil, fmt.Errorf("stream: frame %d: %w", idx, err)
	}
	s.count++
	s.frame.Index = idx
	s.frame.Sequence = uint32(idx)
	s.frame.Time = time.Now()
	return &s.frame, nil
}

// Close does nothing: the reader belongs to the caller.
func (s *RawStream) Close() error { return nil }

// DefaultMaxJPEG bounds one JPEG frame of an MJPEG stream.
const DefaultMaxJPEG = 16 << 20

// MJPEGStream splits a byte stream of concatenated JPEG images. It follows
// the marker structure (segment lengths, entropy-coded data with its 0xFF00
// stuffing and restart markers) instead of searching for the first 0xFFD9,
// so thumbnails inside EXIF segments do not end a frame early. Bytes
// between images are skipped and reported; an image larger than the
// bound, or with a broken marker structure, is reported as a *FrameError
// and the stream resynchronises on the next start-of-image marker.
type MJPEGStream struct {
	br      *bufio.Reader
	max     int
	buf     []byte
	frame   Frame
	count   int
	offset  int64 // bytes consumed
	start   int64 // offset of the current frame
	skipped int64 // garbage bytes skipped before the current frame
	done    bool
	pending bool // an SOI was read while parsing the previous frame
}

// NewMJPEGStream returns a Source of the JPEG images in r; maxFrame bounds
// one image (0 for DefaultMaxJPEG).
func NewMJPEGStream(r io.Reader, maxFrame int) *MJPEGStream {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxJPEG
	}
	return &MJPEGStream{br: bufio.NewReaderSize(r, 64<<10), max: maxFrame, buf: make([]byte, 0, 256<<10)}
}

// Skipped returns the number of bytes skipped before the last frame
// returned (data that is not part of any JPEG image).
func (s *MJPEGStream) Skipped() int64 { return s.skipped }

var errFrameTooBig = errors.New("frame too large")

// Next returns the next complete JPEG image: its bytes from SOI to EOI.
func (s *MJPEGStream) Next(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	s.skipped = 0
	if !s.pending {
		if err := s.findSOI(); err != nil {
			s.done = true
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("stream: %w", err)
		}
	}
	s.pending = false
	idx := s.count
	s.count++
	s.buf = append(s.buf[:0], 0xff, 0xd8)
	start := s.start // readImage moves s.start when it meets the next image
	err := s.readImage()
	switch {
	case err == nil:
		s.frame = Frame{Index: idx, Sequence: uint32(idx), Format: MJPEG, Range: input.FullRange, Matrix: input.BT601, Data: s.buf, Time: time.Now()}
		return &s.frame, nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		s.done = true
		return nil, &FrameError{Frame: idx, Offset: start, Truncated: true,
			Err: fmt.Errorf("the stream ended after %d bytes of the JPEG, before its end-of-image marker", len(s.buf))}
	case errors.Is(err, errFrameTooBig):
		return nil, &FrameError{Frame: idx, Offset: start, Err: fmt.Errorf("JPEG larger than %d bytes; skipped to the next image", s.max)}
	}
	var fe formatError
	if errors.As(err, &fe) {
		return nil, &FrameError{Frame: idx, Offset: start, Err: fmt.Errorf("bad JPEG: %v; skipped to the next image", err)}
	}
	s.done = true
	return nil, fmt.Errorf("stream: frame %d: %w", idx, err)
}

type formatError string

func (e formatError) Error() string { return string(e) }

func (s *MJPEGStream) readByte() (byte, error) {
	c, err := s.br.ReadByte()
	if err == nil {
		s.offset++
	}
	return c, err
}

// findSOI skips to the next 0xFFD8 and consumes it.
func (s *MJPEGStream) findSOI() error {
	prevFF := false
	for {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if prevFF && c == 0xd8 {
			s.skipped -= 1 // the 0xFF was counted
			s.start = s.offset - 2
			return nil
		}
		prevFF = c == 0xff
		s.skipped++
	}
}

func (s *MJPEGStream) addBytes(b []byte) error {
	if len(s.buf)+len(b) > s.max {
		return errFrameTooBig
	}
	s.buf = append(s.buf, b...)
	return nil
}

func (s *MJPEGStream) addByte(c byte) error {
	if len(s.buf)+1 > s.max {
		return errFrameTooBig
	}
	s.buf = append(s.buf, c)
	return nil
}

// readImage reads the rest of an image after its SOI into s.buf.
func (s *MJPEGStream) readImage() error {
	for {
		// A marker: 0xFF, optional fill 0xFFs, the code.
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if c != 0xff {
			return formatError(fmt.Sprintf("byte 0x%02x where a marker should start (offset %d in the image)", c, len(s.buf)))
		}
		m, err := s.marker()
		if err != nil {
			return err
		}
		end, err := s.segment(m)
		if err != nil || end {
			return err
		}
	}
}

// marker reads fill bytes and the marker code after a 0xFF.
func (s *MJPEGStream) marker() (byte, error) {
	for {
		m, err := s.readByte()
		if err != nil {
			return 0, err
		}
		if m != 0xff {
			return m, nil
		}
	}
}

// segment handles marker m (its 0xFF already consumed): standalone
// markers, length-prefixed segments, and for SOS the entropy-coded data
// that follows, up to the next marker, which it handles in turn. end
// reports the end-of-image marker.
func (s *MJPEGStream) segment(m byte) (end bool, err error) {
	for {
		if err := s.addByte(0xff); err != nil {
			return false, err
		}
		if err := s.addByte(m); err != nil {
			return false, err
		}
		switch {
		case m == 0xd9: // EOI
			return true, nil
		case m == 0xd8: // SOI inside an image: the image was cut short
			s.pending = true
			s.start = s.offset - 2
			return false, formatError("a new image starts before the end-of-image marker")
		case m >= 0xd0 && m <= 0xd7, m == 0x01: // RSTn, TEM: no payload
			return false, nil
		case m == 0x00:
			return false, formatError("stuffed 0xFF00 outside entropy-coded data")
		}
		hi, err := s.readByte()
		if err != nil {
			return false, err
		}
		lo, err := s.readByte()
		if err != nil {
			return false, err
		}
		n := int(hi)<<8 | int(lo)
		if n < 2 {
			return false, formatError(fmt.Sprintf("segment 0xFF%02X with length %d", m, n))
		}
		if len(s.buf)+n > s.max {
			return false, errFrameTooBig
		}
		s.buf = append(s.buf, hi, lo)
		start := len(s.buf)
		s.buf = s.buf[:start+n-2]
		if _, err := io.ReadFull(s.br, s.buf[start:]); err != nil {
			s.buf = s.buf[:start]
			return false, err
		}
		s.offset += int64(n - 2)
		if m != 0xda { // not SOS
			return false, nil
		}
		if m, err = s.entropyData(); err != nil {
			return false, err
		}
	}
}

// entropyData copies entropy-coded data up to the next marker that is
// neither a stuffed 0xFF00 nor a restart marker, and returns its code (the
// 0xFF and code not yet added to the frame).
func (s *MJPEGStream) entropyData() (byte, error) {
	for {
		// chunk aliases the bufio buffer: copy it before reading on.
		chunk, err := s.br.ReadSlice(0xff)
		s.offset += int64(len(chunk))
		if e := s.addBytes(chunk); e != nil {
			return 0, e
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return 0, err
		}
		m, err := s.marker()
		if err != nil {
			return 0, err
		}
		if m == 0x00 || (m >= 0xd0 && m <= 0xd7) {
			if e := s.addByte(m); e != nil {
				return 0, e
			}
			continue
		}
		// Give back the marker's 0xFF: the caller adds it with the code.
		s.buf = s.buf[:len(s.buf)-1]
		return m, nil
	}
}

// Close does nothing: the reader belongs to the caller.
func (s *MJPEGStream) Close() error { return nil }
