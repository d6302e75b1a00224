package native

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

func TestRoundTrip(t *testing.T) {
	for name, m := range testModels() {
		t.Run(name, func(t *testing.T) {
			data, err := Encode(m)
			require.NoError(t, err)

			got, err := Decode(data)
			require.NoError(t, err)
			requireModelsEqual(t, m, got)
			assert.Empty(t, got.Graph.Source)

			// Encoding is deterministic (maps are written sorted), and
			// a decoded model encodes to the same bytes.
			again, err := Encode(m)
			require.NoError(t, err)
			require.Equal(t, data, again)
			re, err := Encode(got)
			require.NoError(t, err)
			require.Equal(t, data, re)

			path := filepath.Join(t.TempDir(), "model.eim")
			require.NoError(t, Write(path, m))
			onDisk, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, data, onDisk)
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

			loaded, c, err := Load(path)
			require.NoError(t, err)
			defer func() { require.NoError(t, c.Close()) }()
			requireModelsEqual(t, m, loaded)
			assert.Equal(t, path, loaded.Graph.Source)
		})
	}
}

func TestHeaderFlags(t *testing.T) {
	for name, want := range map[string]uint32{"float": 0, "quant": FlagQuantized, "bare": 0} {
		data, err := Encode(testModels()[name])
		require.NoError(t, err)
		h, _, err := parseHeader(data)
		require.NoError(t, err)
		assert.Equal(t, want, h.flags, name)
		assert.Equal(t, uint32(Version), h.version)
	}
}

// forEachTensor calls fn for every initializer and tensor attribute.
func forEachTensor(g *ir.Graph, fn func(what string, t *ir.Tensor)) {
	for name, t := range g.Initializers {
		fn("initializer "+name, t)
	}
	for _, n := range g.Nodes {
		for an, a := range n.Attrs {
			if a.Kind == ir.AttrTensor {
				fn(n.Describe()+" attribute "+an, a.T)
			}
		}
	}
}

func dataPointer(t *ir.Tensor) (unsafe.Pointer, int) {
	switch t.DType {
	case ir.Float32:
		return unsafe.Pointer(unsafe.SliceData(t.F32)), 4 * len(t.F32)
	case ir.Int32:
		return unsafe.Pointer(unsafe.SliceData(t.I32)), 4 * len(t.I32)
	case ir.Int64:
		return unsafe.Pointer(unsafe.SliceData(t.I64)), 8 * len(t.I64)
	case ir.Int8:
		return unsafe.Pointer(unsafe.SliceData(t.I8)), len(t.I8)
	}
	return unsafe.Pointer(unsafe.SliceData(t.U8)), len(t.U8)
}

// TestLoadAliasesMapping checks that loaded tensor data lies inside the
// mapped file, 64-byte aligned: Load copies no weights.
func TestLoadAliasesMapping(t *testing.T) {
	for _, name := range []string{"float", "quant"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.eim")
			require.NoError(t, Write(path, testModels()[name]))
			m, c, err := Load(path)
			require.NoError(t, err)
			defer c.Close()
			mp, ok := c.(*mapping)
			require.True(t, ok)
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(mp.data)))
			hi := lo + uintptr(len(mp.data))
			checked := 0
			forEachTensor(m.Graph, func(what string, tensor *ir.Tensor) {
				p, n := dataPointer(tensor)
				if n == 0 {
					return
				}
				addr := uintptr(p)
				assert.True(t, addr >= lo && addr+uintptr(n) <= hi, "%s: data at %#x..%#x outside mapping %#x..%#x", what, addr, addr+uintptr(n), lo, hi)
				assert.Zero(t, addr%align, "%s: data at %#x not 64-byte aligned", what, addr)
				checked++
			})
			assert.Greater(t, checked, 5)
		})
	}
}

// TestDecodeUnaligned decodes from a buffer whose blobs are not aligned
// for float32, which makes Decode copy instead of alias.
func TestDecodeUnaligned(t *testing.T) {
	m := quantModel()
	data, err := Encode(m)
	require.NoError(t, err)
	buf := make([]byte, len(data)+1)
	shifted := buf[1:]
	copy(shifted, data)
	got, err := Decode(shifted)
	require.NoError(t, err)
	requireModelsEqual(t, m, got)
}

func TestCloseTwiceAndNamesSurvive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.eim")
	require.NoError(t, Write(path, floatModel()))
	m, c, err := Load(path)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	// Strings are copies, not views of the released mapping.
	assert.Equal(t, "float_net", m.Graph.Name)
	assert.Equal(t, "goldfish", m.Labels[2])
	assert.Equal(t, "quantize test", m.Meta["producer"])
}

func TestWriteRejectsInvalidModels(t *testing.T) {
	cases := map[string]func(m *Model){
		"nil graph": func(m *Model) { m.Graph = nil },
		"short data": func(m *Model) {
			m.Graph.Initializers["bad"] = &ir.Tensor{DType: ir.Float32, Shape: []int{2, 2}, F32: []float32{1}}
		},
		"undefined dtype": func(m *Model) {
			m.Graph.Initializers["bad"] = &ir.Tensor{Shape: []int{}}
		},
		"nil initializer": func(m *Model) { m.Graph.Initializers["bad"] = nil },
		"nil node":        func(m *Model) { m.Graph.Nodes = append(m.Graph.Nodes, nil) },
		"nil attribute":   func(m *Model) { m.Graph.Nodes[0].Attrs["x"] = nil },
		"unknown attr":    func(m *Model) { m.Graph.Nodes[0].Attrs["x"] = &ir.Attr{Kind: 99} },
		"nil attr tensor": func(m *Model) { m.Graph.Nodes[0].Attrs["x"] = &ir.Attr{Kind: ir.AttrTensor} },
		"nil input":       func(m *Model) { m.Graph.Inputs = append(m.Graph.Inputs, nil) },
		"bad quant": func(m *Model) {
			m.Graph.Initializers["scalar_i32"].Quant = &ir.Quant{Scale: []float32{1}, ZeroPoint: []int32{0, 0}}
		},
		"newline in label": func(m *Model) { m.Labels[1] = "two\nlines" },
		"bad preprocess":   func(m *Model) { m.Preprocess.Channels = 2 },
		"preprocess layout": func(m *Model) {
			m.Preprocess.Layout = "CHW"
		},
		"negative opset":   func(m *Model) { m.Graph.Opset = -1 },
		"preprocess input": func(m *Model) { m.Preprocess.Input = "nope" },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			m := floatModel()
			spoil(m)
			_, err := Encode(m)
			require.Error(t, err)
			t.Log(err)

			dir := t.TempDir()
			path := filepath.Join(dir, "m.eim")
			require.Error(t, Write(path, m))
			ents, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, ents, "Write left files behind")
		})
	}
}

func TestPreprocessValidate(t *testing.T) {
	ok := Preprocess{Width: 224, Height: 224, Channels: 3, Layout: LayoutNHWC, Mean: [3]float32{}, Std: [3]float32{1, 1, 1}, Scale: 1}
	require.NoError(t, ok.Validate())
	gray := Preprocess{Width: 28, Height: 28, Channels: 1, Layout: LayoutNCHW, Std: [3]float32{0.3}, Scale: 255}
	require.NoError(t, gray.Validate())
	for name, spoil := range map[string]func(p *Preprocess){
		"zero width":     func(p *Preprocess) { p.Width = 0 },
		"huge height":    func(p *Preprocess) { p.Height = MaxImageSize + 1 },
		"4 channels":     func(p *Preprocess) { p.Channels = 4 },
		"no layout":      func(p *Preprocess) { p.Layout = "" },
		"zero scale":     func(p *Preprocess) { p.Scale = 0 },
		"zero std":       func(p *Preprocess) { p.Std[2] = 0 },
		"negative crop":  func(p *Preprocess) { p.ResizeShorter = -1 },
		"infinite scale": func(p *Preprocess) { p.Scale = float32(1) / float32(zeroF) },
	} {
		p := ok
		spoil(&p)
		assert.Error(t, p.Validate(), name)
	}
}

var zeroF float32

// TestUnknownSections: a section of an unknown kind is skipped unless it
// is marked required; a known kind may not appear twice.
func TestUnknownSections(t *testing.T) {
	m := floatModel()
	p, err := newPlan(m, rawSection{kind: 1000, name: "future", data: []byte("whatever a newer writer puts here")})
	require.NoError(t, err)
	got, err := Decode(planBytes(t, p))
	require.NoError(t, err)
	requireModelsEqual(t, m, got)

	p, err = newPlan(m, rawSection{kind: 1000, flags: sectionRequired, name: "future", data: []byte{1}})
	require.NoError(t, err)
	_, err = Decode(planBytes(t, p))
	requireSectionError(t, err, "future")
	assert.ErrorContains(t, err, "newer edgeinfer")

	p, err = newPlan(m, rawSection{kind: kindLabels, data: []byte("x\n")})
	require.NoError(t, err)
	_, err = Decode(planBytes(t, p))
	requireSectionError(t, err, "labels")
	assert.ErrorContains(t, err, "twice")
}

func planBytes(t *testing.T, p *plan) []byte {
	t.Helper()
	var b writerBuf
	require.NoError(t, p.writeTo(&b, nil))
	return b
}

type writerBuf []byte

func (w *writerBuf) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }

func requireSectionError(t *testing.T, err error, section string) {
	t.Helper()
	require.Error(t, err)
	var se *SectionError
	require.True(t, errors.As(err, &se), "error %q does not name a section", err)
	require.Equal(t, section, se.Section, "error %q", err)
}

func TestVersionRefused(t *testing.T) {
	data, err := Encode(bareModel())
	require.NoError(t, err)
	for _, tc := range []struct {
		version uint32
		msg     string
	}{{2, "format version 2 is newer than this reader's (1)"}, {0, "version 0 is invalid"}} {
		bad := patchHeader(data, func(b []byte) { le.PutUint32(b[8:], tc.version) })
		_, err := Decode(bad)
		require.ErrorIs(t, err, ErrVersion)
		require.ErrorContains(t, err, tc.msg)
	}
	bad := patchHeader(data, func(b []byte) { le.PutUint32(b[12:], 1<<20) })
	_, err = Decode(bad)
	require.ErrorContains(t, err, "required feature flags")
	// Unknown informational flags are fine.
	ok := patchHeader(data, func(b []byte) { le.PutUint32(b[12:], 1<<7) })
	_, err = Decode(ok)
	require.NoError(t, err)
}

// TestPortableByteOrder runs the big-endian host's code paths (convert on
// write, decode a copy on read) on this host: they must give the same
// bytes and the same model.
func TestPortableByteOrder(t *testing.T) {
	for name, m := range testModels() {
		fast, err := Encode(m)
		require.NoError(t, err)
		littleEndian = false
		slow, err := Encode(m)
		if err == nil {
			var got *Model
			got, err = Decode(slow)
			if err == nil {
				requireModelsEqual(t, m, got)
			}
		}
		littleEndian = true
		require.NoError(t, err, name)
		require.Equal(t, fast, slow, name)
	}
}

// TestSharedDataStoredOnce: a tensor used by two initializers and an
// attribute is stored once, and stays shared through a load and a rewrite.
func TestSharedDataStoredOnce(t *testing.T) {
	big := make([]float32, 4096)
	for i := range big {
		big[i] = float32(i)
	}
	shared := &ir.Tensor{DType: ir.Float32, Shape: []int{64, 64}, F32: big}
	build := func(share bool) *Model {
		g := ir.New("shared")
		g.Initializers["a"] = shared
		if share {
			g.Initializers["b"] = shared
		} else {
			g.Initializers["b"] = &ir.Tensor{DType: ir.Float32, Shape: []int{64, 64}, F32: append([]float32(nil), big...)}
		}
		g.Nodes = []*ir.Node{{Name: "c", Op: "Constant", Outputs: []string{"c"},
			Attrs: map[string]*ir.Attr{"value": {Kind: ir.AttrTensor, T: g.Initializers["b"]}}}}
		return &Model{Graph: g}
	}
	sharedFile, err := Encode(build(true))
	require.NoError(t, err)
	copiedFile, err := Encode(build(false))
	require.NoError(t, err)
	assert.Less(t, len(sharedFile)+len(big)*4-100, len(copiedFile), "shared data stored twice")

	path := filepath.Join(t.TempDir(), "m.eim")
	require.NoError(t, os.WriteFile(path, sharedFile, 0o644))
	m, c, err := Load(path)
	require.NoError(t, err)
	defer c.Close()
	requireModelsEqual(t, build(true), m)
	g := m.Graph
	pa, _ := dataPointer(g.Initializers["a"])
	pb, _ := dataPointer(g.Initializers["b"])
	pc, _ := dataPointer(g.Nodes[0].Attrs["value"].T)
	assert.Equal(t, pa, pb)
	assert.Equal(t, pa, pc)
	again, err := Encode(m)
	require.NoError(t, err)
	assert.Equal(t, sharedFile, again)

	// Decoding copies from an unaligned buffer, once per blob.
	buf := make([]byte, len(sharedFile)+1)
	copy(buf[1:], sharedFile)
	m, err = Decode(buf[1:])
	require.NoError(t, err)
	g = m.Graph
	pa, _ = dataPointer(g.Initializers["a"])
	pb, _ = dataPointer(g.Initializers["b"])
	pc, _ = dataPointer(g.Nodes[0].Attrs["value"].T)
	assert.Equal(t, pa, pb)
	assert.Equal(t, pa, pc)
	lo := uintptr(unsafe.Pointer(&buf[0]))
	assert.False(t, uintptr(pa) >= lo && uintptr(pa) < lo+uintptr(len(buf)), "unaligned float data must be copied")
}
