//go:build linux

package camera

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/edgeinfer/edgeinfer/input"
)

// TestDevice captures a few frames from every /dev/video* capture node
// (or EDGEINFER_CAMERA) in each format it offers that this package reads,
// converts them, and checks that Close releases the device (it can be
// opened again). It skips without a camera; the vivid test driver
// (modprobe vivid) provides one on a machine without hardware.
func TestDevice(t *testing.T) {
	devs := Devices()
	if p := os.Getenv("EDGEINFER_CAMERA"); p != "" {
		devs = []string{p}
	}
	if len(devs) == 0 {
		t.Skip("no /dev/video* device (set EDGEINFER_CAMERA, or modprobe vivid): V4L2 capture untested here")
	}
	tested := 0
	for _, path := range devs {
		for _, format := range []PixelFormat{YUYV, MJPEG} {
			d, err := Open(path, Config{Width: 640, Height: 480, Format: format, Timeout: 5 * time.Second})
			if err != nil {
				t.Logf("%s %v: %v", path, format, err)
				continue
			}
			info, mode := d.Info(), d.Mode()
			t.Logf("%s: %s (%s, %s): %v %dx%d stride %d, %.1f fps, %v %v", path, info.Card, info.Driver, info.BusInfo,
				mode.Format, mode.Width, mode.Height, mode.Stride, mode.FPS, mode.Range, mode.Matrix)
			p, err := input.New(input.Spec{Width: 64, Height: 64, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}})
			require.NoError(t, err)
			conv := NewConverter(p)
			dst := make([]float32, p.Spec().Len())
			var last uint32
			for i := 0; i < 5; i++ {
				f, err := d.Next(context.Background())
				if _, ok := IsFrameError(err); ok {
					t.Logf("frame %d: %v", i, err)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, i, f.Index)
				require.NotEmpty(t, f.Data)
				if i > 0 {
					require.Greater(t, f.Sequence, last)
				}
				last = f.Sequence
				require.WithinDuration(t, time.Now(), f.Time, 10*time.Second)
				require.NoError(t, conv.Convert(f, dst))
			}
			require.NoError(t, d.Close())
			require.NoError(t, d.Close(), "second Close")
			// Released: it opens again.
			d, err = Open(path, Config{Format: format})
			require.NoError(t, err, "reopening %s after Close", path)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err = d.Next(ctx)
			require.ErrorIs(t, err, context.Canceled)
			require.NoError(t, d.Close())
			tested++
		}
	}
	if tested == 0 {
		t.Skipf("no device among %v streams YUYV or MJPEG", devs)
	}
}

func TestOpenNotADevice(t *testing.T) {
	_, err := Open("/dev/null", Config{})
	require.Error(t, err)
	require.ErrorContains(t, err, "/dev/null")
	_, err = Open("/nonexistent/video0", Config{})
	require.Error(t, err)
}

func TestStreamErr(t *testing.T) {
	err := streamErr("/dev/video0", "VIDIOC_DQBUF", unix.ENODEV)
	require.ErrorIs(t, err, unix.ENODEV)
	require.EqualError(t, err, "camera /dev/video0: the device is gone (unplugged, or its driver unbound): VIDIOC_DQBUF: no such device")
	err = streamErr("/dev/video0", "VIDIOC_QBUF 1", unix.EINVAL)
	require.ErrorIs(t, err, unix.EINVAL)
	require.EqualError(t, err, "camera /dev/video0: VIDIOC_QBUF 1: invalid argument")
}

func TestYUVEncoding(t *testing.T) {
	for _, c := range []struct {
		p v4l2PixFormat
		r input.YUVRange
		m input.YUVMatrix
	}{
		{v4l2PixFormat{Colorspace: colorspaceSRGB}, input.LimitedRange, input.BT601},
		{v4l2PixFormat{Colorspace: colorspaceSMPTE170M, Quantization: quantFullRange}, input.FullRange, input.BT601},
		{v4l2PixFormat{Colorspace: colorspaceJPEG}, input.FullRange, input.BT601},
		{v4l2PixFormat{Colorspace: colorspaceREC709}, input.LimitedRange, input.BT709},
		{v4l2PixFormat{Colorspace: colorspaceSRGB, YCbCrEnc: ycbcrEnc709, Quantization: quantLimRange}, input.LimitedRange, input.BT709},
		{v4l2PixFormat{Colorspace: colorspaceREC709, YCbCrEnc: ycbcrEnc601}, input.LimitedRange, input.BT601},
	} {
		r, m := yuvEncoding(&c.p)
		require.Equal(t, c.r, r, "%+v", c.p)
		require.Equal(t, c.m, m, "%+v", c.p)
	}
	require.Equal(t, "YUYV", YUYV.String())
	require.Equal(t, "MJPG", MJPEG.String())
	require.Equal(t, "0x00000001", PixelFormat(1).String())
	// v4l2_fourcc_be('Y', '1', '6', ' ') and ('X', 'R', '1', '5'), as
	// vivid lists them.
	require.Equal(t, "Y16-BE", PixelFormat(0xa0363159).String())
	require.Equal(t, "XR15-BE", PixelFormat(0xb5315258).String())
	require.Equal(t, "0x80000001", PixelFormat(0x80000001).String())
}
