// Package tflite reads TensorFlow Lite models (.tflite) into the ir
// package's graph representation, with the same operator semantics the
// ONNX reader produces.
//
// The FlatBuffers wire format is read with the flatbuffers runtime library
// through small typed accessors for the schema fields inference needs
// (tensorflow/lite/schema/schema.fbs). Every table, vtable, offset and
// vector is checked against the buffer before use, so a truncated or
// corrupt file yields an error naming the field, never a panic, and no
// allocation is larger than the file.
//
// # Layout
//
// TFLite tensors are NHWC; the IR is NCHW (ONNX semantics). A rank-4
// activation [N,H,W,C] becomes an IR value [N,C,H,W]. Graph inputs keep
// the file's shape (callers feed NHWC data) and are followed by a
// Transpose (perm 0,3,1,2) to the NCHW value; rank-4 graph outputs are
// produced through a Transpose back (perm 0,2,3,1). Operators that depend
// on memory order (RESHAPE, SQUEEZE, FULLY_CONNECTED's flattening) read a
// 4-D input through a Transpose to NHWC and turn a 4-D result back into
// NCHW; TRANSPOSE becomes one Transpose whose permutation includes the
// layout change. Axis operands move with the layout (CONCATENATION axis 3
// becomes 1, MEAN axes [1,2] become [2,3], PAD's paddings are reordered),
// and a lower-rank operand broadcast against a 4-D one is padded to rank
// 4 and made NCHW. The runtime removes the Transposes that only undo its
// own channels-last layout.
//
// Weights are laid out as the IR operators expect: a CONV_2D filter
// [O,KH,KW,I] becomes the Conv weight [O,I,KH,KW], a DEPTHWISE_CONV_2D
// filter [1,KH,KW,C·M] the weight [C·M,1,KH,KW] of a Conv with group = C,
// and a FULLY_CONNECTED weight [N,K] stays as it is, the B of a Gemm with
// transB=1. Per-channel quantisation axes follow their dimension.
//
// # Names
//
// Values take their TFLite tensor's name (tensor_<index> for unnamed
// ones; duplicates get a _<n> suffix), and the main node of each operator
// is named after its first output. A rank-4 graph input "x" feeds a
// Transpose "x/to_nchw" writing "x/nchw"; a rank-4 graph output "y" is
// written as "y/nchw" and turned into "y" by "y/to_nhwc". Helper values,
// nodes and constants the reader adds are named "<node>/<purpose>" (for
// example "<node>/shape", "<node>/pads", "<tensor>/nhwc"). Every value,
// including initializers, has an entry in Graph.ValueInfo with its type,
// IR-layout shape and quantisation.
//
// # Quantisation
//
// Values and initializers carry TFLite's affine parameters in ir.Quant
// (per-channel for weights; a quantised bias without parameters gets
// s_in·s_w and zero point 0). Operators on quantised tensors keep the IR
// operator of their float form; their inputs and outputs say how to read
// the integers, and constant operands the reader adds are real values
// (RELU6's Clip bounds are float 0 and 6) except where the operator needs
// the integer domain (a quantised PAD pads with the zero point, passed
// as constant_value). Fused activations become the ir.AttrClampMin/Max
// attributes, in real units. QUANTIZE and DEQUANTIZE become
// QuantizeLinear and DequantizeLinear (a requantisation between two
// quantised tensors becomes DequantizeLinear followed by QuantizeLinear).
package tflite

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Load reads the TFLite model at path. The file is memory-mapped read-only
// and weights already in the IR's layout alias the mapping (others are
// copied), so loading costs little memory beyond the transposed weights.
// The mapping is never unmapped: initializers alias it and may outlive the
// graph through clones (the runtime's prepared models share them). Its
// pages are file-backed, so what stays is address space; the file must not
// be truncated while the graph or anything built from it is in use.
//
// The graph's Name is the subgraph's name, or the file name without its
// extension when the subgraph has none; Source is path.
func Load(path string) (*ir.Graph, error) {
	data, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("tflite: %w", err)
	}
	g, err := parse(data, path)
	if err != nil {
		// Nothing refers to the mapping yet.
		release()
		return nil, err
	}
	if g.Name == "" {
		g.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return g, nil
}

// Parse decodes a TFLite model from data. Only the first subgraph (the
// model) is translated; the others belong to control-flow operators,
// which are unsupported. Initializers may alias data, which must not be
// modified while the graph is in use.
//
// The graph's Format is "tflite" and Opset 14: operator semantics follow
// that ONNX opset. Metadata holds "tflite_version" (the schema version),
// "description", "tflite_metadata" (the names of the model's metadata
// entries, comma-separated) and "tflite_metadata.<name>" for entries
// whose buffer is short text, such as min_runtime_version.
//
// Errors about well-formed content that cannot be translated (an
// operator without an IR equivalent, a tensor type the IR lacks) wrap
// ErrUnsupported and name the operator, its index and the subgraph, or
// the tensor.
func Parse(data []byte) (*ir.Graph, error) {
	return parse(data, "")
}

func parse(data []byte, src string) (*ir.Graph, error) {
	m, err := decodeModel(data)
	var g *ir.Graph
	if err == nil {
		g, err = convert(m, len(data))
	}
	if err != nil {
		if src == "" {
			return nil, fmt.Errorf("tflite: %w", err)
		}
		return nil, fmt.Errorf("tflite %s: %w", src, err)
	}
	g.Source = src
	return g, nil
}
