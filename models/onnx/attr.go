package onnx

import (
	"errors"
	"fmt"
	"math"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// ONNX AttributeProto.AttributeType values.
const (
	attrFloat         = 1
	attrInt           = 2
	attrString        = 3
	attrTensor        = 4
	attrGraph         = 5
	attrFloats        = 6
	attrInts          = 7
	attrStrings       = 8
	attrTensors       = 9
	attrGraphs        = 10
	attrSparseTensor  = 11
	attrSparseTensors = 12
	attrTypeProto     = 13
	attrTypeProtos    = 14
)

// attrFieldKinds maps the AttributeProto value fields to the type they
// carry, to infer the type of IR-version-1 attributes that lack one.
var attrFieldKinds = map[int64]int64{
	2: attrFloat, 3: attrInt, 4: attrString, 5: attrTensor, 6: attrGraph,
	7: attrFloats, 8: attrInts, 9: attrStrings, 10: attrTensors,
	11: attrGraphs, 22: attrSparseTensor, 23: attrSparseTensors,
	14: attrTypeProto, 15: attrTypeProtos,
}

// decodeAttribute decodes an AttributeProto. It returns a nil Attr for the
// kinds the IR does not hold (graphs, sparse tensors, type protos, tensor
// lists): the ops that use them are not CNN inference ops, and the runtime
// reports such a node as unsupported by its op type.
func decodeAttribute(b []byte, dir string) (name string, a *ir.Attr, err error) {
	var (
		typ     int64
		seen    = map[int64]bool{}
		attr    = &ir.Attr{}
		tensor  []byte
		strings []string
	)
	err = walk(b, func(f field) error {
		var err error
		if k, ok := attrFieldKinds[int64(f.num)]; ok {
			seen[k] = true
		}
		switch f.num {
		case 1:
			name, err = f.str("name")
		case 20:
			typ, err = f.int64v("type")
		case 2:
			attr.F, err = f.float32v("f")
		case 3:
			attr.I, err = f.int64v("i")
		case 4:
			attr.S, err = f.str("s")
		case 5:
			tensor, err = f.bytes("t")
		case 7:
			attr.Floats, err = appendFloat32s(attr.Floats, f, "floats")
		case 8:
			attr.Ints, err = appendInt64s(attr.Ints, f, "ints")
		case 9:
			var s string
			s, err = f.str("strings")
			strings = append(strings, s)
		}
		return err
	})
	if err != nil {
		return name, nil, err
	}
	if typ == 0 {
		if len(seen) != 1 {
			return name, nil, errors.New("attribute has no type")
		}
		for k := range seen {
			typ = k
		}
	}
	switch typ {
	case attrFloat:
		attr.Kind = ir.AttrFloat
	case attrInt:
		attr.Kind = ir.AttrInt
	case attrString:
		attr.Kind = ir.AttrString
	case attrFloats:
		attr.Kind = ir.AttrFloats
		if attr.Floats == nil {
			attr.Floats = []float32{}
		}
	case attrInts:
		attr.Kind = ir.AttrInts
		if attr.Ints == nil {
			attr.Ints = []int64{}
		}
	case attrStrings:
		attr.Kind = ir.AttrStrings
		attr.Strings = strings
		if attr.Strings == nil {
			attr.Strings = []string{}
		}
	case attrTensor:
		if tensor == nil {
			return name, nil, errors.New("TENSOR attribute has no tensor")
		}
		tname, t, err := decodeTensor(tensor, dir)
		if err != nil {
			return name, nil, fmt.Errorf("tensor %q: %w", tname, err)
		}
		attr.Kind = ir.AttrTensor
		attr.T = t
	case attrGraph, attrGraphs, attrTensors, attrSparseTensor, attrSparseTensors,
		attrTypeProto, attrTypeProtos:
		return name, nil, nil
	default:
		return name, nil, fmt.Errorf("unknown attribute type %d", typ)
	}
	return name, attr, nil
}

// decodeValueInfo decodes a ValueInfoProto. The result is never nil, so
// that an error can name the value when its name was read.
func decodeValueInfo(b []byte) (*ir.ValueInfo, error) {
	vi := &ir.ValueInfo{}
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			vi.Name, err = f.str("name")
		case 2:
			var tb []byte
			if tb, err = f.bytes("type"); err != nil {
				return err
			}
			err = decodeType(tb, vi)
		}
		return err
	})
	return vi, err
}

// decodeType decodes a TypeProto. Only tensor types are described; a
// sequence, map or optional value keeps DType Undefined and a nil Shape.
func decodeType(b []byte, vi *ir.ValueInfo) error {
	return walk(b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		tb, err := f.bytes("tensor_type")
		if err != nil {
			return err
		}
		return walk(tb, func(f field) error {
			switch f.num {
			case 1:
				dt, err := f.int64v("elem_type")
				if err != nil {
					return err
				}
				// Types the IR cannot hold stay Undefined: the value may be
				// unused, and the runtime names the node that needs it.
				vi.DType, _, _ = elemType(dt)
			case 2:
				sb, err := f.bytes("shape")
				if err != nil {
					return err
				}
				shape, err := decodeShape(sb)
				if err != nil {
					return err
				}
				vi.Shape = shape
			}
			return nil
		})
	})
}

// decodeShape decodes a TensorShapeProto; symbolic and missing dimensions
// become -1. The result is non-nil, so a scalar is an empty shape.
func decodeShape(b []byte) ([]int, error) {
	shape := []int{}
	err := walk(b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		db, err := f.bytes("dim")
		if err != nil {
			return err
		}
		d := -1
		err = walk(db, func(f field) error {
			switch f.num {
			case 1:
				v, err := f.int64v("dim_value")
				if err != nil {
					return err
				}
				if v < 0 || v > math.MaxInt {
					return fmt.Errorf("dimension %d out of range", v)
				}
				d = int(v)
			case 2:
				d = -1
			}
			return nil
		})
		shape = append(shape, d)
		return err
	})
	if err != nil {
		return shape, err
	}
	return shape, checkValueShape(shape)
}

// maxValueElements bounds the element count of a declared value shape
// (a graph input, output or value_info). Initializers are bounded by the
// bytes in the file; a declared shape is not, and the runtime sizes its
// activation arena from it, so a few bytes claiming 2^40 elements must be
// refused here rather than exhaust memory at prepare. 2^30 elements (4 GiB
// of float32) is far above any CNN activation; on 32-bit boards the bound
// keeps byte counts of 16-byte elements inside an int.
const maxValueElements = min(1<<30, math.MaxInt/16)

// checkValueShape refuses a value shape with more than maxValueElements
// elements; unknown dimensions (-1) count as 1.
func checkValueShape(shape []int) error {
	n := 1
	for _, d := range shape {
		if d <= 0 {
			continue
		}
		if d > maxValueElements || n > maxValueElements/d {
			return fmt.Errorf("shape %v has more than %d elements", shape, maxValueElements)
		}
		n *= d
	}
	return nil
}
