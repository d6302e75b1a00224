package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// ErrUnsupported is wrapped by errors about well-formed ONNX content that
// edgeinfer cannot represent (string or complex tensors, sparse or
// segmented initializers), so that a conformance report can count such a
// model as unsupported rather than broken.
var ErrUnsupported = errors.New("unsupported")

// ONNX TensorProto.DataType values.
const (
	dtUndefined  = 0
	dtFloat      = 1
	dtUint8      = 2
	dtInt8       = 3
	dtUint16     = 4
	dtInt16      = 5
	dtInt32      = 6
	dtInt64      = 7
	dtString     = 8
	dtBool       = 9
	dtFloat16    = 10
	dtDouble     = 11
	dtUint32     = 12
	dtUint64     = 13
	dtComplex64  = 14
	dtComplex128 = 15
	dtBfloat16   = 16
)

var dataTypeNames = [...]string{
	"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
	"STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
	"COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
	"FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
}

func dataTypeName(dt int64) string {
	if dt >= 0 && dt < int64(len(dataTypeNames)) {
		return dataTypeNames[dt]
	}
	return fmt.Sprintf("data type %d", dt)
}

// elemType maps an ONNX data type to the IR type it is converted to and to
// its width in raw_data. Wider or exotic types are narrowed to what a CNN
// runtime computes with: floating point to float32, 16-bit integers to
// int32 and unsigned 32/64-bit integers (which only occur as shape-like
// constants) to int64.
func elemType(dt int64) (t ir.DType, rawSize int, ok bool) {
	switch dt {
	case dtFloat:
		return ir.Float32, 4, true
	case dtDouble:
		return ir.Float32, 8, true
	case dtFloat16, dtBfloat16:
		return ir.Float32, 2, true
	case dtInt8:
		return ir.Int8, 1, true
	case dtUint8:
		return ir.Uint8, 1, true
	case dtBool:
		return ir.Bool, 1, true
	case dtInt16, dtUint16:
		return ir.Int32, 2, true
	case dtInt32:
		return ir.Int32, 4, true
	case dtUint32:
		return ir.Int64, 4, true
	case dtInt64, dtUint64:
		return ir.Int64, 8, true
	}
	return ir.Undefined, 0, false
}

// tensorProto holds the fields of a TensorProto before conversion. Typed
// data fields are kept as decoded (int32_data as int64 because negative
// int32s arrive sign-extended).
type tensorProto struct {
	name     string
	dims     []int64
	dataType int64
	raw      []byte
	hasRaw   bool
	floats   []float32
	int32s   []int64
	int64s   []int64
	doubles  []float64
	uint64s  []uint64
	segment  bool
	location int64
	external map[string]string
}

// decodeTensorProto reads the fields of a TensorProto without converting
// its data, so that errors from the conversion can name the tensor.
func decodeTensorProto(b []byte) (*tensorProto, error) {
	tp := &tensorProto{}
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			tp.dims, err = appendInt64s(tp.dims, f, "dims")
		case 2:
			tp.dataType, err = f.int64v("data_type")
		case 3:
			tp.segment = true
		case 4:
			tp.floats, err = appendFloat32s(tp.floats, f, "float_data")
		case 5:
			tp.int32s, err = appendInt64s(tp.int32s, f, "int32_data")
		case 7:
			tp.int64s, err = appendInt64s(tp.int64s, f, "int64_data")
		case 8:
			tp.name, err = f.str("name")
		case 9:
			tp.raw, err = f.bytes("raw_data")
			tp.hasRaw = true
		case 10:
			tp.doubles, err = appendFloat64s(tp.doubles, f, "double_data")
		case 11:
			tp.uint64s, err = appendVarints(tp.uint64s, f, "uint64_data")
		case 13:
			var kv []byte
			if kv, err = f.bytes("external_data"); err != nil {
				return err
			}
			var k, v string
			if k, v, err = stringEntry(kv); err != nil {
				return fmt.Errorf("external_data: %w", err)
			}
			if tp.external == nil {
				tp.external = map[string]string{}
			}
			tp.external[k] = v
		case 14:
			tp.location, err = f.int64v("data_location")
		}
		return err
	})
	return tp, err
}

// stringEntry decodes a StringStringEntryProto.
func stringEntry(b []byte) (key, value string, err error) {
	err = walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			key, err = f.str("key")
		case 2:
			value, err = f.str("value")
		}
		return err
	})
	return key, value, err
}

// numElements is the product of dims, rejecting negative dimensions and
// products that overflow int (a 32-bit board must not wrap around).
func numElements(dims []int64) (int, error) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", dims)
		}
		if d > math.MaxInt || (d != 0 && n > math.MaxInt/int(d)) {
			return 0, fmt.Errorf("shape %v has too many elements", dims)
		}
		n *= int(d)
	}
	return n, nil
}

// toTensor converts a decoded TensorProto. dir resolves external data; an
// empty dir rejects it (there is no model directory to resolve against).
func toTensor(tp *tensorProto, dir string) (*ir.Tensor, error) {
	if tp.segment {
		return nil, fmt.Errorf("segmented tensor: %w", ErrUnsupported)
	}
	dtype, size, ok := elemType(tp.dataType)
	if !ok {
		return nil, fmt.Errorf("%s tensor: %w", dataTypeName(tp.dataType), ErrUnsupported)
	}
	n, err := numElements(tp.dims)
	if err != nil {
		return nil, err
	}
	if n > math.MaxInt/size {
		return nil, fmt.Errorf("shape %v has too many elements", tp.dims)
	}
	shape := make([]int, len(tp.dims))
	for i, d := range tp.dims {
		shape[i] = int(d)
	}

	// bits(i) returns element i as raw bits (sign-extended for int32_data);
	// convert below narrows it to the IR type. One conversion table for
	// all storage fields keeps raw, typed and external data in agreement.
	var bits func(i int) uint64
	raw := tp.raw
	switch {
	case tp.location == 1:
		if tp.hasRaw {
			return nil, errors.New("external tensor also has raw_data")
		}
		if raw, err = readExternal(tp.external, dir, n*size); err != nil {
			return nil, err
		}
		bits = rawBits(raw, size)
	case tp.location != 0:
		return nil, fmt.Errorf("unknown data_location %d", tp.location)
	case tp.hasRaw:
		if len(raw) != n*size {
			return nil, fmt.Errorf("raw_data has %d bytes, want %d for %s%v", len(raw), n*size, dataTypeName(tp.dataType), tp.dims)
		}
		bits = rawBits(raw, size)
	default:
		var have int
		var fieldName string
		switch tp.dataType {
		case dtFloat:
			fieldName, have = "float_data", len(tp.floats)
			bits = func(i int) uint64 { return uint64(math.Float32bits(tp.floats[i])) }
		case dtDouble:
			fieldName, have = "double_data", len(tp.doubles)
			bits = func(i int) uint64 { return math.Float64bits(tp.doubles[i]) }
		case dtInt64:
			fieldName, have = "int64_data", len(tp.int64s)
			bits = func(i int) uint64 { return uint64(tp.int64s[i]) }
		case dtUint32, dtUint64:
			fieldName, have = "uint64_data", len(tp.uint64s)
			bits = func(i int) uint64 { return tp.uint64s[i] }
		default: // 8/16/32-bit integers, bool and 16-bit floats
			fieldName, have = "int32_data", len(tp.int32s)
			bits = func(i int) uint64 { return uint64(tp.int32s[i]) }
		}
		if have != n {
			return nil, fmt.Errorf("%s has %d elements, want %d for %s%v", fieldName, have, n, dataTypeName(tp.dataType), tp.dims)
		}
	}
	t := &ir.Tensor{DType: dtype, Shape: shape}
	if err := convert(t, tp.dataType, n, bits); err != nil {
		return nil, err
	}
	return t, nil
}

// rawBits reads little-endian elements of size bytes from raw.
func rawBits(raw []byte, size int) func(i int) uint64 {
	switch size {
	case 1:
		return func(i int) uint64 { return uint64(raw[i]) }
	case 2:
		return func(i int) uint64 { return uint64(binary.LittleEndian.Uint16(raw[2*i:])) }
	case 4:
		return func(i int) uint64 { return uint64(binary.LittleEndian.Uint32(raw[4*i:])) }
	}
	return func(i int) uint64 { return binary.LittleEndian.Uint64(raw[8*i:]) }
}

// convert fills t's data slice with n elements of ONNX type dt.
func convert(t *ir.Tensor, dt int64, n int, bits func(int) uint64) error {
	switch dt {
	case dtFloat, dtDouble, dtFloat16, dtBfloat16:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			b := bits(i)
			switch dt {
			case dtFloat:
				t.F32[i] = math.Float32frombits(uint32(b))
			case dtDouble:
				t.F32[i] = float32(math.Float64frombits(b))
			case dtFloat16:
				t.F32[i] = halfToFloat32(uint16(b))
			default:
				t.F32[i] = math.Float32frombits(uint32(uint16(b)) << 16)
			}
		}
	case dtInt8:
		t.I8 = make([]int8, n)
		for i := range t.I8 {
			t.I8[i] = int8(bits(i))
		}
	case dtUint8:
		t.U8 = make([]uint8, n)
		for i := range t.U8 {
			t.U8[i] = uint8(bits(i))
		}
	case dtBool:
		// Normalised to 0/1: ops that treat bools as integers must not
		// see other truthy bytes.
		t.U8 = make([]uint8, n)
		for i := range t.U8 {
			if uint8(bits(i)) != 0 {
				t.U8[i] = 1
			}
		}
	case dtInt16, dtUint16, dtInt32:
		t.I32 = make([]int32, n)
		for i := range t.I32 {
			switch b := bits(i); dt {
			case dtInt16:
				t.I32[i] = int32(int16(b))
			case dtUint16:
				t.I32[i] = int32(uint16(b))
			default:
				t.I32[i] = int32(b)
			}
		}
	case dtUint32, dtInt64, dtUint64:
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			switch b := bits(i); dt {
			case dtUint32:
				t.I64[i] = int64(uint32(b))
			case dtUint64:
				if b > math.MaxInt64 {
					return fmt.Errorf("UINT64 element %d (%d) does not fit int64", i, b)
				}
				t.I64[i] = int64(b)
			default:
				t.I64[i] = int64(b)
			}
		}
	}
	return nil
}

// halfToFloat32 converts IEEE 754 binary16 bits to float32 exactly
// (every half value, subnormals included, is representable).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN; the payload is kept
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case 0: // zero or subnormal: mant · 2⁻²⁴
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// readExternal reads want bytes of external tensor data. The location must
// be a local path below dir (no "..", not absolute) and is opened through
// os.OpenInRoot, so a symlink cannot lead outside dir either: a model file
// must not be able to make the reader disclose arbitrary files.
func readExternal(ext map[string]string, dir string, want int) ([]byte, error) {
	loc, ok := ext["location"]
	if !ok || loc == "" {
		return nil, errors.New("external data has no location")
	}
	if dir == "" {
		return nil, fmt.Errorf("external data %q: no model directory to resolve it against", loc)
	}
	if !filepath.IsLocal(filepath.FromSlash(loc)) {
		return nil, fmt.Errorf("external data location %q escapes the model directory", loc)
	}
	offset, err := externalInt(ext, "offset", 0)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenInRoot(dir, filepath.FromSlash(loc))
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	size := st.Size()
	if offset > size {
		return nil, fmt.Errorf("external data %q: offset %d beyond its size %d", loc, offset, size)
	}
	length, err := externalInt(ext, "length", size-offset)
	if err != nil {
		return nil, err
	}
	if length > size-offset {
		return nil, fmt.Errorf("external data %q: offset %d + length %d beyond its size %d", loc, offset, length, size)
	}
	if length != int64(want) {
		return nil, fmt.Errorf("external data %q: length %d, want %d bytes", loc, length, want)
	}
	buf := make([]byte, want)
	if _, err := io.ReadFull(io.NewSectionReader(f, offset, length), buf); err != nil {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	return buf, nil
}

// externalInt parses a non-negative integer external_data value (ONNX
// stores them as decimal strings).
func externalInt(ext map[string]string, key string, def int64) (int64, error) {
	s, ok := ext[key]
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("external data %s %q is not a non-negative integer", key, s)
	}
	return v, nil
}
