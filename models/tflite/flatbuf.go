package tflite

import (
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"
)

// This file holds bounds-checked access to FlatBuffers tables. The runtime
// library's Table trusts every offset it reads (a corrupt file makes it
// index out of range), so each table's vtable and every field, offset and
// vector is checked against the buffer here first; only then are the
// library's readers used on the validated positions.

// maxPos is the largest position FlatBuffers can address (offsets are
// 32-bit, and the format limits buffers to 2 GiB).
const maxPos = math.MaxInt32

// table is one validated FlatBuffers table.
type table struct {
	flatbuffers.Table
	what   string  // what the table is, for errors: "subgraph 0 tensor 12"
	vtLen  uint64  // vtable size in bytes, checked to lie in the buffer
	objLen uint64  // inline object size in bytes, checked to lie in the buffer
	budget *budget // shared by all tables of one buffer
}

// vector is one validated FlatBuffers vector: n elements of size elem
// starting at start, all inside the buffer.
type vector struct {
	b      []byte
	start  uint64
	n      int
	elem   uint64
	budget *budget
}

// budget bounds the vector bytes a decoder visits. Nothing stops a
// FlatBuffer from pointing many offsets at one object (every subgraph
// entry at one subgraph, every tensor entry at one tensor with a long
// shape), so a small file could otherwise decode into a quadratically
// large one. A well-formed file visits each vector once.
type budget struct {
	left int64
}

// newBudget allows visiting twice the buffer's size, plus slack.
func newBudget(n int) *budget { return &budget{left: 2*int64(n) + 1<<16} }

func (b *budget) take(n uint64, what, name string) error {
	if n > uint64(b.left) {
		return fmt.Errorf("%s: vector %s: the file's offsets revisit more data than it holds (shared or overlapping objects)", what, name)
	}
	b.left -= int64(n)
	return nil
}

// rootTable returns the table the buffer's root offset points at.
func rootTable(b []byte, what string) (table, error) {
	if len(b) < 8 {
		return table{}, fmt.Errorf("%s: file of %d bytes is too short for a FlatBuffer", what, len(b))
	}
	root := uint64(flatbuffers.GetUOffsetT(b))
	return newTable(b, root, what, newBudget(len(b)))
}

// newTable validates the table at pos: its soffset to the vtable, the
// vtable and the inline object must lie inside b.
func newTable(b []byte, pos uint64, what string, bud *budget) (table, error) {
	n := uint64(len(b))
	if pos > maxPos || pos+4 > n {
		return table{}, fmt.Errorf("%s: table at byte %d lies outside the %d-byte buffer", what, pos, n)
	}
	if pos%4 != 0 {
		return table{}, fmt.Errorf("%s: table at byte %d is misaligned", what, pos)
	}
	vt := int64(pos) - int64(flatbuffers.GetSOffsetT(b[pos:]))
	if vt < 0 || uint64(vt)+4 > n {
		return table{}, fmt.Errorf("%s: vtable at byte %d lies outside the %d-byte buffer", what, vt, n)
	}
	vtLen := uint64(flatbuffers.GetVOffsetT(b[vt:]))
	objLen := uint64(flatbuffers.GetVOffsetT(b[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || uint64(vt)+vtLen > n {
		return table{}, fmt.Errorf("%s: vtable of %d bytes at byte %d is invalid for a %d-byte buffer", what, vtLen, vt, n)
	}
	if objLen < 4 || pos+objLen > n {
		return table{}, fmt.Errorf("%s: table of %d bytes at byte %d runs past the %d-byte buffer", what, objLen, pos, n)
	}
	return table{
		Table:  flatbuffers.Table{Bytes: b, Pos: flatbuffers.UOffsetT(pos)},
		what:   what,
		vtLen:  vtLen,
		objLen: objLen,
		budget: bud,
	}, nil
}

// field returns the absolute position of field id's inline data of size
// bytes, and false when the field is absent (its default applies).
func (t table) field(id int, size uint64, name string) (uint64, bool, error) {
	vo := uint64(4 + 2*id)
	if vo+2 > t.vtLen {
		return 0, false, nil
	}
	off := uint64(t.Offset(flatbuffers.VOffsetT(vo)))
	if off == 0 {
		return 0, false, nil
	}
	if off < 4 || off+size > t.objLen {
		return 0, false, fmt.Errorf("%s: field %s at offset %d runs past its %d-byte table", t.what, name, off, t.objLen)
	}
	return uint64(t.Pos) + off, true, nil
}

func (t table) u8(id int, name string, def uint8) (uint8, error) {
	p, ok, err := t.field(id, 1, name)
	if !ok || err != nil {
		return def, err
	}
	return t.GetUint8(flatbuffers.UOffsetT(p)), nil
}

func (t table) i8(id int, name string, def int8) (int8, error) {
	v, err := t.u8(id, name, uint8(def))
	return int8(v), err
}

func (t table) boolean(id int, name string, def bool) (bool, error) {
	d := uint8(0)
	if def {
		d = 1
	}
	v, err := t.u8(id, name, d)
	return v != 0, err
}

func (t table) u32(id int, name string, def uint32) (uint32, error) {
	p, ok, err := t.field(id, 4, name)
	if !ok || err != nil {
		return def, err
	}
	return t.GetUint32(flatbuffers.UOffsetT(p)), nil
}

func (t table) i32(id int, name string, def int32) (int32, error) {
	v, err := t.u32(id, name, uint32(def))
	return int32(v), err
}

func (t table) f32(id int, name string, def float32) (float32, error) {
	p, ok, err := t.field(id, 4, name)
	if !ok || err != nil {
		return def, err
	}
	return t.GetFloat32(flatbuffers.UOffsetT(p)), nil
}

func (t table) u64(id int, name string, def uint64) (uint64, error) {
	p, ok, err := t.field(id, 8, name)
	if !ok || err != nil {
		return def, err
	}
	return t.GetUint64(flatbuffers.UOffsetT(p)), nil
}

// ref follows the offset stored in field id and returns the position it
// points at, or false when the field is absent.
func (t table) ref(id int, name string) (uint64, bool, error) {
	p, ok, err := t.field(id, 4, name)
	if !ok || err != nil {
		return 0, ok, err
	}
	target := p + uint64(flatbuffers.GetUOffsetT(t.Bytes[p:]))
	if target > maxPos || target >= uint64(len(t.Bytes)) {
		return 0, false, fmt.Errorf("%s: field %s points to byte %d outside the %d-byte buffer", t.what, name, target, len(t.Bytes))
	}
	return target, true, nil
}

// child returns the table in field id, or false when absent.
func (t table) child(id int, name, what string) (table, bool, error) {
	p, ok, err := t.ref(id, name)
	if !ok || err != nil {
		return table{}, false, err
	}
	c, err := newTable(t.Bytes, p, what, t.budget)
	return c, err == nil, err
}

// vector returns the vector in field id with elements of elem bytes (an
// absent field is an empty vector).
func (t table) vector(id int, elem uint64, name string) (vector, error) {
	p, ok, err := t.ref(id, name)
	if !ok || err != nil {
		return vector{b: t.Bytes, budget: t.budget}, err
	}
	n := uint64(len(t.Bytes))
	if p+4 > n {
		return vector{}, fmt.Errorf("%s: vector %s at byte %d runs past the %d-byte buffer", t.what, name, p, n)
	}
	count := uint64(flatbuffers.GetUOffsetT(t.Bytes[p:]))
	start := p + uint64(flatbuffers.SizeUOffsetT)
	if count*elem > n-start {
		return vector{}, fmt.Errorf("%s: vector %s of %d elements at byte %d runs past the %d-byte buffer", t.what, name, count, p, n)
	}
	if err := t.budget.take(4+count*elem, t.what, name); err != nil {
		return vector{}, err
	}
	return vector{b: t.Bytes, start: start, n: int(count), elem: elem, budget: t.budget}, nil
}

// str returns the string in field id ("" when absent).
func (t table) str(id int, name string) (string, error) {
	v, err := t.vector(id, 1, name)
	if err != nil {
		return "", err
	}
	return string(v.bytes()), nil
}

// bytes returns the elements of a byte vector, aliasing the buffer.
func (v vector) bytes() []byte {
	return v.b[v.start : v.start+uint64(v.n)*v.elem : v.start+uint64(v.n)*v.elem]
}

func (v vector) at(i int) uint64 { return v.start + uint64(i)*v.elem }

func (v vector) i32s() []int32 {
	out := make([]int32, v.n)
	for i := range out {
		out[i] = flatbuffers.GetInt32(v.b[v.at(i):])
	}
	return out
}

func (v vector) i64s() []int64 {
	out := make([]int64, v.n)
	for i := range out {
		out[i] = flatbuffers.GetInt64(v.b[v.at(i):])
	}
	return out
}

func (v vector) f32s() []float32 {
	out := make([]float32, v.n)
	for i := range out {
		out[i] = flatbuffers.GetFloat32(v.b[v.at(i):])
	}
	return out
}

// table returns element i of a vector of tables.
func (v vector) table(i int, what string) (table, error) {
	p := v.at(i)
	target := p + uint64(flatbuffers.GetUOffsetT(v.b[p:]))
	return newTable(v.b, target, what, v.budget)
}
