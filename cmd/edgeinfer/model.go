package main

import (
	"errors"
	"fmt"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/models/zoo"
	"github.com/edgeinfer/edgeinfer/runtime"
)

const zooPrefix = "zoo:"

// loadGraph reads the model named by spec: an .onnx or .tflite file or
// zoo:NAME[?…].
func loadGraph(spec string) (*ir.Graph, error) {
	switch {
	case spec == "":
		return nil, errors.New("no model: pass --model FILE.onnx (or .tflite) or --model zoo:NAME (see 'edgeinfer help')")
	case strings.HasPrefix(spec, zooPrefix):
		g, err := zoo.Build(strings.TrimPrefix(spec, zooPrefix))
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", spec, err)
		}
		return g, nil
	case strings.EqualFold(filepath.Ext(spec), ".onnx"):
		return onnx.Load(spec)
	case strings.EqualFold(filepath.Ext(spec), ".tflite"):
		return tflite.Load(spec)
	case isEIM(spec):
		g, _, err := loadEIM(spec)
		return g, err
	}
	return nil, fmt.Errorf("model %s: unknown format; want a .onnx, .tflite or .eim file or zoo:NAME (zoo names: %s)", spec, strings.Join(zooNames(), ", "))
}

// prepare loads and prepares the model for execution.
func prepare(spec string, threads int) (*runtime.Model, *ir.Graph, error) {
	g, err := loadGraph(spec)
	if err != nil {
		return nil, nil, err
	}
	m, err := runtime.New(g, runtime.Options{Threads: threads})
	if err != nil {
		return nil, nil, err
	}
	return m, g, nil
}

// zooNames lists the built-in models, for help and error messages.
func zooNames() []string { return zoo.Names() }

// defaultThreads is the worker count when --threads is not given.
func defaultThreads() int { return goruntime.NumCPU() }

// fmtCount prints a count with an SI suffix: 3.50M, 300.8M, 1.23G.
func fmtCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// fmtBytes prints a byte count in binary units.
func fmtBytes(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

const modelHelp = "model: a .onnx or .tflite file, or zoo:NAME[?key=value&...] (built-in, random weights)"
