package camera

import (
	"bytes"
	"context"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
)

// FuzzStream feeds arbitrary bytes to the stream readers behind
// `edgeinfer run --stdin`: the first byte picks MJPEG, I420 6×4 or YUYV
// 6×4, the rest is the stream. Every frame delivered is converted into a
// model input. The stream must end (each call consumes input or ends
// it), a truncated frame must be the last, and no conversion may panic
// or produce a non-finite value.
func FuzzStream(f *testing.F) {
	a, b := jpegBytes(f, 16, 8, 10), jpegBytes(f, 8, 8, 200)
	f.Add(append([]byte{0}, append(append([]byte("junk"), a...), b...)...))
	f.Add(append([]byte{0}, withThumbnail(f, a, b)...))
	f.Add(append([]byte{0}, a[:len(a)/2]...))
	i420 := make([]byte, input.FrameSize(input.I420, 6, 4)*2+5)
	for i := range i420 {
		i420[i] = byte(i * 37)
	}
	f.Add(append([]byte{1}, i420...))
	f.Add(append([]byte{2}, i420...))
	pre, err := input.New(input.Spec{Width: 8, Height: 8, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}})
	require.NoError(f, err)
	dst := make([]float32, pre.Spec().Len())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		r := bytes.NewReader(data[1:])
		var src Source
		var err error
		switch data[0] % 3 {
		case 0:
			src = NewMJPEGStream(r, 1<<16)
		case 1:
			src, err = NewRawStream(r, I420, 6, 4, input.LimitedRange, input.BT601)
		case 2:
			src, err = NewRawStream(r, YUYV, 6, 4, input.FullRange, input.BT709)
		}
		if err != nil {
			t.Fatal(err)
		}
		conv := NewConverter(pre)
		ended := false
		for calls := 0; ; calls++ {
			if calls > len(data)+2 {
				t.Fatalf("the stream has not ended after %d calls on %d bytes", calls, len(data))
			}
			fr, err := src.Next(context.Background())
			if ended && err != io.EOF {
				t.Fatalf("after the end: %v", err)
			}
			if err == io.EOF {
				if ended {
					return
				}
				ended = true // EOF again on the next call
				continue
			}
			if fe, ok := IsFrameError(err); ok {
				ended = fe.Truncated
				continue
			}
			if err != nil {
				t.Fatalf("a bytes.Reader stream failed with %v", err)
			}
			if err := conv.Convert(fr, dst); err != nil {
				if _, ok := IsFrameError(err); !ok {
					t.Fatalf("frame %d: %v is not a FrameError", fr.Index, err)
				}
				continue
			}
			for i, v := range dst {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("frame %d: output %d is %v", fr.Index, i, v)
				}
			}
		}
	})
}
