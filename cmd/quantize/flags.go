package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// imageFlags are the preprocessing flags: how an image (or a uint8 .npy
// tensor) becomes the model's input. They are stored in the output file.
type imageFlags struct {
	size          string
	mean, std     string
	scale         float64
	bgr, crop     bool
	resizeShorter int

	// Parsed by check.
	width, height int // 0: the model's input size
	meanV, stdV   [3]float32
	set           bool // any preprocessing flag was given
}

func (f *imageFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.size, "size", "", "input size `WxH` (default: the model's)")
	fs.IntVar(&f.resizeShorter, "resize-shorter", 0, "resize the shorter image side to `N` pixels, then centre-crop the input size")
	fs.BoolVar(&f.crop, "crop", false, "centre-crop: resize the shorter side to the input size (keeps the aspect ratio), then crop")
	fs.StringVar(&f.mean, "mean", "0,0,0", "per-channel mean `r,g,b` subtracted after --scale (grayscale uses r)")
	fs.StringVar(&f.std, "std", "1,1,1", "per-channel standard deviation `r,g,b` divided by after the mean")
	fs.BoolVar(&f.bgr, "bgr", false, "feed colour channels in B, G, R order")
	fs.Float64Var(&f.scale, "scale", 255, "divide pixels by `S` first: 255 maps to [0,1], 1 keeps 0..255")
}

func (f *imageFlags) check() error {
	var err error
	if f.size != "" {
		if f.width, f.height, err = parseSize(f.size); err != nil {
			return err
		}
	}
	if f.meanV, err = parseTriple("--mean", f.mean); err != nil {
		return err
	}
	if f.stdV, err = parseTriple("--std", f.std); err != nil {
		return err
	}
	for _, v := range f.stdV {
		if v == 0 {
			return fmt.Errorf("--std %q: a standard deviation of 0 (use 1 for none)", f.std)
		}
	}
	if !(f.scale > 0) || math.IsInf(f.scale, 0) {
		return fmt.Errorf("--scale %v: must be positive (255 maps pixels to [0,1], 1 keeps 0..255)", f.scale)
	}
	if f.resizeShorter < 0 {
		return fmt.Errorf("--resize-shorter %d: must not be negative", f.resizeShorter)
	}
	f.set = f.size != "" || f.mean != "0,0,0" || f.std != "1,1,1" || f.scale != 255 || f.bgr || f.crop || f.resizeShorter > 0
	return nil
}

func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		return 0, 0, fmt.Errorf("--size %q: want WxH, e.g. 224x224", s)
	}
	return w, h, nil
}

// parseTriple parses "a,b,c" (or a single value for all three).
func parseTriple(name, s string) ([3]float32, error) {
	var out [3]float32
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != 3 {
		return out, fmt.Errorf("%s %q: want three comma-separated numbers (r,g,b) or one", name, s)
	}
	for i := range out {
		p := parts[min(i, len(parts)-1)]
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return out, fmt.Errorf("%s %q: %q is not a number", name, s, p)
		}
		out[i] = float32(v)
	}
	return out, nil
}
