package native

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// littleEndian reports the host byte order. Blob data is little-endian, so
// on a little-endian host (every board edgeinfer targets: arm, arm64,
// amd64) tensors are written from and read into their memory directly; a
// big-endian host converts.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// knownDType reports whether dt is a tensor element type of the IR.
func knownDType(dt ir.DType) bool { return dt > ir.Undefined && dt <= ir.Bool }

// blobSize is the number of elements of shape and their size in bytes for
// dt, or an error when either overflows an int.
func blobSize(dt ir.DType, shape []int) (n, size int, err error) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > maxInt/d {
			return 0, 0, fmt.Errorf("shape %v overflows an int", shape)
		}
		n *= d
	}
	es := dt.Size()
	if es == 0 {
		return 0, 0, fmt.Errorf("element type %s has no data", dt)
	}
	if n > maxInt/es {
		return 0, 0, fmt.Errorf("shape %v of %s is more than %d bytes", shape, dt, maxInt)
	}
	return n, n * es, nil
}

// tensorBytes returns t's data as little-endian bytes. On a little-endian
// host the result aliases t's slice (no copy); it must not be modified.
func tensorBytes(t *ir.Tensor) []byte {
	switch t.DType {
	case ir.Int8:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.I8))), len(t.I8))
	case ir.Uint8, ir.Bool:
		return t.U8
	}
	if !littleEndian {
		return convertBytes(t)
	}
	switch t.DType {
	case ir.Float32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.F32))), 4*len(t.F32))
	case ir.Int32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.I32))), 4*len(t.I32))
	case ir.Int64:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.I64))), 8*len(t.I64))
	}
	return nil
}

// convertBytes encodes t's multi-byte data little-endian on any host.
func convertBytes(t *ir.Tensor) []byte {
	le := binary.LittleEndian
	var out []byte
	switch t.DType {
	case ir.Float32:
		out = make([]byte, 0, 4*len(t.F32))
		for _, v := range t.F32 {
			out = le.AppendUint32(out, math.Float32bits(v))
		}
	case ir.Int32:
		out = make([]byte, 0, 4*len(t.I32))
		for _, v := range t.I32 {
			out = le.AppendUint32(out, uint32(v))
		}
	case ir.Int64:
		out = make([]byte, 0, 8*len(t.I64))
		for _, v := range t.I64 {
			out = le.AppendUint64(out, uint64(v))
		}
	}
	return out
}

// setData points t's data slice at blob, which holds n elements of
// t.DType. It aliases blob when the host is little-endian and blob is
// aligned for the element type (always true in a mapped file, whose blobs
// are 64-byte aligned), and decodes a copy otherwise.
func setData(t *ir.Tensor, blob []byte, n int) {
	p := unsafe.Pointer(unsafe.SliceData(blob))
	aligned := littleEndian && uintptr(p)%uintptr(t.DType.Size()) == 0
	if n == 0 {
		// A set, empty slice: "exactly one data slice is set".
		p, aligned = nil, false
	}
	le := binary.LittleEndian
	switch t.DType {
	case ir.Int8:
		if n == 0 {
			t.I8 = []int8{}
			return
		}
		t.I8 = unsafe.Slice((*int8)(p), n)
	case ir.Uint8, ir.Bool:
		if n == 0 {
			t.U8 = []uint8{}
			return
		}
		t.U8 = blob[:n:n]
	case ir.Float32:
		if aligned {
			t.F32 = unsafe.Slice((*float32)(p), n)
			return
		}
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(le.Uint32(blob[4*i:]))
		}
	case ir.Int32:
		if aligned {
			t.I32 = unsafe.Slice((*int32)(p), n)
			return
		}
		t.I32 = make([]int32, n)
		for i := range t.I32 {
			t.I32[i] = int32(le.Uint32(blob[4*i:]))
		}
	case ir.Int64:
		if aligned {
			t.I64 = unsafe.Slice((*int64)(p), n)
			return
		}
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(le.Uint64(blob[8*i:]))
		}
	}
}
