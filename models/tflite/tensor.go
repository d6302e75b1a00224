package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Layout permutations. Entry k names the file dimension that becomes IR
// dimension k (the ONNX Transpose convention: out[k] = in[perm[k]]).
var (
	// toNCHW turns an NHWC activation into the IR's NCHW; it also turns a
	// CONV_2D filter [O,KH,KW,I] into the IR's [O,I,KH,KW].
	toNCHW = []int{0, 3, 1, 2}
	// toNHWC is toNCHW's inverse.
	toNHWC = []int{0, 2, 3, 1}
	// dwFilterPerm turns a DEPTHWISE_CONV_2D filter [1,KH,KW,C·M] into
	// the IR's grouped Conv weight [C·M,1,KH,KW].
	dwFilterPerm = []int{3, 0, 1, 2}
)

// maxElements bounds the element count of any tensor shape (and any
// dimension or padding), so shape arithmetic cannot overflow int and a
// corrupt shape is refused early. Activation shapes have no data in the
// file to bound them, and the runtime sizes its arena from them: 2^30
// elements (4 GiB of float32) is far above any CNN activation, refuses a
// file claiming 2^40 before it exhausts memory, and on 32-bit boards keeps
// byte counts of 16-byte elements inside an int.
const maxElements = min(1<<30, math.MaxInt/16)

// hostLittleEndian reports whether tensor bytes (always little-endian in a
// TFLite file) can be reinterpreted in place.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// irDType maps a TFLite TensorType to the IR's element type.
func irDType(t int8) (ir.DType, bool) {
	switch t {
	case typeFloat32:
		return ir.Float32, true
	case typeInt8:
		return ir.Int8, true
	case typeUint8:
		return ir.Uint8, true
	case typeInt32:
		return ir.Int32, true
	case typeInt64:
		return ir.Int64, true
	}
	return ir.Undefined, false
}

// fileShape converts a file shape, refusing negative dims and shapes whose
// element count is absurd.
func fileShape(s []int32) ([]int, error) {
	out := make([]int, len(s))
	n := int64(1)
	for i, d := range s {
		if d < 0 {
			return nil, fmt.Errorf("shape %v has a negative dimension", s)
		}
		out[i] = int(d)
		if d > 0 {
			if n > maxElements/int64(d) {
				return nil, fmt.Errorf("shape %v has too many elements", s)
			}
			n *= int64(d)
		}
	}
	return out, nil
}

// permuteShape returns shape permuted by perm (nil perm: a copy).
func permuteShape(shape, perm []int) []int {
	out := make([]int, len(shape))
	if perm == nil {
		copy(out, shape)
		return out
	}
	for k, p := range perm {
		out[k] = shape[p]
	}
	return out
}

// permuteAxis returns where file axis a lands under perm.
func permuteAxis(a int, perm []int) int {
	for k, p := range perm {
		if p == a {
			return k
		}
	}
	return a
}

// keepsOrder reports whether permuting shape by perm leaves the elements in
// memory order, i.e. only moves dimensions of size 1.
func keepsOrder(shape, perm []int) bool {
	last := -1
	for _, p := range perm {
		if shape[p] == 1 {
			continue
		}
		if p < last {
			return false
		}
		last = p
	}
	return true
}

// permuteBytes transposes row-major data of elements of size es and the
// given shape by perm into a new buffer.
func permuteBytes(src []byte, es int, shape, perm []int) []byte {
	r := len(shape)
	stride := make([]int, r)
	s := es
	for i := r - 1; i >= 0; i-- {
		stride[i] = s
		s *= shape[i]
	}
	outShape := permuteShape(shape, perm)
	// Byte stride in the source of each output dimension.
	ostride := make([]int, r)
	for k, p := range perm {
		ostride[k] = stride[p]
	}
	dst := make([]byte, len(src))
	idx := make([]int, r)
	off := 0
	for o := 0; o < len(dst); o += es {
		copy(dst[o:o+es], src[off:off+es])
		for k := r - 1; k >= 0; k-- {
			idx[k]++
			off += ostride[k]
			if idx[k] < outShape[k] {
				break
			}
			off -= idx[k] * ostride[k]
			idx[k] = 0
		}
	}
	return dst
}

// aliasable reports whether raw can be viewed in place as dt elements:
// on a little-endian host, suitably aligned.
func aliasable(raw []byte, dt ir.DType) bool {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	return hostLittleEndian && len(raw) > 0 && p%uintptr(dt.Size()) == 0
}

// typedTensor builds a tensor over raw little-endian bytes. When alias is
// set and the bytes are suitably aligned on a little-endian host, the data
// slice aliases raw; otherwise it is a copy.
func typedTensor(dt ir.DType, shape []int, raw []byte, alias bool) *ir.Tensor {
	t := &ir.Tensor{DType: dt, Shape: shape}
	n := len(raw) / dt.Size()
	p := unsafe.Pointer(unsafe.SliceData(raw))
	inPlace := alias && aliasable(raw, dt)
	switch dt {
	case ir.Int8:
		if inPlace {
			t.I8 = unsafe.Slice((*int8)(p), n)
		} else {
			t.I8 = make([]int8, n)
			for i, b := range raw {
				t.I8[i] = int8(b)
			}
		}
	case ir.Uint8:
		if inPlace {
			t.U8 = raw[:n:n]
		} else {
			t.U8 = append(make([]uint8, 0, n), raw...)
		}
	case ir.Float32:
		if inPlace {
			t.F32 = unsafe.Slice((*float32)(p), n)
		} else {
			t.F32 = make([]float32, n)
			for i := range t.F32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
	case ir.Int32:
		if inPlace {
			t.I32 = unsafe.Slice((*int32)(p), n)
		} else {
			t.I32 = make([]int32, n)
			for i := range t.I32 {
				t.I32[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
	case ir.Int64:
		if inPlace {
			t.I64 = unsafe.Slice((*int64)(p), n)
		} else {
			t.I64 = make([]int64, n)
			for i := range t.I64 {
				t.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
	}
	return t
}

// scalarF32 and friends build small constants the reader adds itself.
func scalarF32(v float32) *ir.Tensor {
	return &ir.Tensor{DType: ir.Float32, Shape: []int{}, F32: []float32{v}}
}

func int64s(v []int64) *ir.Tensor {
	return &ir.Tensor{DType: ir.Int64, Shape: []int{len(v)}, I64: v}
}

// quantInts builds an integer constant of type dt (zero points, pad
// values): a scalar of vals[0] when scalar is set, else a vector.
func quantInts(dt ir.DType, vals []int32, scalar bool) *ir.Tensor {
	shape := []int{len(vals)}
	if scalar {
		shape = []int{}
	}
	t := &ir.Tensor{DType: dt, Shape: shape}
	switch dt {
	case ir.Int8:
		t.I8 = make([]int8, len(vals))
		for i, v := range vals {
			t.I8[i] = int8(v)
		}
	case ir.Uint8:
		t.U8 = make([]uint8, len(vals))
		for i, v := range vals {
			t.U8[i] = uint8(v)
		}
	case ir.Int32:
		t.I32 = append([]int32(nil), vals...)
	default:
		t.I64 = make([]int64, len(vals))
		t.DType = ir.Int64
		for i, v := range vals {
			t.I64[i] = int64(v)
		}
	}
	return t
}

// zeroPointRange is the representable range of each quantised type.
func zeroPointRange(dt ir.DType) (lo, hi int64) {
	switch dt {
	case ir.Int8:
		return math.MinInt8, math.MaxInt8
	case ir.Uint8:
		return 0, math.MaxUint8
	}
	return math.MinInt32, math.MaxInt32
}

// quantOf converts a tensor's quantisation parameters. rank is the file
// rank; perm is the layout permutation the IR applies to the tensor (nil
// for none) and lead the number of leading 1-dims added before it, so a
// per-channel axis follows its dimension.
func quantOf(t *tensorDef, dt ir.DType, shape []int, perm []int, lead int) (*ir.Quant, error) {
	q := t.quant
	if q == nil || dt == ir.Float32 {
		// Float tensors may carry min/max for re-import into TensorFlow;
		// they are not quantised.
		return nil, nil
	}
	if q.custom {
		return nil, fmt.Errorf("custom quantization details: %w", ErrUnsupported)
	}
	if len(q.scale) == 0 {
		return nil, nil
	}
	zps := q.zeroPoint
	if len(zps) == 0 {
		zps = make([]int64, len(q.scale))
	}
	if len(zps) != len(q.scale) {
		return nil, fmt.Errorf("quantization has %d scales but %d zero points", len(q.scale), len(zps))
	}
	out := &ir.Quant{Scale: append([]float32(nil), q.scale...), ZeroPoint: make([]int32, len(zps))}
	lo, hi := zeroPointRange(dt)
	for i, z := range zps {
		if z < lo || z > hi {
			return nil, fmt.Errorf("zero point %d out of range for %s", z, dt)
		}
		out.ZeroPoint[i] = int32(z)
	}
	for _, s := range q.scale {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("quantization scale %v is not finite", s)
		}
	}
	if len(q.scale) == 1 {
		return out, nil
	}
	axis := int(q.dim)
	if len(shape) == 1 {
		// Some converters (person_detect's) copy the filter's
		// quantized_dimension onto 1-D biases; only axis 0 exists.
		axis = 0
	}
	if axis < 0 || axis >= len(shape) || shape[axis] != len(q.scale) {
		return nil, fmt.Errorf("%d per-channel scales do not match dimension %d of shape %v", len(q.scale), q.dim, shape)
	}
	axis += lead
	if perm != nil {
		axis = permuteAxis(axis, perm)
	}
	out.Axis = axis
	return out, nil
}

// cloneQuant returns a deep copy of q (nil for nil).
func cloneQuant(q *ir.Quant) *ir.Quant {
	if q == nil {
		return nil
	}
	return &ir.Quant{
		Scale:     append([]float32(nil), q.Scale...),
		ZeroPoint: append([]int32(nil), q.ZeroPoint...),
		Axis:      q.Axis,
	}
}
