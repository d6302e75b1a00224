package tflite

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"

	flatbuffers "github.com/google/flatbuffers/go"
)

// This file writes small TFLite models for the tests with the flatbuffers
// Builder, following schema.fbs field ids, independently of the reader's
// decoding code.

// tmTensor is a tensor of a test model; data makes it a constant.
type tmTensor struct {
	name  string
	shape []int32
	typ   int8
	data  []byte
	scale []float32
	zp    []int64
	qdim  int32
	share int // 1 + index of an earlier constant whose buffer this one uses
}

// tmOp is an operator of a test model.
type tmOp struct {
	code    int32
	custom  string
	in, out []int32
	optType uint8
	opts    []tmField // the builtin options table's fields
}

// tmField is one field of an options table.
type tmField struct {
	id  int
	val any // int32, uint8, bool, float32 or []int32
}

// tmModel is a whole test model (one subgraph).
type tmModel struct {
	name     string
	tensors  []tmTensor
	ops      []tmOp
	inputs   []int32
	outputs  []int32
	metadata map[string][]byte
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func i32bytes(v ...int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

func i8bytes(v ...int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// seq returns n float32s 0, 1, 2, … as bytes.
func seqF32(n int) []byte {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return f32bytes(v...)
}

func int32Vec(b *flatbuffers.Builder, v []int32) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt32(v[i])
	}
	return b.EndVector(len(v))
}

func offsetVec(b *flatbuffers.Builder, v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependUOffsetT(v[i])
	}
	return b.EndVector(len(v))
}

// bytes serialises the model.
func (m *tmModel) bytes() []byte {
	b := flatbuffers.NewBuilder(1024)
	// Buffers: 0 is the empty sentinel; each constant gets its own.
	bufs := []flatbuffers.UOffsetT{}
	b.StartObject(3)
	bufs = append(bufs, b.EndObject())
	bufIndex := make([]uint32, len(m.tensors))
	for i, t := range m.tensors {
		if t.share > 0 {
			bufIndex[i] = bufIndex[t.share-1]
			continue
		}
		if t.data == nil {
			continue
		}
		b.StartVector(1, len(t.data), 16)
		for j := len(t.data) - 1; j >= 0; j-- {
			b.PrependByte(t.data[j])
		}
		data := b.EndVector(len(t.data))
		b.StartObject(3)
		b.PrependUOffsetTSlot(0, data, 0)
		bufIndex[i] = uint32(len(bufs))
		bufs = append(bufs, b.EndObject())
	}
	var metas []flatbuffers.UOffsetT
	for _, name := range slices.Sorted(maps.Keys(m.metadata)) {
		data := b.CreateByteVector(m.metadata[name])
		b.StartObject(3)
		b.PrependUOffsetTSlot(0, data, 0)
		idx := uint32(len(bufs))
		bufs = append(bufs, b.EndObject())
		n := b.CreateString(name)
		b.StartObject(2)
		b.PrependUOffsetTSlot(0, n, 0)
		b.PrependUint32Slot(1, idx, 0)
		metas = append(metas, b.EndObject())
	}
	tensors := make([]flatbuffers.UOffsetT, len(m.tensors))
	for i, t := range m.tensors {
		var quant flatbuffers.UOffsetT
		if t.scale != nil {
			b.StartVector(4, len(t.scale), 4)
			for j := len(t.scale) - 1; j >= 0; j-- {
				b.PrependFloat32(t.scale[j])
			}
			scale := b.EndVector(len(t.scale))
			b.StartVector(8, len(t.zp), 8)
			for j := len(t.zp) - 1; j >= 0; j-- {
				b.PrependInt64(t.zp[j])
			}
			zp := b.EndVector(len(t.zp))
			b.StartObject(7)
			b.PrependUOffsetTSlot(2, scale, 0)
			b.PrependUOffsetTSlot(3, zp, 0)
			b.PrependInt32Slot(6, t.qdim, 0)
			quant = b.EndObject()
		}
		name := b.CreateString(t.name)
		shape := int32Vec(b, t.shape)
		b.StartObject(10)
		b.PrependUOffsetTSlot(0, shape, 0)
		b.PrependInt8Slot(1, t.typ, 0)
		b.PrependUint32Slot(2, bufIndex[i], 0)
		b.PrependUOffsetTSlot(3, name, 0)
		if quant != 0 {
			b.PrependUOffsetTSlot(4, quant, 0)
		}
		tensors[i] = b.EndObject()
	}
	// Operator codes, one per distinct (code, custom) pair.
	type codeKey struct {
		code   int32
		custom string
	}
	var codes []codeKey
	opcodeIndex := make([]uint32, len(m.ops))
	for i, op := range m.ops {
		k := codeKey{op.code, op.custom}
		j := slices.Index(codes, k)
		if j < 0 {
			j = len(codes)
			codes = append(codes, k)
		}
		opcodeIndex[i] = uint32(j)
	}
	codeOffs := make([]flatbuffers.UOffsetT, len(codes))
	for i, k := range codes {
		var custom flatbuffers.UOffsetT
		if k.custom != "" {
			custom = b.CreateString(k.custom)
		}
		b.StartObject(4)
		b.PrependInt8Slot(0, int8(min(k.code, 127)), 0)
		if custom != 0 {
			b.PrependUOffsetTSlot(1, custom, 0)
		}
		b.PrependInt32Slot(2, 1, 1)
		b.PrependInt32Slot(3, k.code, 0)
		codeOffs[i] = b.EndObject()
	}
	ops := make([]flatbuffers.UOffsetT, len(m.ops))
	for i, op := range m.ops {
		var opts flatbuffers.UOffsetT
		if op.optType != 0 {
			vecs := map[int]flatbuffers.UOffsetT{}
			for _, f := range op.opts {
				if v, ok := f.val.([]int32); ok {
					vecs[f.id] = int32Vec(b, v)
				}
			}
			b.StartObject(16)
			for _, f := range op.opts {
				switch v := f.val.(type) {
				case int32:
					b.PrependInt32(v)
				case uint8:
					b.PrependUint8(v)
				case bool:
					b.PrependBool(v)
				case float32:
					b.PrependFloat32(v)
				case []int32:
					b.PrependUOffsetT(vecs[f.id])
				}
				b.Slot(f.id)
			}
			opts = b.EndObject()
		}
		in, out := int32Vec(b, op.in), int32Vec(b, op.out)
		b.StartObject(13)
		b.PrependUint32Slot(0, opcodeIndex[i], 0)
		b.PrependUOffsetTSlot(1, in, 0)
		b.PrependUOffsetTSlot(2, out, 0)
		if op.optType != 0 {
			b.PrependUint8Slot(3, op.optType, 0)
			b.PrependUOffsetTSlot(4, opts, 0)
		}
		ops[i] = b.EndObject()
	}
	tv, iv, ov, opv := offsetVec(b, tensors), int32Vec(b, m.inputs), int32Vec(b, m.outputs), offsetVec(b, ops)
	sgName := b.CreateString(m.name)
	b.StartObject(5)
	b.PrependUOffsetTSlot(0, tv, 0)
	b.PrependUOffsetTSlot(1, iv, 0)
	b.PrependUOffsetTSlot(2, ov, 0)
	b.PrependUOffsetTSlot(3, opv, 0)
	b.PrependUOffsetTSlot(4, sgName, 0)
	sg := b.EndObject()
	sgs := offsetVec(b, []flatbuffers.UOffsetT{sg})
	cv := offsetVec(b, codeOffs)
	bv := offsetVec(b, bufs)
	var mv flatbuffers.UOffsetT
	if len(metas) > 0 {
		mv = offsetVec(b, metas)
	}
	desc := b.CreateString("edgeinfer test model")
	b.StartObject(8)
	b.PrependUint32Slot(0, 3, 0)
	b.PrependUOffsetTSlot(1, cv, 0)
	b.PrependUOffsetTSlot(2, sgs, 0)
	b.PrependUOffsetTSlot(3, desc, 0)
	b.PrependUOffsetTSlot(4, bv, 0)
	if mv != 0 {
		b.PrependUOffsetTSlot(6, mv, 0)
	}
	b.FinishWithFileIdentifier(b.EndObject(), []byte("TFL3"))
	return b.FinishedBytes()
}

// Options helpers (field ids from schema.fbs).
func convOpts(padding uint8, stride, act uint8) []tmField {
	return []tmField{{0, padding}, {1, int32(stride)}, {2, int32(stride)}, {3, act}}
}

func dwOpts(padding uint8, stride int32, mult int32, act uint8) []tmField {
	return []tmField{{0, padding}, {1, stride}, {2, stride}, {3, mult}, {4, act}}
}

func poolOpts(padding uint8, stride, filter int32, act uint8) []tmField {
	return []tmField{{0, padding}, {1, stride}, {2, stride}, {3, filter}, {4, filter}, {5, act}}
}
