package main

import (
	"fmt"
	"maps"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/onnx"
	"github.com/edgeinfer/edgeinfer/quant/ptq"
)

// writeQDQ writes the quantised graph as an ONNX QDQ model (ptq.QDQ) with
// the command's metadata (source model, calibration, output SQNR) in
// metadata_props, and returns the opset it imports.
func writeQDQ(path string, qg *ir.Graph, opts ptq.QDQOptions, meta map[string]string) (int, error) {
	og, err := ptq.QDQ(qg, opts)
	if err != nil {
		return 0, err
	}
	maps.Copy(og.Metadata, meta)
	og.Metadata["producer_name"] = "edgeinfer quantize"
	if err := onnx.Save(path, og); err != nil {
		return 0, fmt.Errorf("--emit-qdq: %w", err)
	}
	return og.Opset, nil
}
