package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
)

// faultJPEG is a small JPEG of a gradient (no ffmpeg needed).
func faultJPEG(t *testing.T, shade uint8) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 48; x++ {
			m.Set(x, y, color.RGBA{shade, uint8(5 * x), uint8(7 * y), 0xff})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, m, &jpeg.Options{Quality: 80}))
	return b.Bytes()
}

// TestStreamFaults: an empty stream, a short last frame and bad JPEGs in
// an MJPEG stream are reported and skipped, or end the run with an error
// under --strict; never a panic.
func TestStreamFaults(t *testing.T) {
	const raw = "yuv420:64x48"
	frame := input.FrameSize(input.I420, 64, 48)
	frames := make([]byte, 3*frame)
	for i := range frames {
		frames[i] = byte(i * 13)
	}
	good := faultJPEG(t, 0)
	// Decodes to garbage: the entropy data replaced by 0xFF00 stuffing
	// (the splitter keeps the frame, the decoder refuses it).
	undecodable := bytes.Clone(good)
	sos := bytes.Index(undecodable, []byte{0xff, 0xda})
	for i := sos + 16; i+1 < len(undecodable)-2; i += 2 {
		undecodable[i], undecodable[i+1] = 0xff, 0x00
	}
	// A broken marker structure: a byte where a marker should start.
	unsplittable := bytes.Clone(good)
	unsplittable[2] = 0x42
	// A header claiming 60000×60000 pixels: refused before allocation.
	bomb := bytes.Clone(good)
	sof := bytes.Index(bomb, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(bomb[sof+5:], 60000)
	binary.BigEndian.PutUint16(bomb[sof+7:], 60000)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	for _, tc := range []struct {
		name, format string
		stdin        []byte
		frames       int      // classified without --strict
		report       []string // in the output without --strict
		strictFrames int      // classified before --strict ends the run; -1: --strict succeeds
	}{
		{"empty", raw, nil, 0, nil, -1},
		{"raw short frame", raw, frames[:2*frame+100], 2, []string{"frame 2", "truncated", "100 of the frame's 4608 bytes"}, 2},
		{"raw short first frame", raw, frames[:10], 0, []string{"frame 0", "truncated"}, 0},
		{"mjpeg empty", "mjpeg", nil, 0, nil, -1},
		{"mjpeg garbage only", "mjpeg", []byte("not a jpeg at all"), 0, nil, -1},
		{"mjpeg undecodable", "mjpeg", cat(good, undecodable, good), 2, []string{"frame 1", "bad JPEG", "1 bad"}, 1},
		{"mjpeg bad markers", "mjpeg", cat(good, unsplittable, good), 2, []string{"frame 1", "bad JPEG", "skipped to the next image"}, 1},
		{"mjpeg bomb", "mjpeg", cat(bomb, good), 1, []string{"frame 0", "60000x60000 pixels"}, 0},
		{"mjpeg short last", "mjpeg", cat(good, good[:len(good)/2]), 1, []string{"frame 1", "truncated"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--model", streamModel, "--stdin", tc.format, "--top", "1", "--threads", "1"}
			out, errs, err := runStdin(t, tc.stdin, args...)
			require.NoError(t, err, errs)
			require.Contains(t, out, "frames   "+strconv.Itoa(tc.frames)+" classified")
			require.Equal(t, tc.frames, strings.Count(out, "\nframe "), out)
			for _, s := range tc.report {
				require.Contains(t, errs+out, s)
			}
			out, errs, err = runStdin(t, tc.stdin, append(args, "--strict")...)
			if tc.strictFrames < 0 {
				require.NoError(t, err, errs)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), "--strict")
			require.Contains(t, out, "frames   "+strconv.Itoa(tc.strictFrames)+" classified")
		})
	}
}

// TestStdinStall: a producer that stops writing without closing the pipe
// (a hung camera stack) ends the run with an error after --stdin-timeout,
// with the statistics of the frames before it: between frames, inside a
// raw frame, and inside a JPEG.
func TestStdinStall(t *testing.T) {
	frame := input.FrameSize(input.I420, 64, 48)
	good := faultJPEG(t, 90)
	for _, tc := range []struct {
		name, format string
		written      []byte
		frames       int
	}{
		{"raw between frames", "yuv420:64x48", make([]byte, 2*frame), 2},
		{"raw inside a frame", "yuv420:64x48", make([]byte, frame+frame/2), 1},
		{"mjpeg inside a frame", "mjpeg", append(bytes.Clone(good), good[:len(good)/2]...), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			defer r.Close()
			defer w.Close() // the producer never closes: a stall, not an EOF
			_, err = w.Write(tc.written)
			require.NoError(t, err)

			m, _, err := prepare(streamModel, 1)
			require.NoError(t, err)
			defer m.Close()
			fl := imageFlags{mean: "0", std: "1", scale: 255}
			require.NoError(t, fl.check())
			sf := &streamFlags{stdin: tc.format, every: 1, stdinTimeout: 300 * time.Millisecond, maxJPEG: 1 << 20}
			var out, errb syncBuffer
			sr := &streamRun{sf: sf, model: streamModel, m: m, f: &feeder{m: m, flags: fl}, top: 1, stdout: &out, stderr: &errb}
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- sr.run(context.Background(), r) }()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the run did not end on a stalled pipe")
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), "no complete frame within 300ms")
			require.Contains(t, out.String(), "frames   "+strconv.Itoa(tc.frames)+" classified")
			require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
		})
	}
	// A negative timeout is a usage error.
	_, _, err := runStdin(t, nil, "--model", streamModel, "--stdin", "mjpeg", "--stdin-timeout", "-1s")
	require.ErrorContains(t, err, "--stdin-timeout")
}
