package camera

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
)

func jpegBytes(t testing.TB, w, h int, shade uint8) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.RGBA{shade, uint8(x), uint8(y), 0xff})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}))
	return b.Bytes()
}

// withThumbnail inserts an APP1 segment holding a whole JPEG (an EXIF
// thumbnail, with its own SOI and EOI) after the SOI.
func withThumbnail(t testing.TB, img, thumb []byte) []byte {
	n := len(thumb) + 2
	out := append([]byte{}, img[:2]...)
	out = append(out, 0xff, 0xe1, byte(n>>8), byte(n))
	out = append(out, thumb...)
	return append(out, img[2:]...)
}

// drain reads s to the end, returning the frames' bytes and the errors
// in order.
func drain(t *testing.T, s Source) (frames [][]byte, errs []error) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		f, err := s.Next(context.Background())
		if err == io.EOF {
			return frames, errs
		}
		if err != nil {
			errs = append(errs, err)
			if fe, ok := IsFrameError(err); ok && !fe.Truncated {
				continue
			}
			if _, ok := IsFrameError(err); !ok {
				return frames, errs
			}
			continue
		}
		frames = append(frames, append([]byte{}, f.Data...))
	}
	t.Fatal("stream does not end")
	return
}

func TestParseStreamFormat(t *testing.T) {
	for in, want := range map[string]StreamFormat{
		"yuv420:640x480": {I420, 640, 480},
		"I420:2x2":       {I420, 2, 2},
		"yuyv:320x240":   {YUYV, 320, 240},
		"mjpeg":          {Format: MJPEG},
		" MJPG ":         {Format: MJPEG},
	} {
		got, err := ParseStreamFormat(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "yuv420", "yuv420:640", "yuv420:0x480", "yuv420:axb", "h264", "mjpeg:640x480", "yuyv:641x480", "yuv420:99999x1"} {
		_, err := ParseStreamFormat(bad)
		require.Error(t, err, bad)
	}
}

func TestRawStream(t *testing.T) {
	w, h := 6, 4
	n := input.FrameSize(input.I420, w, h)
	require.Equal(t, 36, n)
	data := make([]byte, 3*n+10) // three frames and a truncated fourth
	for i := range data {
		data[i] = byte(i / n)
	}
	s, err := NewRawStream(bytes.NewReader(data), I420, w, h, input.LimitedRange, input.BT601)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		f, err := s.Next(context.Background())
		require.NoError(t, err)
		require.Equal(t, i, f.Index)
		require.Equal(t, w, f.Width)
		require.Len(t, f.Data, n)
		require.Equal(t, byte(i), f.Data[0])
	}
	_, err = s.Next(context.Background())
	fe, ok := IsFrameError(err)
	require.True(t, ok, "%v", err)
	require.True(t, fe.Truncated)
	require.Equal(t, 3, fe.Frame)
	require.Equal(t, int64(3*n), fe.Offset)
	require.ErrorContains(t, err, "frame 3")
	require.ErrorContains(t, err, "after 10 of the frame's 36 bytes")
	_, err = s.Next(context.Background())
	require.Equal(t, io.EOF, err)

	// An exact multiple ends cleanly.
	s, _ = NewRawStream(bytes.NewReader(data[:2*n]), I420, w, h, input.LimitedRange, input.BT601)
	frames, errs := drain(t, s)
	require.Len(t, frames, 2)
	require.Empty(t, errs)

	// A cancelled context stops it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Next(ctx)
	require.ErrorIs(t, err, context.Canceled)

	_, err = NewRawStream(nil, YUYV, 3, 2, 0, 0)
	require.Error(t, err)
}

func TestMJPEGStream(t *testing.T) {
	a, b, c := jpegBytes(t, 32, 16, 10), jpegBytes(t, 16, 16, 200), jpegBytes(t, 8, 8, 99)
	thumbed := withThumbnail(t, b, c)

	t.Run("clean", func(t *testing.T) {
		s := NewMJPEGStream(bytes.NewReader(concat(a, thumbed, a)), 0)
		frames, errs := drain(t, s)
		require.Empty(t, errs)
		require.Equal(t, [][]byte{a, thumbed, a}, frames, "the thumbnail's EOI must not end the frame")
	})
	t.Run("garbage between and a truncated end", func(t *testing.T) {
		s := NewMJPEGStream(bytes.NewReader(concat([]byte("junk\xff\x00"), a, []byte{0, 1, 2}, b, c[:len(c)/2])), 0)
		f, err := s.Next(context.Background())
		require.NoError(t, err)
		require.Equal(t, a, f.Data)
		require.Equal(t, int64(6), s.Skipped())
		f, err = s.Next(context.Background())
		require.NoError(t, err)
		require.Equal(t, b, f.Data)
		require.Equal(t, int64(3), s.Skipped())
		_, err = s.Next(context.Background())
		fe, ok := IsFrameError(err)
		require.True(t, ok, "%v", err)
		require.True(t, fe.Truncated)
		require.Equal(t, 2, fe.Frame)
		require.Equal(t, int64(6+len(a)+3+len(b)), fe.Offset)
		require.ErrorContains(t, err, "frame 2")
		_, err = s.Next(context.Background())
		require.Equal(t, io.EOF, err)
	})
	t.Run("cut short by the next image", func(t *testing.T) {
		// Cut inside the entropy-coded data (a cut inside a length-prefixed
		// segment swallows what follows; the decoder then rejects it).
		sos := bytes.LastIndex(a, []byte{0xff, 0xda}) + 14
		cut := a[:sos+(len(a)-sos)/2]
		s := NewMJPEGStream(bytes.NewReader(concat(cut, b, a)), 0)
		frames, errs := drain(t, s)
		require.Equal(t, [][]byte{b, a}, frames)
		require.Len(t, errs, 1)
		fe, ok := IsFrameError(errs[0])
		require.True(t, ok)
		require.False(t, fe.Truncated)
		require.Equal(t, 0, fe.Frame)
	})
	t.Run("broken marker structure", func(t *testing.T) {
		bad := append([]byte{0xff, 0xd8, 0x12, 0x34}, a[2:]...) // not a marker after SOI
		s := NewMJPEGStream(bytes.NewReader(concat(bad, b)), 0)
		frames, errs := drain(t, s)
		require.Equal(t, [][]byte{b}, frames)
		require.Len(t, errs, 1)
		require.ErrorContains(t, errs[0], "bad JPEG")
	})
	t.Run("too large", func(t *testing.T) {
		s := NewMJPEGStream(bytes.NewReader(concat(a, c)), len(c)+10)
		frames, errs := drain(t, s)
		require.Equal(t, [][]byte{c}, frames)
		require.Len(t, errs, 1)
		require.ErrorContains(t, errs[0], "larger than")
	})
	t.Run("empty and junk only", func(t *testing.T) {
		for _, in := range [][]byte{nil, []byte("no jpeg here")} {
			_, err := NewMJPEGStream(bytes.NewReader(in), 0).Next(context.Background())
			require.Equal(t, io.EOF, err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		s := NewMJPEGStream(io.MultiReader(bytes.NewReader(a[:100]), errReader{}), 0)
		_, err := s.Next(context.Background())
		require.ErrorIs(t, err, errBoom)
	})
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestStreamsDoNotAllocate: after the first frame, reading a frame does
// not allocate (the MJPEG buffer grows to the largest frame once).
func TestStreamsDoNotAllocate(t *testing.T) {
	a := jpegBytes(t, 64, 48, 1)
	var data []byte
	for i := 0; i < 30; i++ {
		data = append(data, a...)
	}
	s := NewMJPEGStream(bytes.NewReader(data), 0)
	ctx := context.Background()
	_, err := s.Next(ctx)
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(20, func() {
		if _, err := s.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}))
	raw := make([]byte, 30*input.FrameSize(input.I420, 64, 48))
	r, err := NewRawStream(bytes.NewReader(raw), I420, 64, 48, 0, 0)
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(20, func() {
		if _, err := r.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}))
}
