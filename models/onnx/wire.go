package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// field is one decoded protobuf field. Bytes fields alias the input buffer:
// nothing is copied until a decoder turns them into strings or typed data,
// so a lying length costs no allocation (protowire checks it against the
// remaining input).
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64 // varint, fixed32 and fixed64 values
	b   []byte // bytes values (strings, messages, packed repeated scalars)
}

// walk calls fn for every field of the message encoded in b, in file order.
// Groups (deprecated, never used by ONNX) are skipped.
func walk(b []byte, fn func(f field) error) error {
	off := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("byte %d: tag: %w", off, protowire.ParseError(n))
		}
		f := field{num: num, typ: typ}
		tagLen := n
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("byte %d: field %d: %w", off, num, protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.StartGroupType {
			off += tagLen + n
			continue
		}
		if err := fn(f); err != nil {
			return err
		}
		off += tagLen + n
	}
	return nil
}

// errWireType reports a known field encoded with the wrong wire type; such
// a file was not written by a conforming ONNX serializer and guessing its
// meaning would silently misread it.
func errWireType(f field, name string) error {
	return fmt.Errorf("field %s (%d): unexpected wire type %d", name, f.num, f.typ)
}

func (f field) bytes(name string) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, errWireType(f, name)
	}
	return f.b, nil
}

func (f field) str(name string) (string, error) {
	b, err := f.bytes(name)
	return string(b), err
}

func (f field) varint(name string) (uint64, error) {
	if f.typ != protowire.VarintType {
		return 0, errWireType(f, name)
	}
	return f.u, nil
}

// int64v decodes an int64 or int32 varint (negative int32s are sign-extended
// to ten bytes on the wire, so both read back through int64).
func (f field) int64v(name string) (int64, error) {
	v, err := f.varint(name)
	return int64(v), err
}

func (f field) float32v(name string) (float32, error) {
	if f.typ != protowire.Fixed32Type {
		return 0, errWireType(f, name)
	}
	return math.Float32frombits(uint32(f.u)), nil
}

// countVarints counts the varints in a packed buffer: every varint ends
// with exactly one byte below 0x80, so this is exact for well-formed data
// and an upper bound otherwise, which lets the caller allocate once.
func countVarints(b []byte) int {
	n := 0
	for _, c := range b {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// appendVarints appends a repeated varint field, packed or not (proto2
// writers, which ONNX allows, emit unpacked repeated scalars).
func appendVarints(dst []uint64, f field, name string) ([]uint64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, f.u), nil
	case protowire.BytesType:
		b := f.b
		if dst == nil {
			dst = make([]uint64, 0, countVarints(b))
		}
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("field %s (%d): %w", name, f.num, protowire.ParseError(n))
			}
			dst = append(dst, v)
			b = b[n:]
		}
		return dst, nil
	}
	return nil, errWireType(f, name)
}

// appendInt64s is appendVarints for int64 and int32 fields.
func appendInt64s(dst []int64, f field, name string) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.u)), nil
	case protowire.BytesType:
		b := f.b
		if dst == nil {
			dst = make([]int64, 0, countVarints(b))
		}
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("field %s (%d): %w", name, f.num, protowire.ParseError(n))
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, errWireType(f, name)
}

var errPackedLen = errors.New("packed length is not a multiple of the element size")

// appendFloat32s appends a repeated float field, packed or not.
func appendFloat32s(dst []float32, f field, name string) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.u))), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return nil, fmt.Errorf("field %s (%d): %w", name, f.num, errPackedLen)
		}
		dst = grow(dst, len(f.b)/4)
		for i := 0; i < len(f.b); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(f.b[i:])))
		}
		return dst, nil
	}
	return nil, errWireType(f, name)
}

// appendFloat64s appends a repeated double field, packed or not.
func appendFloat64s(dst []float64, f field, name string) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(f.u)), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return nil, fmt.Errorf("field %s (%d): %w", name, f.num, errPackedLen)
		}
		dst = grow(dst, len(f.b)/8)
		for i := 0; i < len(f.b); i += 8 {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(f.b[i:])))
		}
		return dst, nil
	}
	return nil, errWireType(f, name)
}

// grow makes room for n more elements; n is bounded by the input size.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+n)
	copy(out, s)
	return out
}
