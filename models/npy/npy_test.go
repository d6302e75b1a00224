package npy

import (
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// sharedDir locates the shared test data: $EDGEINFER_SHARED, or the
// checkout's sibling "shared" directory.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("EDGEINFER_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s (set EDGEINFER_SHARED): %v", dir, err)
	}
	return dir
}

func TestReadLeNet5(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures", "lenet5")
	in, err := Read(filepath.Join(dir, "input_0.npy"))
	require.NoError(t, err)
	assert.Equal(t, ir.Float32, in.DType)
	assert.Equal(t, []int{1, 1, 32, 32}, in.Shape)
	require.NoError(t, in.Validate())

	out, err := Read(filepath.Join(dir, "output_0.npy"))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 10}, out.Shape)
	// meta.json top5_output_0 starts with index 0 = 0.12988927960395813.
	assert.Equal(t, float32(0.12988927960395813), out.F32[0])
}

// TestReadFixtures checks every fixture array against the shapes and output
// statistics that the generator recorded from PyTorch in meta.json.
func TestReadFixtures(t *testing.T) {
	metas, err := filepath.Glob(filepath.Join(sharedDir(t), "fixtures", "*", "meta.json"))
	require.NoError(t, err)
	require.NotEmpty(t, metas)
	for _, metaPath := range metas {
		dir := filepath.Dir(metaPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(metaPath)
			require.NoError(t, err)
			var meta map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(raw, &meta))
			var inShape, outShape []int
			require.NoError(t, json.Unmarshal(meta["input_shape"], &inShape))
			require.NoError(t, json.Unmarshal(meta["output_shape"], &outShape))
			for _, i := range []string{"0", "1"} {
				in, err := Read(filepath.Join(dir, "input_"+i+".npy"))
				require.NoError(t, err)
				assert.Equal(t, inShape, in.Shape)
				assert.Equal(t, ir.Float32, in.DType)

				out, err := Read(filepath.Join(dir, "output_"+i+".npy"))
				require.NoError(t, err)
				assert.Equal(t, outShape, out.Shape)

				var top5 []struct {
					Index int     `json:"index"`
					Value float64 `json:"value"`
				}
				require.NoError(t, json.Unmarshal(meta["top5_output_"+i], &top5))
				order := make([]int, len(out.F32))
				for k := range order {
					order[k] = k
				}
				sort.SliceStable(order, func(a, b int) bool { return out.F32[order[a]] > out.F32[order[b]] })
				for k, e := range top5 {
					assert.Equal(t, float32(e.Value), out.F32[e.Index], "top5[%d]", k)
					assert.Equal(t, e.Index, order[k], "rank %d", k)
				}
				var maxAbs float64
				require.NoError(t, json.Unmarshal(meta["output_max_abs_"+i], &maxAbs))
				var got float32
				for _, v := range out.F32 {
					got = max(got, float32(math.Abs(float64(v))))
				}
				assert.Equal(t, float32(maxAbs), got)
			}
		})
	}
}

// TestReadFashionMNIST checks uint8 and int64 arrays against the class
// counts in images/fashion_mnist/README.md and against the PNG export of
// test image 0 (label 9).
func TestReadFashionMNIST(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "images", "fashion_mnist")
	for _, tc := range []struct {
		name   string
		n      int
		counts []int
	}{
		{"test_2000", 2000, []int{200, 203, 214, 190, 219, 195, 197, 200, 194, 188}},
		{"calib_500", 500, []int{52, 54, 47, 49, 53, 51, 53, 49, 50, 42}},
	} {
		labels, err := Read(filepath.Join(dir, tc.name+"_labels.npy"))
		require.NoError(t, err)
		assert.Equal(t, ir.Int64, labels.DType)
		assert.Equal(t, []int{tc.n}, labels.Shape)
		counts := make([]int, 10)
		for _, l := range labels.I64 {
			require.True(t, l >= 0 && l < 10, "label %d", l)
			counts[l]++
		}
		assert.Equal(t, tc.counts, counts, tc.name)

		images, err := Read(filepath.Join(dir, tc.name+"_images.npy"))
		require.NoError(t, err)
		assert.Equal(t, ir.Uint8, images.DType)
		assert.Equal(t, []int{tc.n, 28, 28}, images.Shape)
		if tc.name == "test_2000" {
			assert.Equal(t, int64(9), labels.I64[0])
			f, err := os.Open(filepath.Join(dir, "png", "0_9.png"))
			require.NoError(t, err)
			defer f.Close()
			img, err := png.Decode(f)
			require.NoError(t, err)
			require.Equal(t, image.Rect(0, 0, 28, 28), img.Bounds())
			for y := range 28 {
				for x := range 28 {
					g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
					require.Equal(t, g, images.U8[y*28+x], "pixel (%d,%d)", x, y)
				}
			}
		}
	}
}

// TestEncodeMatchesNumPy re-encodes NumPy-written files: the bytes must be
// identical, header padding included.
func TestEncodeMatchesNumPy(t *testing.T) {
	shared := sharedDir(t)
	for _, name := range []string{
		"fixtures/lenet5/input_0.npy",
		"fixtures/lenet5/output_1.npy",
		"images/fashion_mnist/calib_500_labels.npy",
		"images/fashion_mnist/calib_500_images.npy",
	} {
		data, err := os.ReadFile(filepath.Join(shared, name))
		require.NoError(t, err)
		tensor, err := Decode(data)
		require.NoError(t, err, name)
		assert.Equal(t, data, Encode(tensor), name)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []*ir.Tensor{
		{DType: ir.Float32, Shape: []int{2, 3}, F32: []float32{0, -1, 1.5, float32(math.Inf(1)), math.SmallestNonzeroFloat32, math.MaxFloat32}},
		{DType: ir.Float32, Shape: []int{}, F32: []float32{42}},
		{DType: ir.Float32, Shape: []int{0, 5}, F32: []float32{}},
		{DType: ir.Int8, Shape: []int{4}, I8: []int8{-128, -1, 0, 127}},
		{DType: ir.Uint8, Shape: []int{1, 2}, U8: []uint8{0, 255}},
		{DType: ir.Bool, Shape: []int{3}, U8: []uint8{1, 0, 1}},
		{DType: ir.Int32, Shape: []int{2}, I32: []int32{math.MinInt32, math.MaxInt32}},
		{DType: ir.Int64, Shape: []int{1, 1, 2}, I64: []int64{math.MinInt64, math.MaxInt64}},
		{DType: ir.Float32, Shape: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, F32: []float32{7}},
	}
	dir := t.TempDir()
	for _, want := range tests {
		data := Encode(want)
		hlen := int(binary.LittleEndian.Uint16(data[8:]))
		assert.Zero(t, (10+hlen)%64, "data aligned to 64 bytes")
		assert.Equal(t, byte('\n'), data[10+hlen-1])
		got, err := Decode(data)
		require.NoError(t, err)
		assert.Equal(t, want, got)

		path := filepath.Join(dir, "t.npy")
		require.NoError(t, Write(path, want))
		got, err = Read(path)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
	st, err := os.Stat(filepath.Join(dir, "t.npy"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestEncodeLargeHeaderUsesVersion2(t *testing.T) {
	shape := make([]int, 30000) // a header beyond 64 KiB
	for i := range shape {
		shape[i] = 1
	}
	want := &ir.Tensor{DType: ir.Uint8, Shape: shape, U8: []uint8{3}}
	data := Encode(want)
	assert.Equal(t, byte(2), data[6])
	hlen := int(binary.LittleEndian.Uint32(data[8:]))
	assert.Zero(t, (12+hlen)%64)
	// The reader caps headers at 64 KiB, as NumPy caps them by default.
	_, err := Decode(data)
	assert.ErrorContains(t, err, "too long")
}

// npyFile builds a .npy file with an arbitrary header and payload.
func npyFile(version byte, header string, payload []byte) []byte {
	out := append([]byte(magic), version, 0)
	if version == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(header)))
	}
	return append(append(out, header...), payload...)
}

func TestDecodeFormats(t *testing.T) {
	be32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, v)
		}
		return b
	}
	le64 := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want *ir.Tensor
	}{
		{"version 2", npyFile(2, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }\n", []byte{1, 2}),
			&ir.Tensor{DType: ir.Uint8, Shape: []int{2}, U8: []uint8{1, 2}}},
		{"version 3", npyFile(3, "{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }\n", []byte{0xff}),
			&ir.Tensor{DType: ir.Int8, Shape: []int{1}, I8: []int8{-1}}},
		{"float64 to float32", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le64(math.Float64bits(0.1), math.Float64bits(-2))),
			&ir.Tensor{DType: ir.Float32, Shape: []int{2}, F32: []float32{0.1, -2}}},
		{"big-endian float32", npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", be32(math.Float32bits(1.5))),
			&ir.Tensor{DType: ir.Float32, Shape: []int{1}, F32: []float32{1.5}}},
		{"big-endian int32", npyFile(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", be32(0xfffffffe)),
			&ir.Tensor{DType: ir.Int32, Shape: []int{1}, I32: []int32{-2}}},
		{"bool normalised", npyFile(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", []byte{0, 7, 1}),
			&ir.Tensor{DType: ir.Bool, Shape: []int{3}, U8: []uint8{0, 1, 1}}},
		{"python 2 header", npyFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1L, 1L), }", le64(5)),
			&ir.Tensor{DType: ir.Int64, Shape: []int{1, 1}, I64: []int64{5}}},
		{"key order, quotes, list shape", npyFile(1, `{"shape": [1], "fortran_order": False, "descr": "|u1"}`, []byte{9}),
			&ir.Tensor{DType: ir.Uint8, Shape: []int{1}, U8: []uint8{9}}},
		{"scalar", npyFile(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }", []byte{3, 0, 0, 0}),
			&ir.Tensor{DType: ir.Int32, Shape: []int{}, I32: []int32{3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.data)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	hdr := func(descr, fortran, shape string) string {
		return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n"
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"not npy", []byte("PK\x03\x04 this is a zip file"), "bad magic"},
		{"short", []byte(magic + "\x01\x00\x10"), "bad magic"},
		{"v2 short", []byte(magic + "\x02\x00\x10\x00"), "truncated header"},
		{"version 4", npyFile(4, "", nil), "unsupported format version 4.0"},
		{"header beyond file", npyFile(1, "{}", nil)[:11], "beyond the end"},
		{"v2 huge header", append([]byte(magic+"\x02\x00"), 0xff, 0xff, 0xff, 0xff), "too long"},
		{"unsupported dtype", npyFile(1, hdr("'<c8'", "False", "(1,)"), make([]byte, 8)), `unsupported dtype "<c8"`},
		{"structured dtype", npyFile(1, hdr("[('a', '<f4')]", "False", "(1,)"), make([]byte, 4)), "'descr' missing or not a simple dtype"},
		{"fortran order", npyFile(1, hdr("'<f4'", "True", "(2, 2)"), make([]byte, 16)), "fortran_order arrays are not supported"},
		{"no shape", npyFile(1, "{'descr': '<f4', 'fortran_order': False}", nil), "'shape' missing"},
		{"no fortran_order", npyFile(1, "{'descr': '<f4', 'shape': ()}", make([]byte, 4)), "'fortran_order' missing"},
		{"shape not ints", npyFile(1, hdr("'<f4'", "False", "(1, 'a')"), nil), "shape element 1 is not an integer"},
		{"negative dim", npyFile(1, hdr("'<f4'", "False", "(-1,)"), nil), "negative dimension"},
		{"overflow", npyFile(1, hdr("'<f4'", "False", "(65536, 65536, 65536, 65536)"), nil), "too many elements"},
		{"huge shape small data", npyFile(1, hdr("'<f4'", "False", "(100000000,)"), make([]byte, 4)), "data has 4 bytes, want 400000000"},
		{"truncated data", npyFile(1, hdr("'<f4'", "False", "(3,)"), make([]byte, 11)), "data has 11 bytes, want 12"},
		{"trailing data", npyFile(1, hdr("'|u1'", "False", "(3,)"), make([]byte, 4)), "data has 4 bytes, want 3"},
		{"big integer", npyFile(1, hdr("'<f4'", "False", "(99999999999999999999,)"), nil), "bad integer"},
		{"not a dict", npyFile(1, "('<f4', False, (1,))", nil), "not a dict"},
		{"unterminated string", npyFile(1, "{'descr: '<f4'", nil), "expected ':'"},
		{"unterminated string 2", npyFile(1, "{'descr", nil), "unterminated string"},
		{"unterminated dict", npyFile(1, "{'descr': '<f4', ", nil), "unexpected end"},
		{"garbage after dict", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", nil), `unexpected "x"`},
		{"missing comma", npyFile(1, "{'descr': '<f4' 'shape': ()}", nil), "expected ','"},
		{"escape", npyFile(1, `{'descr': '<f\'4'}`, nil), "escapes"},
		{"deep nesting", npyFile(1, "{'shape': "+strings.Repeat("(", 1000), nil), "nested too deeply"},
		{"non-string key", npyFile(1, "{1: 2}", nil), "dict key is not a string"},
		{"bare word", npyFile(1, "{'descr': float32}", nil), `unexpected "float32}"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.data)
			require.Error(t, err)
			assert.Nil(t, got)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "npy: "), err.Error())
		})
	}
}

func TestReadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.npy")
	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o644))
	_, err := Read(path)
	assert.EqualError(t, err, "npy "+path+": not a .npy file (bad magic)")
	_, err = Read(filepath.Join(t.TempDir(), "missing.npy"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteRejectsInvalidTensors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	for _, bad := range []*ir.Tensor{
		nil,
		{DType: ir.Float32, Shape: []int{2}, F32: []float32{1}},
		{DType: ir.Undefined, Shape: []int{}},
		{DType: ir.Int8, Shape: []int{-1}},
	} {
		err := Write(path, bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "npy "+path+": ")
		assert.Panics(t, func() { Encode(bad) })
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)

	err = Write(filepath.Join(dir, "no", "such", "dir.npy"), &ir.Tensor{DType: ir.Uint8, Shape: []int{}, U8: []uint8{1}})
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteReplacesAtomically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	want := &ir.Tensor{DType: ir.Int32, Shape: []int{1}, I32: []int32{1}}
	require.NoError(t, Write(path, want))
	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(&ir.Tensor{DType: ir.Float32, Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}}))
	f.Add(Encode(&ir.Tensor{DType: ir.Int64, Shape: []int{}, I64: []int64{-1}}))
	f.Add(npyFile(3, "{'descr': '>f8', 'fortran_order': False, 'shape': (1L,), }", make([]byte, 8)))
	dir := os.Getenv("EDGEINFER_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	if data, err := os.ReadFile(filepath.Join(dir, "fixtures", "lenet5", "output_0.npy")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data)
		if err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("decoded tensor is invalid: %v", err)
		}
		// Whatever decodes must survive a round trip unchanged.
		again, err := Decode(Encode(got))
		if err != nil {
			t.Fatalf("re-decoding the encoded tensor: %v", err)
		}
		if !equalTensors(got, again) {
			t.Fatalf("round trip changed the tensor: %+v → %+v", got, again)
		}
	})
}

// equalTensors compares tensors bit for bit (NaN payloads included).
func equalTensors(a, b *ir.Tensor) bool {
	if a.DType != b.DType || len(a.Shape) != len(b.Shape) || a.Len() != b.Len() {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	for i := range a.F32 {
		if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
			return false
		}
	}
	return assert.ObjectsAreEqual(a.I8, b.I8) && assert.ObjectsAreEqual(a.U8, b.U8) &&
		assert.ObjectsAreEqual(a.I32, b.I32) && assert.ObjectsAreEqual(a.I64, b.I64)
}
