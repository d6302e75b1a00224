package input

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
)

// pillowScript resizes images with Pillow as torchvision and the TFLite
// reference scripts do. Each argument is
// SRC:MODE:W:H:SHORTER:OUT; SHORTER > 0 resizes the shorter side to it
// and centre-crops W×H (torchvision's Resize + CenterCrop). SRC:MODE:0:0:0:OUT
// writes the decoded source pixels instead.
const pillowScript = `
import sys
from PIL import Image
for arg in sys.argv[1:]:
    src, mode, w, h, shorter, out = arg.rsplit(':', 5)
    w, h, shorter = int(w), int(h), int(shorter)
    im = Image.open(src).convert(mode)
    if w and shorter:
        sw, sh = im.size
        rw, rh = (shorter, int(shorter * sh / sw)) if sw <= sh else (int(shorter * sw / sh), shorter)
        im = im.resize((rw, rh), Image.BILINEAR)
        left, top = int(round((rw - w) / 2.0)), int(round((rh - h) / 2.0))
        im = im.crop((left, top, left + w, top + h))
    elif w:
        im = im.resize((w, h), Image.BILINEAR)
    open(out, 'wb').write(im.tobytes())
`

const pythonPath = "/usr/bin/python3"

// pillow runs pillowScript on jobs, returning each job's raw bytes; it
// skips the test when python3 with PIL is unavailable.
func pillow(t *testing.T, jobs []string) [][]byte {
	t.Helper()
	if _, err := os.Stat(pythonPath); err != nil {
		t.Skipf("%s absent: cannot compare with Pillow", pythonPath)
	}
	if out, err := exec.Command(pythonPath, "-c", "import PIL").CombinedOutput(); err != nil {
		t.Skipf("%s has no PIL (apt-get install python3-pil): %v: %s", pythonPath, err, out)
	}
	dir := t.TempDir()
	args := []string{"-c", pillowScript}
	for i, j := range jobs {
		args = append(args, fmt.Sprintf("%s:%s", j, filepath.Join(dir, fmt.Sprint(i))))
	}
	out, err := exec.Command(pythonPath, args...).CombinedOutput()
	require.NoError(t, err, "pillow: %s", out)
	res := make([][]byte, len(jobs))
	for i := range jobs {
		res[i], err = os.ReadFile(filepath.Join(dir, fmt.Sprint(i)))
		require.NoError(t, err)
	}
	return res
}

// TestAntialiasMatchesPillow compares Spec.Antialias with Pillow's
// Image.resize(size, Image.BILINEAR). Lossless sources (BMP) must match to
// within one level (in practice exactly); for JPEG, Go's decoder and
// libjpeg's differ, so the bound there is the sources' own difference and a
// mean of at most one level.
func TestAntialiasMatchesPillow(t *testing.T) {
	dir := shared.Path(t, "images/classic")
	type tc struct {
		file          string
		w, h, shorter int
		gray, jpeg    bool
	}
	cases := []tc{
		{file: "grace_hopper.bmp", w: 224, h: 224},
		{file: "cat.bmp", w: 224, h: 224},
		{file: "cat.bmp", w: 96, h: 96},
		{file: "grace_hopper.bmp", w: 160, h: 96}, // non-square
		{file: "cat.bmp", w: 300, h: 224},         // up horizontally, down vertically
		{file: "mnist_nine.bmp", w: 224, h: 224},  // upscale
		{file: "cat.bmp", w: 224, h: 224, shorter: 256},
		{file: "grace_hopper.bmp", w: 224, h: 224, shorter: 256},
		{file: "cat.bmp", w: 128, h: 128, gray: true},
		{file: "grace_hopper.jpg", w: 224, h: 224, jpeg: true},
		{file: "hot_dog.jpg", w: 224, h: 224, jpeg: true},
	}
	var jobs []string
	for _, c := range cases {
		mode := "RGB"
		if c.gray {
			mode = "L"
		}
		jobs = append(jobs, fmt.Sprintf("%s:%s:%d:%d:%d", filepath.Join(dir, c.file), mode, c.w, c.h, c.shorter))
		if c.jpeg {
			jobs = append(jobs, fmt.Sprintf("%s:RGB:0:0:0", filepath.Join(dir, c.file)))
		}
	}
	ref := pillow(t, jobs)
	for _, c := range cases {
		want := ref[0]
		ref = ref[1:]
		var src []byte
		if c.jpeg {
			src, ref = ref[0], ref[1:]
		}
		name := fmt.Sprintf("%s_%dx%d", c.file, c.w, c.h)
		if c.shorter > 0 {
			name += fmt.Sprintf("_shorter%d", c.shorter)
		}
		if c.gray {
			name += "_gray"
		}
		t.Run(name, func(t *testing.T) {
			img, err := Load(filepath.Join(dir, c.file))
			require.NoError(t, err)
			ch := 3
			if c.gray {
				ch = 1
			}
			p, err := New(Spec{Width: c.w, Height: c.h, Channels: ch, Scale: 1, Std: [3]float32{1, 1, 1},
				Layout: NHWC, ResizeShorter: c.shorter, Antialias: true})
			require.NoError(t, err)
			got := make([]float32, p.Spec().Len())
			require.NoError(t, p.Run(img, got))
			require.Len(t, want, len(got))
			maxd, mean, ndiff := pillowDiff(got, want)
			t.Logf("max |Go − Pillow| = %v, mean %.3f (%d of %d values differ)", maxd, mean, ndiff, len(got))
			if !c.jpeg {
				require.LessOrEqual(t, maxd, 1.0)
				return
			}
			// Go's JPEG decoder and libjpeg's differ (IDCT and chroma
			// upsampling), by up to tens of levels at sharp edges, so the
			// resized images cannot agree to a level. Bound the error by
			// the sources' own difference and require it small on average.
			b := img.Bounds()
			id, err := New(Spec{Width: b.Dx(), Height: b.Dy(), Channels: 3, Scale: 1, Std: [3]float32{1, 1, 1}, Layout: NHWC})
			require.NoError(t, err)
			dec := make([]float32, id.Spec().Len())
			require.NoError(t, id.Run(img, dec))
			sd, smean, sn := pillowDiff(dec, src)
			t.Logf("JPEG decoders differ on the source: max |Go − libjpeg| = %v, mean %.3f (%d of %d values)", sd, smean, sn, len(src))
			require.LessOrEqual(t, maxd, sd+1)
			require.LessOrEqual(t, mean, 1.0)
		})
	}
}

func pillowDiff(got []float32, want []byte) (maxd, mean float64, n int) {
	for i, v := range got {
		d := float64(v) - float64(want[i])
		if d < 0 {
			d = -d
		}
		if d != 0 {
			n++
		}
		maxd = max(maxd, d)
		mean += d
	}
	return maxd, mean / float64(len(got)), n
}

// TestAntialiasZeroAllocs checks Run with Antialias does not allocate after
// the first image of a size.
func TestAntialiasZeroAllocs(t *testing.T) {
	img := Pattern(640, 480)
	for _, s := range []Spec{
		{Width: 224, Height: 224, Channels: 3, Scale: 255, Mean: ImageNetMean, Std: ImageNetStd, Antialias: true},
		{Width: 224, Height: 224, Channels: 3, Scale: 255, Std: [3]float32{1, 1, 1}, Layout: NHWC, ResizeShorter: 256, BGR: true, Antialias: true},
		{Width: 96, Height: 96, Channels: 1, Scale: 1, Std: [3]float32{1, 1, 1}, Antialias: true},
	} {
		p, err := New(s)
		require.NoError(t, err)
		dst := make([]float32, s.Len())
		require.NoError(t, p.Run(img, dst))
		require.Zero(t, testing.AllocsPerRun(5, func() { _ = p.Run(img, dst) }))
	}
}

// TestAntialiasUpscaleIsBilinear: when upscaling, Pillow's filter has the
// plain bilinear weights, so the antialiased result is the default path's
// to within the per-pass 8-bit rounding.
func TestAntialiasUpscaleIsBilinear(t *testing.T) {
	var img image.Image = Pattern(37, 29)
	s := Spec{Width: 150, Height: 100, Channels: 3, Scale: 1, Std: [3]float32{1, 1, 1}}
	plain, err := New(s)
	require.NoError(t, err)
	s.Antialias = true
	anti, err := New(s)
	require.NoError(t, err)
	a, b := make([]float32, s.Len()), make([]float32, s.Len())
	require.NoError(t, plain.Run(img, a))
	require.NoError(t, anti.Run(img, b))
	for i := range a {
		require.InDelta(t, a[i], b[i], 1, "value %d", i)
	}
}
