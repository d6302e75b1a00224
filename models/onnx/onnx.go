// Package onnx reads ONNX models (.onnx) and ONNX test-data tensors (.pb)
// into the ir package's graph representation.
//
// The protobuf wire format is decoded by hand with protowire instead of
// generated types: there is no protoc step and no generated code to keep in
// sync, and every length and count read from the file is checked against
// the bytes that remain before anything is allocated, so a truncated or
// hostile file yields an error, never a panic or a huge allocation. Only
// the fields that inference needs are decoded; unknown fields are skipped
// as protobuf requires.
//
// Field numbers follow onnx.proto (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto, TypeProto).
package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Load reads the ONNX model at path. External tensor data is resolved
// relative to the model's directory.
func Load(path string) (*ir.Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return parse(data, filepath.Dir(path), path)
}

// Parse decodes a serialized ONNX ModelProto. dir is the directory that
// external tensor data locations are relative to; when it is empty, a model
// with external data is an error. The graph's Source is empty.
//
// The returned graph holds the graph inputs that are not initializers in
// Inputs, nodes in file order, and the model's metadata_props in Metadata
// together with "producer_name", "producer_version" and "ir_version" (the
// model's own fields win over metadata_props entries of the same key).
// Opset is the version imported for the default domain ("" or "ai.onnx"),
// 0 when the model imports none. Value shapes use -1 for symbolic or
// unknown dimensions, and a nil Shape for an unknown rank.
func Parse(data []byte, dir string) (*ir.Graph, error) {
	return parse(data, dir, "")
}

func parse(data []byte, dir, src string) (*ir.Graph, error) {
	g, err := decodeModel(data, dir)
	if err != nil {
		if src == "" {
			return nil, fmt.Errorf("onnx: %w", err)
		}
		return nil, fmt.Errorf("onnx %s: %w", src, err)
	}
	g.Source = src
	return g, nil
}

// decodeModel decodes a ModelProto. The graph is decoded last, after the
// whole model has been scanned, because protobuf allows fields in any order.
func decodeModel(data []byte, dir string) (*ir.Graph, error) {
	var (
		graph     []byte
		hasGraph  bool
		irVersion int64
		producer  string
		prodVer   string
		opset     int64 = -1
		meta            = map[string]string{}
	)
	err := walk(data, func(f field) error {
		var err error
		switch f.num {
		case 1:
			irVersion, err = f.int64v("ir_version")
		case 2:
			producer, err = f.str("producer_name")
		case 3:
			prodVer, err = f.str("producer_version")
		case 7:
			graph, err = f.bytes("graph")
			hasGraph = true
		case 8:
			var b []byte
			if b, err = f.bytes("opset_import"); err != nil {
				return err
			}
			domain, version, err := opsetID(b)
			if err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			// Nodes bind to the highest imported version of their domain.
			if (domain == "" || domain == "ai.onnx") && version > opset {
				opset = version
			}
		case 14:
			var b []byte
			if b, err = f.bytes("metadata_props"); err != nil {
				return err
			}
			k, v, err := stringEntry(b)
			if err != nil {
				return fmt.Errorf("metadata_props: %w", err)
			}
			meta[k] = v
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if !hasGraph {
		return nil, fmt.Errorf("model has no graph")
	}
	if opset > math.MaxInt32 {
		return nil, fmt.Errorf("opset version %d out of range", opset)
	}
	g := ir.New("")
	g.Format = "onnx"
	g.Opset = max(int(opset), 0)
	for k, v := range meta {
		g.Metadata[k] = v
	}
	if producer != "" {
		g.Metadata["producer_name"] = producer
	}
	if prodVer != "" {
		g.Metadata["producer_version"] = prodVer
	}
	if irVersion != 0 {
		g.Metadata["ir_version"] = strconv.FormatInt(irVersion, 10)
	}
	if err := decodeGraph(graph, dir, g); err != nil {
		return nil, err
	}
	return g, nil
}

// opsetID decodes an OperatorSetIdProto.
func opsetID(b []byte) (domain string, version int64, err error) {
	err = walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			domain, err = f.str("domain")
		case 2:
			version, err = f.int64v("version")
		}
		return err
	})
	if err == nil && version < 0 {
		err = fmt.Errorf("negative version %d for domain %q", version, domain)
	}
	return domain, version, err
}

// graphMessages names the GraphProto fields that hold messages.
var graphMessages = map[protowire.Number]string{
	1: "node", 5: "initializer", 11: "input", 12: "output", 13: "value_info", 15: "sparse_initializer",
}

// decodeGraph decodes a GraphProto into g.
func decodeGraph(b []byte, dir string, g *ir.Graph) error {
	var inputs []*ir.ValueInfo
	nInit := 0
	err := walk(b, func(f field) error {
		var (
			msg []byte
			err error
		)
		if name, isMsg := graphMessages[f.num]; isMsg {
			if msg, err = f.bytes(name); err != nil {
				return err
			}
		}
		switch f.num {
		case 1:
			n, err := decodeNode(msg, dir)
			if err != nil {
				return fmt.Errorf("node #%d: %w", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name, err = f.str("name")
		case 5:
			name, t, err := decodeTensor(msg, dir)
			if err != nil {
				if name == "" {
					return fmt.Errorf("initializer #%d: %w", nInit, err)
				}
				return fmt.Errorf("initializer %q: %w", name, err)
			}
			if name == "" {
				return fmt.Errorf("initializer #%d has no name", nInit)
			}
			if _, dup := g.Initializers[name]; dup {
				return fmt.Errorf("initializer %q: duplicate name", name)
			}
			g.Initializers[name] = t
			nInit++
		case 11, 12, 13:
			vi, err := decodeValueInfo(msg)
			if err != nil {
				return fmt.Errorf("%s %q: %w", graphMessages[f.num], vi.Name, err)
			}
			switch f.num {
			case 11:
				inputs = append(inputs, vi)
			case 12:
				g.Outputs = append(g.Outputs, vi)
			default:
				g.ValueInfo[vi.Name] = vi
			}
		case 15:
			// A sparse constant would need densifying; dropping it would
			// surface later as a confusing "value never produced" error.
			return fmt.Errorf("sparse_initializer: %w", ErrUnsupported)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	// Before IR version 4 every initializer was also listed as a graph
	// input; those are constants, not values the caller feeds.
	for _, vi := range inputs {
		if _, isConst := g.Initializers[vi.Name]; !isConst {
			g.Inputs = append(g.Inputs, vi)
		}
	}
	return nil
}

// decodeTensor decodes and converts a TensorProto, returning its name even
// when the conversion fails so that the error can name the tensor.
func decodeTensor(b []byte, dir string) (string, *ir.Tensor, error) {
	tp, err := decodeTensorProto(b)
	if err != nil {
		return tp.name, nil, err
	}
	t, err := toTensor(tp, dir)
	return tp.name, t, err
}

// decodeNode decodes a NodeProto. Attributes are decoded after the node's
// other fields so that their errors can name the node.
func decodeNode(b []byte, dir string) (*ir.Node, error) {
	n := &ir.Node{}
	var attrs [][]byte
	err := walk(b, func(f field) error {
		var (
			s   string
			err error
		)
		switch f.num {
		case 1:
			s, err = f.str("input")
			n.Inputs = append(n.Inputs, s)
		case 2:
			s, err = f.str("output")
			n.Outputs = append(n.Outputs, s)
		case 3:
			n.Name, err = f.str("name")
		case 4:
			n.Op, err = f.str("op_type")
		case 5:
			var a []byte
			a, err = f.bytes("attribute")
			attrs = append(attrs, a)
		case 7:
			n.Domain, err = f.str("domain")
		}
		return err
	})
	if err != nil {
		if n.Op != "" || n.Name != "" {
			return nil, fmt.Errorf("%s: %w", n.Describe(), err)
		}
		return nil, err
	}
	if n.Domain == "ai.onnx" {
		n.Domain = ""
	}
	for i, ab := range attrs {
		name, a, err := decodeAttribute(ab, dir)
		if err != nil {
			if name == "" {
				return nil, fmt.Errorf("%s: attribute #%d: %w", n.Describe(), i, err)
			}
			return nil, fmt.Errorf("%s: attribute %q: %w", n.Describe(), name, err)
		}
		if name == "" {
			return nil, fmt.Errorf("%s: attribute #%d has no name", n.Describe(), i)
		}
		if a == nil {
			continue
		}
		if n.Attrs == nil {
			n.Attrs = make(map[string]*ir.Attr, len(attrs))
		}
		if _, dup := n.Attrs[name]; dup {
			return nil, fmt.Errorf("%s: attribute %q: duplicate name", n.Describe(), name)
		}
		n.Attrs[name] = a
	}
	return n, nil
}
