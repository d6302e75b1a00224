package runtime

import (
	"unsafe"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// layout is how a value's logical (ONNX, NCHW) shape is laid out in memory.
type layout uint8

const (
	// plain is row-major in logical order.
	plain layout = iota
	// channelsLast stores logical [N, C, d1..dk] as [N, d1..dk, C]; every
	// spatial kernel reads and writes it.
	channelsLast
)

// value is one tensor of the lowered program.
type value struct {
	name   string
	dtype  ir.DType
	shape  []int // logical shape
	layout layout
	// strides are logical strides in elements; a view into a concat has
	// a pixel stride larger than its channel count.
	strides []int

	konst *ir.Tensor // constant data (not in the arena)
	quant *ir.Quant  // quantisation of int8/uint8 values (per tensor)

	// Storage: a value either owns an arena block (root), aliases another
	// value's storage at the same offset (reshape family), or is a channel
	// slice of a concat output (view).
	alias    *value
	parent   *value
	chanOff  int // element offset of a view inside its parent
	block    *block
	graphIn  bool
	graphOut bool

	f32 []float32 // resolved storage once the arena exists
	s8  []int8
	raw []byte
}

func (v *value) numel() int { return ir.NumElements(v.shape) }

// root follows aliases and views to the value that owns the storage.
func (v *value) root() *value {
	for {
		switch {
		case v.alias != nil:
			v = v.alias
		case v.parent != nil:
			v = v.parent
		default:
			return v
		}
	}
}

// elemOffset is v's first element relative to its root's first element.
func (v *value) elemOffset() int {
	off := 0
	for {
		switch {
		case v.alias != nil:
			v = v.alias
		case v.parent != nil:
			off += v.chanOff
			v = v.parent
		default:
			return off
		}
	}
}

// span is the number of elements from the first to one past the last
// element v touches.
func (v *value) span() int {
	if v.numel() == 0 {
		return 0
	}
	s := 1
	for i, d := range v.shape {
		s += (d - 1) * v.strides[i]
	}
	return s
}

// contiguous reports whether v's strides are row-major over its physical
// order with no gaps (so it can be processed as a flat array).
func (v *value) contiguous() bool { return v.span() == v.numel() }

func plainStrides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// channelsLastStrides returns logical strides for a channels-last layout
// whose pixels are pixStride elements apart.
func channelsLastStrides(shape []int, pixStride int) []int {
	s := make([]int, len(shape))
	if len(shape) < 3 {
		return plainStrides(shape)
	}
	s[1] = 1
	acc := pixStride
	for i := len(shape) - 1; i >= 2; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	s[0] = acc
	return s
}

// physicalPerm is the order of logical dims in memory for a layout.
func physicalPerm(l layout, rank int) []int {
	p := make([]int, rank)
	if l == plain || rank < 3 {
		for i := range p {
			p[i] = i
		}
		return p
	}
	p[0] = 0
	for i := 2; i < rank; i++ {
		p[i-1] = i
	}
	p[rank-1] = 1
	return p
}

// bindStorage points v.f32/raw at the arena (or at constant data).
func (v *value) bindStorage(arena []byte) {
	if v.konst != nil {
		switch v.dtype {
		case ir.Float32:
			v.f32 = v.konst.F32
		case ir.Int8:
			v.s8 = v.konst.I8
		case ir.Uint8:
			v.raw = v.konst.U8
		}
		return
	}
	r := v.root()
	if r.block == nil {
		return
	}
	es := v.dtype.Size()
	start := r.block.offset + v.elemOffset()*es
	n := v.span()
	if n == 0 {
		v.raw = arena[start:start]
		if v.dtype == ir.Float32 {
			v.f32 = []float32{}
		}
		return
	}
	v.raw = arena[start : start+n*es : start+n*es]
	switch v.dtype {
	case ir.Float32:
		v.f32 = unsafe.Slice((*float32)(unsafe.Pointer(&arena[start])), n)
	case ir.Int8:
		v.s8 = unsafe.Slice((*int8)(unsafe.Pointer(&arena[start])), n)
	}
}

// ints64 views the storage of an int64 value.
func (v *value) ints64() []int64 {
	if v.konst != nil {
		return v.konst.I64
	}
	if len(v.raw) == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&v.raw[0])), len(v.raw)/8)
}
