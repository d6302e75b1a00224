package ptq

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"sync"

	"github.com/edgeinfer/edgeinfer/input"
)

// SyntheticImage is deterministic random calibration image i: a colour
// gradient with a few random ellipses and pixel noise, so activations see
// edges, flat areas and texture.
func SyntheticImage(i, w, h int) image.Image {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	rc := func() [3]float64 { return [3]float64{r.Float64() * 255, r.Float64() * 255, r.Float64() * 255} }
	c0, c1 := rc(), rc()
	type ellipse struct {
		cx, cy, rx, ry float64
		c              [3]float64
	}
	es := make([]ellipse, 2+r.IntN(5))
	for k := range es {
		es[k] = ellipse{r.Float64() * float64(w), r.Float64() * float64(h),
			(0.05 + 0.3*r.Float64()) * float64(w), (0.05 + 0.3*r.Float64()) * float64(h), rc()}
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := (float64(x)/float64(max(w-1, 1)) + float64(y)/float64(max(h-1, 1))) / 2
			var px [3]float64
			for k := range px {
				px[k] = c0[k]*(1-t) + c1[k]*t
			}
			for _, e := range es {
				dx, dy := (float64(x)-e.cx)/e.rx, (float64(y)-e.cy)/e.ry
				if dx*dx+dy*dy <= 1 {
					px = e.c
				}
			}
			var c color.NRGBA
			for k, p := range []*uint8{&c.R, &c.G, &c.B} {
				*p = uint8(min(max(px[k]+r.NormFloat64()*8, 0), 255))
			}
			c.A = 255
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// Synthetic is a calibrator of n synthetic images (SyntheticImage 0 … n−1,
// at the spec's input size, or the size ResizeShorter implies)
// preprocessed by spec: calibration for a model with no data at hand, e.g.
// a zoo model with random weights to benchmark in int8.
func Synthetic(spec input.Spec, n int) (Calibrator, error) {
	if _, err := input.New(spec); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, fmt.Errorf("synthetic calibration: %d samples", n)
	}
	w, h := spec.Width, spec.Height
	if r := spec.ResizeShorter; r > 0 {
		w, h = w*r/min(w, h), h*r/min(w, h)
	}
	pool := &sync.Pool{New: func() any {
		p, _ := input.New(spec)
		return p
	}}
	return CalibratorFunc(n, func(i int, in [][]float32) error {
		if len(in) != 1 {
			return fmt.Errorf("synthetic images are for a one-input graph; this one has %d inputs", len(in))
		}
		p := pool.Get().(*input.Preprocessor)
		defer pool.Put(p)
		return p.Run(SyntheticImage(i, w, h), in[0])
	}), nil
}
