package tflite

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
)

// smallModel is a quantised CNN of every common layer kind: CONV_2D
// (per-channel) → DEPTHWISE_CONV_2D → ADD → AVERAGE_POOL_2D → RESHAPE →
// FULLY_CONNECTED → SOFTMAX, with a metadata entry.
func smallModel() *tmModel {
	q := func(name string, shape []int32, scale float32, zp int64) tmTensor {
		return tmTensor{name: name, shape: shape, typ: tInt8, scale: []float32{scale}, zp: []int64{zp}}
	}
	w := func(name string, shape []int32, n int, qdim int32) tmTensor {
		data := make([]int8, 1)
		for _, d := range shape {
			data = make([]int8, len(data)*int(d))
		}
		for i := range data {
			data[i] = int8(i*7%255 - 127)
		}
		scale := make([]float32, n)
		zp := make([]int64, n)
		for i := range scale {
			scale[i] = 0.01 * float32(i+1)
		}
		return tmTensor{name: name, shape: shape, typ: tInt8, data: i8bytes(data...), scale: scale, zp: zp, qdim: qdim}
	}
	bias := func(name string, n int) tmTensor {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(i*100 - 50)
		}
		return tmTensor{name: name, shape: []int32{int32(n)}, typ: tInt32, data: i32bytes(v...)}
	}
	return &tmModel{
		name: "small",
		tensors: []tmTensor{
			q("input", []int32{1, 8, 8, 3}, 0.5, -1),   // 0
			w("conv/w", []int32{4, 3, 3, 3}, 4, 0),     // 1
			bias("conv/b", 4),                          // 2
			q("conv", []int32{1, 4, 4, 4}, 0.25, -128), // 3
			w("dw/w", []int32{1, 3, 3, 4}, 4, 3),       // 4
			bias("dw/b", 4),                            // 5
			q("dw", []int32{1, 4, 4, 4}, 0.25, -128),   // 6
			q("add", []int32{1, 4, 4, 4}, 0.5, -128),   // 7
			q("pool", []int32{1, 1, 1, 4}, 0.5, -128),  // 8
			q("flat", []int32{1, 4}, 0.5, -128),        // 9
			w("fc/w", []int32{2, 4}, 1, 0),             // 10
			bias("fc/b", 2),                            // 11
			q("logits", []int32{1, 2}, 0.1, 3),         // 12
			q("probs", []int32{1, 2}, 1.0/256, -128),   // 13
		},
		inputs:  []int32{0},
		outputs: []int32{13},
		ops: []tmOp{
			{code: bConv, in: []int32{0, 1, 2}, out: []int32{3}, optType: 1, opts: convOpts(0, 2, 3)},
			{code: bDepthwise, in: []int32{3, 4, 5}, out: []int32{6}, optType: 2, opts: dwOpts(0, 1, 1, 3)},
			{code: bAdd, in: []int32{3, 6}, out: []int32{7}, optType: 11, opts: []tmField{{0, uint8(0)}}},
			{code: bAveragePool, in: []int32{7}, out: []int32{8}, optType: 5, opts: poolOpts(1, 4, 4, 0)},
			{code: bReshape, in: []int32{8}, out: []int32{9}, optType: 17, opts: []tmField{{0, []int32{1, 4}}}},
			{code: bFullyConnected, in: []int32{9, 10, 11}, out: []int32{12}, optType: 8},
			{code: bSoftmax, in: []int32{12}, out: []int32{13}, optType: 9, opts: []tmField{{0, float32(1)}}},
		},
		metadata: map[string][]byte{"min_runtime_version": []byte("1.14.0\x00\x00")},
	}
}

func TestSmallModel(t *testing.T) {
	g := parseModel(t, smallModel())
	assert.Equal(t, map[string]int{"Conv": 2, "Add": 1, "AveragePool": 1, "Reshape": 1, "Gemm": 1,
		"Softmax": 1, "Transpose": 2}, opHistogram(g))
	checkConvs(t, g, true)
}

// checkParse parses data and, when it succeeds, checks the tensors.
func checkParse(t *testing.T, data []byte) error {
	t.Helper()
	g, err := Parse(data)
	if err != nil {
		return err
	}
	for name, tensor := range g.Initializers {
		if verr := tensor.Validate(); verr != nil {
			t.Fatalf("initializer %q is invalid: %v", name, verr)
		}
	}
	return nil
}

func TestTruncated(t *testing.T) {
	data := smallModel().bytes()
	require.NoError(t, checkParse(t, data))
	for n := 0; n < len(data); n++ {
		assert.Error(t, checkParse(t, data[:n:n]), "prefix of %d of %d bytes", n, len(data))
	}
}

func TestTruncatedShared(t *testing.T) {
	path := filepath.Join(shared.Path(t, "models/tflite"), "person_detect.tflite")
	real, err := os.ReadFile(path)
	require.NoError(t, err)
	// The metadata, tables and vectors of a converted model sit in its
	// first and last few kilobytes; the weights in between.
	var lengths []int
	for n := 0; n < 8192; n++ {
		lengths = append(lengths, n, len(real)-1-n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		lengths = append(lengths, rng.IntN(len(real)))
	}
	for _, n := range lengths {
		assert.Error(t, checkParse(t, real[:n:n]), "prefix of %d of %d bytes", n, len(real))
	}
}

func TestCorrupted(t *testing.T) {
	seed := uint64(20261127)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	small := smallModel().bytes()
	inputs := [][]byte{small}
	if dir, ok := shared.Dir(); ok {
		if real, err := os.ReadFile(filepath.Join(dir, "models/tflite/person_detect.tflite")); err == nil {
			inputs = append(inputs, real)
		}
	}
	var ms runtime.MemStats
	for i, orig := range inputs {
		iters := 3000
		if i > 0 {
			iters = 300
		}
		buf := make([]byte, len(orig))
		failed := 0
		for it := range iters {
			copy(buf, orig)
			// Flip bytes in the tables: the first and last 4 KiB hold
			// the FlatBuffer's structure in converted models.
			for range 1 + rng.IntN(8) {
				pos := rng.IntN(len(buf))
				if len(buf) > 16384 && rng.IntN(4) > 0 {
					pos = rng.IntN(4096)
					if rng.IntN(2) == 0 {
						pos = len(buf) - 1 - pos
					}
				}
				buf[pos] ^= byte(1 + rng.IntN(255))
			}
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			if checkParse(t, buf) != nil {
				failed++
			}
			runtime.ReadMemStats(&ms)
			// No allocation may exceed what the file could justify: the
			// weights copied once or twice plus bookkeeping.
			if grew := ms.TotalAlloc - before; grew > uint64(8*len(buf)+1<<20) {
				t.Fatalf("input %d iteration %d (seed %d): parse allocated %d bytes for a %d-byte file", i, it, seed, grew, len(buf))
			}
		}
		t.Logf("input %d: %d of %d corrupted copies rejected", i, failed, iters)
		assert.Positive(t, failed)
	}
}

// TestSharedObjects checks the bounds on files whose offsets point many
// times at one object, which could otherwise make a small file decode or
// copy into a huge graph.
func TestSharedObjects(t *testing.T) {
	t.Run("tensors", func(t *testing.T) {
		// 3000 tensor entries all pointing at one tensor of 3000 dims.
		b := flatbuffers.NewBuilder(0)
		shape := int32Vec(b, make([]int32, 3000))
		b.StartObject(10)
		b.PrependUOffsetTSlot(0, shape, 0)
		tensor := b.EndObject()
		tensors := offsetVec(b, slices.Repeat([]flatbuffers.UOffsetT{tensor}, 3000))
		b.StartObject(5)
		b.PrependUOffsetTSlot(0, tensors, 0)
		sg := b.EndObject()
		sgs := offsetVec(b, []flatbuffers.UOffsetT{sg})
		b.StartObject(8)
		b.PrependUOffsetTSlot(2, sgs, 0)
		b.FinishWithFileIdentifier(b.EndObject(), []byte("TFL3"))
		_, err := Parse(b.FinishedBytes())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "revisit more data than it holds")
	})
	t.Run("buffers", func(t *testing.T) {
		// 300 convolutions whose filters, which need transposing, all
		// use one 64 KiB buffer.
		m := &tmModel{tensors: []tmTensor{named("x", f32(1, 16, 16, 4))}, inputs: []int32{0}}
		for i := range 300 {
			w := named(fmt.Sprintf("w%d", i), f32(16, 16, 16, 4))
			if i == 0 {
				w.data = seqF32(16 * 16 * 16 * 4)
			} else {
				w.share, w.data = 2, []byte{}
			}
			y := named(fmt.Sprintf("y%d", i), f32(1, 1, 1, 16))
			m.tensors = append(m.tensors, w, y)
			n := int32(len(m.tensors))
			m.ops = append(m.ops, tmOp{code: bConv, in: []int32{0, n - 2}, out: []int32{n - 1}, optType: 1, opts: convOpts(1, 1, 0)})
			m.outputs = append(m.outputs, n-1)
		}
		data := m.bytes()
		_, err := Parse(data)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "exceed four times the file size")
		// The first few share the buffer legitimately.
		m.ops, m.outputs = m.ops[:3], m.outputs[:3]
		g := parseModel(t, m)
		assert.Len(t, nodesOf(g, "Conv"), 3)
	})
}

func FuzzParse(f *testing.F) {
	f.Add(smallModel().bytes())
	m := oneOp(tmOp{code: bTranspose, in: []int32{0, 1}, out: []int32{2}},
		named("x", f32(1, 2, 3, 4)), named("perm", withData(tmTensor{shape: []int32{4}, typ: tInt32}, i32bytes(0, 3, 1, 2))),
		named("y", f32(1, 4, 2, 3)))
	f.Add(m.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = checkParse(t, data)
	})
}
