package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
)

// The fast zoo model the stream tests classify with.
const streamModel = "zoo:mobilenet_v1?alpha=0.25&res=128"

// ffmpegStream returns 5 frames of ffmpeg's 640×480 test pattern in the
// given output format (rawvideo yuv420p or mjpeg), skipping the test
// without ffmpeg.
func ffmpegStream(t *testing.T, format string) []byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (apt-get install ffmpeg): the stream tests need its test pattern")
	}
	args := []string{"-v", "error", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=10", "-frames:v", "5"}
	if format == "yuv420" {
		args = append(args, "-pix_fmt", "yuv420p", "-f", "rawvideo", "-")
	} else {
		args = append(args, "-f", "mjpeg", "-")
	}
	var out, errb bytes.Buffer
	cmd := exec.Command("ffmpeg", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "ffmpeg: %s", errb.String())
	return out.Bytes()
}

// runStdin runs "edgeinfer run ARGS" in-process with stdin.
func runStdin(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = cmdRunIO(args, bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

// jsonFrames parses --json output lines.
func jsonFrames(t *testing.T, out string) []frameResult {
	t.Helper()
	var frames []frameResult
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var f frameResult
		require.NoError(t, json.Unmarshal(sc.Bytes(), &f), "line %q", sc.Text())
		frames = append(frames, f)
	}
	return frames
}

func requireFrames(t *testing.T, frames []frameResult, idx ...int) {
	t.Helper()
	var got []int
	for _, f := range frames {
		got = append(got, f.Frame)
		require.Len(t, f.Top, 3)
		require.Greater(t, f.LatencyMS, 0.0)
		_, err := time.Parse(time.RFC3339Nano, f.Timestamp)
		require.NoError(t, err)
	}
	require.Equal(t, idx, got)
}

// TestStdinYUV420 pipes ffmpeg's I420 frames (what rpicam-vid --codec
// yuv420 writes) through the run command: one prediction per frame, and a
// truncated last frame reported by number.
func TestStdinYUV420(t *testing.T) {
	data := ffmpegStream(t, "yuv420")
	frame := input.FrameSize(input.I420, 640, 480)
	require.Len(t, data, 5*frame)
	args := []string{"--model", streamModel, "--stdin", "yuv420:640x480", "--json", "--top", "3", "--threads", "2"}

	out, errs, err := runStdin(t, data, args...)
	require.NoError(t, err, errs)
	requireFrames(t, jsonFrames(t, out), 0, 1, 2, 3, 4)
	require.Contains(t, errs, "frames   5 classified")
	require.Contains(t, errs, "median")
	require.Contains(t, errs, "p90")
	require.Contains(t, errs, "fps")

	// The test pattern's frames differ (a moving counter), the
	// predictions are deterministic: the same stream gives the same top-3.
	out2, _, err := runStdin(t, data, args...)
	require.NoError(t, err)
	a, b := jsonFrames(t, out), jsonFrames(t, out2)
	for i := range a {
		require.Equal(t, a[i].Top, b[i].Top)
	}

	// A truncated last frame: reported by number, a warning by default …
	cut := data[:4*frame+1000]
	out, errs, err = runStdin(t, cut, args...)
	require.NoError(t, err)
	requireFrames(t, jsonFrames(t, out), 0, 1, 2, 3)
	require.Contains(t, errs, "frame 4")
	require.Contains(t, errs, "truncated")
	require.Contains(t, errs, "1000 of the frame's 460800 bytes")
	// … and an error with --strict.
	_, errs, err = runStdin(t, cut, append(args, "--strict")...)
	require.Error(t, err)
	require.Contains(t, err.Error(), "frame 4")
	require.Contains(t, errs, "frames   4 classified")

	// --frames stops early, --every thins the output.
	out, _, err = runStdin(t, data, append(args, "--frames", "2")...)
	require.NoError(t, err)
	requireFrames(t, jsonFrames(t, out), 0, 1)
	out, _, err = runStdin(t, data, append(args, "--every", "2")...)
	require.NoError(t, err)
	requireFrames(t, jsonFrames(t, out), 0, 2, 4)

	// Text output: a line per frame and the summary on stdout.
	out, _, err = runStdin(t, data, "--model", streamModel, "--stdin", "yuv420:640x480", "--top", "2")
	require.NoError(t, err)
	require.Equal(t, 5, strings.Count(out, "\nframe "))
	require.Contains(t, out, "frames   5 classified")
	require.Contains(t, out, "latency  inference min")
}

// corruptJPEG damages the entropy-coded data of the JPEG starting at off.
func corruptJPEG(t *testing.T, data []byte, which int) []byte {
	t.Helper()
	out := bytes.Clone(data)
	start := 0
	for i := 0; i < which; i++ {
		start = bytes.Index(out[start+2:], []byte{0xff, 0xd8}) + start + 2
	}
	sos := bytes.Index(out[start:], []byte{0xff, 0xda}) + start
	// Replace entropy data by a run of 0xFF 0x00 pairs: valid stuffing
	// (the stream splitter keeps the frame), garbage for the decoder.
	for i := sos + 20; i < sos+220; i += 2 {
		out[i], out[i+1] = 0xff, 0x00
	}
	return out
}

// TestStdinMJPEG pipes ffmpeg's MJPEG stream: one prediction per frame; a
// corrupt JPEG in the middle is reported and skipped (or ends the run
// with --strict); a truncated last JPEG is reported.
func TestStdinMJPEG(t *testing.T) {
	data := ffmpegStream(t, "mjpeg")
	args := []string{"--model", streamModel, "--stdin", "mjpeg", "--json", "--top", "3"}
	out, errs, err := runStdin(t, data, args...)
	require.NoError(t, err, errs)
	requireFrames(t, jsonFrames(t, out), 0, 1, 2, 3, 4)

	bad := corruptJPEG(t, data, 2)
	out, errs, err = runStdin(t, bad, args...)
	require.NoError(t, err, errs)
	requireFrames(t, jsonFrames(t, out), 0, 1, 3, 4)
	require.Contains(t, errs, "frame 2: bad JPEG")
	require.Contains(t, errs, "1 bad")
	_, errs, err = runStdin(t, bad, append(args, "--strict")...)
	require.Error(t, err)
	require.Contains(t, err.Error(), "frame 2")
	require.Contains(t, errs, "frames   2 classified")

	out, errs, err = runStdin(t, data[:len(data)-500], args...)
	require.NoError(t, err)
	requireFrames(t, jsonFrames(t, out), 0, 1, 2, 3)
	require.Contains(t, errs, "frame 4")
	require.Contains(t, errs, "truncated")

	// Garbage before the first image is skipped.
	out, _, err = runStdin(t, append([]byte("garbage"), data...), args...)
	require.NoError(t, err)
	requireFrames(t, jsonFrames(t, out), 0, 1, 2, 3, 4)
}

// TestStdinActions: --on with --gpio --dry-run prints the transitions,
// and the JSON lines carry the action state.
func TestStdinActions(t *testing.T) {
	data := ffmpegStream(t, "yuv420")
	labels := filepath.Join(t.TempDir(), "labels.txt")
	var names []string
	for i := 0; i < 1000; i++ {
		names = append(names, "class"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
	}
	names[2] = "testpattern"
	require.NoError(t, os.WriteFile(labels, []byte(strings.Join(names, "\n")), 0o644))
	out, errs, err := runStdin(t, data, "--model", streamModel, "--stdin", "yuv420:640x480", "--json",
		"--labels", labels, "--on", "testpattern>=0.0001", "--gpio", "gpiochip0:17", "--dry-run")
	require.NoError(t, err, errs)
	frames := jsonFrames(t, out)
	require.Len(t, frames, 5)
	require.NotNil(t, frames[0].Action)
	require.Equal(t, "testpattern>=0.0001", frames[0].Action.Condition)
	require.True(t, frames[0].Action.High)
	require.Equal(t, "rising", frames[0].Action.Edge)
	require.Empty(t, frames[1].Action.Edge)
	require.Contains(t, errs, "dry-run: frame 0: testpattern>=0.0001 holds")
	require.Contains(t, errs, "gpiochip0:17 -> high")
	require.Contains(t, errs, "dry-run: exit: gpiochip0:17 -> low")

	// --exec runs a command on the rising edge.
	marker := filepath.Join(t.TempDir(), "ran")
	_, errs, err = runStdin(t, data, "--model", streamModel, "--stdin", "yuv420:640x480",
		"--on", "2>=0.0001", "--exec", "echo $EDGEINFER_FRAME $EDGEINFER_CLASS > "+marker)
	require.NoError(t, err, errs)
	b, err := os.ReadFile(marker)
	require.NoError(t, err)
	require.Equal(t, "0 2\n", string(b))
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStreamStopsOnCancel: a run blocked reading a pipe (a camera stack
// that is still running) stops cleanly when its context is cancelled, as
// on SIGINT/SIGTERM, and prints the statistics.
func TestStreamStopsOnCancel(t *testing.T) {
	frame := input.FrameSize(input.I420, 64, 48)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	_, err = w.Write(make([]byte, 2*frame))
	require.NoError(t, err)

	m, _, err := prepare(streamModel, 1)
	require.NoError(t, err)
	defer m.Close()
	fl := imageFlags{mean: "0", std: "1", scale: 255}
	require.NoError(t, fl.check())
	sf := &streamFlags{stdin: "yuv420:64x48", every: 1}
	var out, errb syncBuffer
	sr := &streamRun{sf: sf, model: streamModel, m: m, f: &feeder{m: m, flags: fl}, top: 1, stdout: &out, stderr: &errb}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sr.run(ctx, r) }()
	require.Eventually(t, func() bool { return strings.Count(out.String(), "frame ") >= 2 }, 30*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancellation while blocked on the pipe")
	}
	require.Contains(t, out.String(), "frames   2 classified")
	// Stdin is blocking again afterwards.
	_, err = w.Write(make([]byte, 10))
	require.NoError(t, err)
}

func TestStreamFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--stdin", "yuv420"}, "raw frames need a size"},
		{[]string{"--stdin", "h264"}, "want yuv420:WxH"},
		{[]string{"--stdin", "mjpeg", "--camera", "/dev/video0"}, "choose one"},
		{[]string{"--stdin", "mjpeg", "--on", "person>=0.5"}, "--on needs an action"},
		{[]string{"--stdin", "mjpeg", "--gpio", "GPIO17"}, "--gpio and --exec need a condition"},
		{[]string{"--on", "person>=0.5", "--dry-run"}, "add --camera or --stdin"},
		{[]string{"--stdin", "mjpeg", "--every", "0"}, "--every"},
		{[]string{"--stdin", "mjpeg", "--frames", "-1"}, "--frames"},
		{[]string{"--stdin", "mjpeg", "--yuv-range", "huge"}, "--yuv-range"},
		{[]string{"--stdin", "mjpeg", "--on", "p>=0.5", "--gpio", "chip:1"}, "--gpio"},
		{[]string{"--stdin", "mjpeg", "--runs", "3"}, "do not combine"},
		{[]string{"--stdin", "mjpeg", "--on", "person>=0.5", "--dry-run"}, "no --labels file"},
		{[]string{"--stdin", "mjpeg", "--on", "5000>=0.5", "--dry-run"}, "outside the model's 1000 classes"},
		{[]string{"--camera", "/no/such/video0"}, "/no/such/video0"},
		{[]string{"--camera", "/dev/video0", "--camera-format", "h264"}, "--camera-format"},
	} {
		args := append([]string{"--model", streamModel}, tc.args...)
		_, errs, err := runStdin(t, nil, args...)
		require.Error(t, err, "%v", tc.args)
		require.Contains(t, err.Error()+errs, tc.msg, "%v", tc.args)
	}
	code, _, errs := cli(t, "run", "-h")
	require.Equal(t, exitOK, code)
	for _, f := range []string{"--camera", "--stdin", "--frames", "--every", "--on", "--gpio", "--exec", "--dry-run", "--strict"} {
		require.Contains(t, errs, f)
	}
}

// TestInputDirsAndGlobs: --input takes directories and patterns.
func TestInputDirsAndGlobs(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"b.png", "a.png", "c.png"} {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		for j := range img.Pix {
			img.Pix[j] = uint8(i * 40)
		}
		f, err := os.Create(filepath.Join(dir, name))
		require.NoError(t, err)
		require.NoError(t, png.Encode(f, img))
		require.NoError(t, f.Close())
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	out := mustRun(t, "run", "--model", "zoo:lenet5", "--input", dir, "--json")
	var inputs []string
	for _, r := range strings.Split(strings.TrimSpace(out), "\n") {
		var res result
		require.NoError(t, json.Unmarshal([]byte(r), &res))
		inputs = append(inputs, filepath.Base(res.Input))
	}
	require.Equal(t, []string{"a.png", "b.png", "c.png"}, inputs)
	out = mustRun(t, "run", "--model", "zoo:lenet5", "--input", filepath.Join(dir, "[ab].png"), "--json")
	require.Equal(t, 2, strings.Count(out, "\n"))
	code, _, errs := cli(t, "run", "--model", "zoo:lenet5", "--input", filepath.Join(dir, "*.jpg"))
	require.Equal(t, exitError, code)
	require.Contains(t, errs, "no files match")
	empty := t.TempDir()
	code, _, errs = cli(t, "run", "--model", "zoo:lenet5", "--input", empty)
	require.Equal(t, exitError, code)
	require.Contains(t, errs, "a directory with no images")
	_ = color.Gray{}
}

func TestBoardCommand(t *testing.T) {
	out := mustRun(t, "board")
	for _, want := range []string{"board ", "cpu ", "features ", "caches ", "threads ", "qemu ", "thermal ", "kernels "} {
		require.Contains(t, out, want)
	}
	out = mustRun(t, "board", "--profile", "pi4b")
	require.Contains(t, out, "Raspberry Pi 4 Model B [pi4b]")
	require.Contains(t, out, "Cortex-A72 (part 0xd08)")
	require.Contains(t, out, "-cpu cortex-a72")
	require.Contains(t, out, "L1i 48 KiB, L1d 32 KiB per core; L2 1 MiB shared")
	out = mustRun(t, "board", "--list")
	for _, id := range []string{"pi-zero-2w", "pi3b", "pi3b+", "pi4b", "pi400", "pi5", "cm4", "generic-arm64", "generic-armv7", "x86-64"} {
		require.Contains(t, out, id)
	}
	out = mustRun(t, "board", "--json")
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	require.Contains(t, v, "Profile")
	require.Contains(t, v, "KernelPath")
	code, _, errs := cli(t, "board", "--profile", "pi9")
	require.Equal(t, exitError, code)
	require.Contains(t, errs, "pi5")
}

func TestVersionCommitDate(t *testing.T) {
	commit, date = "abc1234", "2026-01-02T03:04:05Z"
	defer func() { commit, date = "", "" }()
	out := mustRun(t, "version")
	require.Contains(t, out, "commit       abc1234")
	require.Contains(t, out, "built        2026-01-02T03:04:05Z")
}

// TestRanker: the allocation-free top-K agrees with topK.
func TestRanker(t *testing.T) {
	var r ranker
	out := []float32{0.5, 3, -1, 3, 2, float32(0)}
	scores, soft := r.probabilities(out)
	want, wsoft := probabilities(out)
	require.Equal(t, want, scores)
	require.Equal(t, wsoft, soft)
	for k := 0; k <= 7; k++ {
		top := r.topK(scores, k, nil)
		wtop, _ := topK(want, k, nil)
		require.Equal(t, len(wtop), len(top), "k=%d", k)
		for i := range wtop {
			require.Equal(t, wtop[i], top[i], "k=%d", k)
		}
	}
}

// TestBenchProfileZoo: bench --profile on a zoo MobileNet lists every
// layer with op, shape, MACs, time, GOPS and share, and the MACs add up.
func TestBenchProfileZoo(t *testing.T) {
	out := mustRun(t, "bench", "--model", streamModel, "--runs", "2", "--warmup", "1", "--profile")
	for _, want := range []string{"#", "op", "output shape", "MACs", "time ms", "GOPS", "share %", "DepthwiseConv", "[1 8 64 64]", "Gemm", "total", "13.57M"} {
		require.Contains(t, out, want)
	}
	require.GreaterOrEqual(t, strings.Count(out, "DepthwiseConv"), 13)
}
