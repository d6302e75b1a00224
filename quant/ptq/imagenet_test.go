package ptq_test

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// fullImageNetEnv makes the ImageNet experiments use every sample image,
// both MobileNet v2 models and every calibration method (as the runtime's
// ImageNet tests; the default is a small subset within CI's time budget).
const fullImageNetEnv = "EDGEINFER_FULL_IMAGENET"

func fullImageNet() bool { return os.Getenv(fullImageNetEnv) != "" }

// sampleImage is one ImageNet sample: its path and 1000-class label.
type sampleImage struct {
	path  string
	label int
}

// imagenetSample reads ../shared/images/imagenet_sample_labels.tsv, in the
// file's (class) order.
func imagenetSample(t *testing.T) []sampleImage {
	t.Helper()
	f, err := os.Open(shared.Path(t, "images/imagenet_sample_labels.tsv"))
	require.NoError(t, err)
	defer f.Close()
	dir := shared.Path(t, "images/imagenet_sample")
	var out []sampleImage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 {
			continue
		}
		k, err := strconv.Atoi(cols[1])
		if err != nil {
			continue // header
		}
		out = append(out, sampleImage{filepath.Join(dir, cols[0]), k})
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}

// splitSample returns the calibration images (indices ≡ 1, 4, 7 mod 10:
// 100 of the 334, spread over the classes) and the others.
func splitSample(all []sampleImage) (calib, test []sampleImage) {
	for i, s := range all {
		switch i % 10 {
		case 1, 4, 7:
			calib = append(calib, s)
		default:
			test = append(test, s)
		}
	}
	return calib, test
}

// pixelCache holds preprocessed images: RGB bytes, HWC, resized
// bilinearly with antialiasing to size×size without cropping (the
// preprocessing of the runtime's ImageNet tests).
var pixelCache sync.Map // "path@size" → []uint8

// loadPixels returns the images' pixels, decoding those not cached on two
// goroutines.
func loadPixels(t *testing.T, imgs []sampleImage, size int) [][]uint8 {
	t.Helper()
	out := make([][]uint8, len(imgs))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pre, err := input.New(input.Spec{Width: size, Height: size, Channels: 3, Scale: 1, Std: [3]float32{1, 1, 1},
				Layout: input.NHWC, Antialias: true})
			if err != nil {
				errs[w] = err
				return
			}
			pix := make([]float32, size*size*3)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(imgs) {
					return
				}
				key := fmt.Sprintf("%s@%d", imgs[i].path, size)
				if v, ok := pixelCache.Load(key); ok {
					out[i] = v.([]uint8)
					continue
				}
				img, err := input.Load(imgs[i].path)
				if err == nil {
					err = pre.Run(img, pix)
				}
				if err != nil {
					errs[w] = fmt.Errorf("%s: %w", imgs[i].path, err)
					return
				}
				b := make([]uint8, len(pix))
				for j, p := range pix {
					b[j] = uint8(min(max(math.Round(float64(p)), 0), 255))
				}
				pixelCache.Store(key, b)
				out[i] = b
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return out
}

// classifier is one model under comparison and how an image becomes its
// input.
type classifier struct {
	name string
	g    *ir.Graph
	// feed writes the image (RGB bytes, HWC) into the model's input.
	feed func(m *runtime.Model, pix []uint8)
	// offset is subtracted from the argmax (1 when output 0 is background).
	offset int
}

// outputTop1 is the argmax of output 0 (integer outputs compare as their
// integer values, which keeps the order).
func outputTop1(m *runtime.Model) int {
	info := m.OutputInfo(0)
	switch info.DType {
	case ir.Float32:
		return argmaxF(m.Output(0))
	case ir.Int8, ir.Uint8:
		raw := m.OutputBytes(0)
		best, bv := 0, math.Inf(-1)
		for i, b := range raw {
			v := float64(b)
			if info.DType == ir.Int8 {
				v = float64(int8(b))
			}
			if v > bv {
				best, bv = i, v
			}
		}
		return best
	}
	panic("output type " + info.DType.String())
}

func argmaxF(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// classify runs every classifier on every image on two workers (one
// single-threaded model each per classifier) and returns top1[i][k], the
// class classifier k gives image i.
func classify(t *testing.T, cs []classifier, pix [][]uint8) [][]int {
	t.Helper()
	top := make([][]int, len(pix))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms := make([]*runtime.Model, len(cs))
			defer func() {
				for _, m := range ms {
					if m != nil {
						m.Close()
					}
				}
			}()
			for k, c := range cs {
				m, err := runtime.New(c.g, runtime.Options{Threads: 1})
				if err != nil {
					errs[w] = fmt.Errorf("%s: %w", c.name, err)
					return
				}
				ms[k] = m
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pix) {
					return
				}
				top[i] = make([]int, len(cs))
				for k, c := range cs {
					c.feed(ms[k], pix[i])
					if err := ms[k].Run(); err != nil {
						errs[w] = fmt.Errorf("%s: %w", c.name, err)
						return
					}
					top[i][k] = outputTop1(ms[k]) - c.offset
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return top
}

// pixelSamples is a calibrator over cached images: fill writes image i
// into the float input.
func pixelSamples(pix [][]uint8, fill func(pix []uint8, dst []float32)) *pixelCalib {
	return &pixelCalib{pix, fill}
}

type pixelCalib struct {
	pix  [][]uint8
	fill func(pix []uint8, dst []float32)
}

func (c *pixelCalib) Len() int { return len(c.pix) }

func (c *pixelCalib) Sample(i int, in [][]float32) error {
	c.fill(c.pix[i], in[0])
	return nil
}

// hwcToCHW writes f(pixel, channel) of HWC bytes in CHW order.
func hwcToCHW(pix []uint8, dst []float32, f func(p uint8, c int) float32) {
	hw := len(pix) / 3
	for i := 0; i < hw; i++ {
		for c := 0; c < 3; c++ {
			dst[c*hw+i] = f(pix[3*i+c], c)
		}
	}
}

// quantByte quantises real with q (round half away from zero, clamped).
func quantByte(real float32, q *ir.Quant, d ir.DType) byte {
	v := math.Round(float64(real/q.Scale[0])) + float64(q.ZeroPoint[0])
	if d == ir.Int8 {
		return byte(int8(min(max(v, -128), 127)))
	}
	return byte(min(max(v, 0), 255))
}
