package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/native"
)

// eimModel is an .eim file's embedded preprocessing and labels, so
// `edgeinfer run --model model.eim --input photo.jpg` needs no other flag.
type eimModel struct {
	pre    *native.Preprocess
	labels []string
}

// loadEIM maps an .eim file. The mapping stays for the process's life:
// the runtime uses the weights in place.
func loadEIM(path string) (*ir.Graph, *eimModel, error) {
	m, _, err := native.Load(path)
	if err != nil {
		return nil, nil, err
	}
	return m.Graph, &eimModel{pre: m.Preprocess, labels: m.Labels}, nil
}

func isEIM(spec string) bool { return strings.HasSuffix(strings.ToLower(spec), ".eim") }

// applyEIMDefaults fills the preprocessing flags the user did not set from
// the model's embedded preprocessing, and the labels when --labels is absent.
func applyEIMDefaults(fs *flag.FlagSet, spec string, img *imageFlags, labels *[]string) error {
	if !isEIM(spec) {
		return nil
	}
	_, e, err := loadEIM(spec)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if p := e.pre; p != nil {
		vec := func(v [3]float32) string { return fmt.Sprintf("%g,%g,%g", v[0], v[1], v[2]) }
		if !set["mean"] {
			img.mean = vec(p.Mean)
		}
		if !set["std"] {
			img.std = vec(p.Std)
		}
		if !set["scale"] && p.Scale != 0 {
			img.scale = float64(p.Scale)
		}
		if !set["bgr"] {
			img.bgr = p.BGR
		}
		if !set["resize-shorter"] {
			img.resizeShorter = p.ResizeShorter
		}
		img.normalise = true
		if err := img.check(); err != nil {
			return fmt.Errorf("%s: embedded preprocessing: %w", spec, err)
		}
	}
	if *labels == nil && len(e.labels) > 0 {
		*labels = e.labels
	}
	return nil
}
