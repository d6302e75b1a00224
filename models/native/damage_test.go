package native

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var le = binary.LittleEndian

// patchHeader returns a copy of data with fn applied to the header and the
// header CRC recomputed.
func patchHeader(data []byte, fn func(h []byte)) []byte {
	out := append([]byte(nil), data...)
	fn(out[:headerSize])
	le.PutUint32(out[60:], crc(out[:60]))
	return out
}

// reseal recomputes every section CRC, the table CRC and the header CRC
// of an edited file, so that decoding gets past the checksums to the
// content.
func reseal(data []byte) []byte {
	out := append([]byte(nil), data...)
	n := int(le.Uint32(out[16:]))
	off := int(le.Uint64(out[24:]))
	table := out[off : off+n*entrySize]
	for i := 0; i < n; i++ {
		e := table[i*entrySize:]
		so, sl := le.Uint64(e[8:]), le.Uint64(e[16:])
		if so <= uint64(len(out)) && sl <= uint64(len(out))-so {
			le.PutUint32(e[24:], crc(out[so:so+sl]))
		}
	}
	return patchHeader(out, func(h []byte) { le.PutUint32(h[20:], crc(table)) })
}

// layoutOf returns the table entries of a valid file in file order.
func layoutOf(t testing.TB, data []byte) (tableEnd uint64, entries []entry) {
	t.Helper()
	h, entries, err := parseHeader(data)
	require.NoError(t, err)
	sort.Slice(entries, func(a, b int) bool { return entries[a].off < entries[b].off })
	return h.tableOff + uint64(h.sections)*entrySize, entries
}

func encodeAll(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, m := range testModels() {
		data, err := Encode(m)
		require.NoError(t, err)
		out[name] = data
	}
	return out
}

// TestTruncated cuts every model at every length: each must fail as
// truncated, and once the cut is past the table the error names the
// section that the cut reaches.
func TestTruncated(t *testing.T) {
	for name, data := range encodeAll(t) {
		t.Run(name, func(t *testing.T) {
			tableEnd, entries := layoutOf(t, data)
			for n := 0; n < len(data); n++ {
				_, err := Decode(data[:n])
				require.ErrorIs(t, err, ErrTruncated, "length %d", n)
				if uint64(n) < tableEnd {
					continue
				}
				// The first section (in file order) that does not fit.
				want := ""
				for _, e := range entries {
					if e.off+e.length > uint64(n) {
						want = e.name
						break
					}
				}
				requireSectionError(t, err, want)
				require.ErrorContains(t, err, "past the end", "length %d", n)
			}
		})
	}
}

// TestLoadTruncatedFile checks Load's messages, which name the file.
func TestLoadTruncatedFile(t *testing.T) {
	data := encodeAll(t)["quant"]
	_, entries := layoutOf(t, data)
	dir := t.TempDir()
	for _, n := range []int{0, 3, 40, 100, int(entries[1].off) + 1, len(data) - 1} {
		path := filepath.Join(dir, fmt.Sprintf("cut%d.eim", n))
		require.NoError(t, os.WriteFile(path, data[:n], 0o644))
		_, c, err := Load(path)
		require.ErrorIs(t, err, ErrTruncated, "length %d", n)
		require.Nil(t, c)
		require.True(t, strings.HasPrefix(err.Error(), path+": "), "%q does not name the file", err)
		t.Log(err)
	}
	_, _, err := Load(filepath.Join(dir, "missing.eim"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, _, err = Load(dir)
	require.ErrorContains(t, err, "not a regular file")
}

// TestFlippedByteInEachSection flips one byte at the start, middle and end
// of every section: the error names the section and says checksum.
func TestFlippedByteInEachSection(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for name, data := range encodeAll(t) {
		_, entries := layoutOf(t, data)
		for _, e := range entries {
			if e.length == 0 {
				continue
			}
			for _, at := range []uint64{e.off, e.off + e.length/2, e.off + e.length - 1} {
				bad := append([]byte(nil), data...)
				bad[at] ^= 0x20
				_, err := Decode(bad)
				requireSectionError(t, err, e.name)
				require.ErrorIs(t, err, ErrChecksum)
				seen[e.name] = true

				path := filepath.Join(dir, "model.eim")
				require.NoError(t, os.WriteFile(path, bad, 0o644))
				_, _, err = Load(path)
				require.ErrorContains(t, err, fmt.Sprintf("%s: section %q: checksum mismatch", path, e.name), "%s byte %d", name, at)
			}
		}
	}
	for _, s := range kindNames {
		assert.True(t, seen[s], "section %q not exercised", s)
	}
}

// TestEveryByteFlipDetected flips each byte of a file in turn: no change
// goes unnoticed, and the error says where it is.
func TestEveryByteFlipDetected(t *testing.T) {
	data := encodeAll(t)["float"]
	tableEnd, entries := layoutOf(t, data)
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x01
		_, err := Decode(bad)
		require.Error(t, err, "flipped byte %d went unnoticed", i)
		switch {
		case i < len(Magic):
			require.ErrorIs(t, err, ErrNotModel, "byte %d", i)
		case i < headerSize:
			require.ErrorIs(t, err, ErrChecksum, "byte %d", i)
			require.ErrorContains(t, err, "header", "byte %d", i)
		case uint64(i) < tableEnd:
			require.ErrorIs(t, err, ErrChecksum, "byte %d", i)
			require.ErrorContains(t, err, "section table", "byte %d", i)
		default:
			in := ""
			for _, e := range entries {
				if uint64(i) >= e.off && uint64(i) < e.off+e.length {
					in = e.name
				}
			}
			if in == "" {
				require.ErrorContains(t, err, "padding", "byte %d", i)
			} else {
				requireSectionError(t, err, in)
				require.ErrorIs(t, err, ErrChecksum, "byte %d", i)
			}
		}
	}
}

// TestResealedDamage flips each byte of the structured sections and fixes
// the checksums, so that the decoders see the damage: they must report it
// as an error in a section, or decode a model that encodes again, and
// never panic.
func TestResealedDamage(t *testing.T) {
	for name, data := range encodeAll(t) {
		_, entries := layoutOf(t, data)
		for _, e := range entries {
			if e.kind == kindBlobs {
				continue
			}
			for i := e.off; i < e.off+e.length; i++ {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					bad := append([]byte(nil), data...)
					bad[i] ^= mask
					m, err := Decode(reseal(bad))
					if err != nil {
						var se *SectionError
						require.True(t, errors.As(err, &se), "%s: %s byte %d: %v", name, e.name, i, err)
						continue
					}
					_, err = Encode(m)
					require.NoError(t, err, "%s: %s byte %d decoded but does not encode", name, e.name, i)
				}
			}
		}
	}
}

// TestCorruptTable edits table entries (with valid checksums): errors name
// the section.
func TestCorruptTable(t *testing.T) {
	data := encodeAll(t)["float"]
	_, entries := layoutOf(t, data)
	entryAt := func(kind uint32) int {
		for i := 0; i < len(entries); i++ {
			if le.Uint32(data[headerSize+i*entrySize:]) == kind {
				return headerSize + i*entrySize
			}
		}
		t.Fatalf("no section of kind %d", kind)
		return 0
	}
	for _, tc := range []struct {
		name    string
		kind    uint32
		edit    func(e []byte)
		section string
		msg     string
	}{
		{"offset past end", kindTensors, func(e []byte) { le.PutUint64(e[8:], 1<<40) }, "tensors", "past the end"},
		{"length past end", kindBlobs, func(e []byte) { le.PutUint64(e[16:], le.Uint64(e[16:])+1) }, "blobs", "past the end"},
		{"huge length", kindGraph, func(e []byte) { le.PutUint64(e[16:], ^uint64(0)) }, "graph", "past the end"},
		{"misaligned", kindMeta, func(e []byte) { le.PutUint64(e[8:], le.Uint64(e[8:])+8) }, "meta", "multiple of 64"},
		{"inside table", kindGraph, func(e []byte) { le.PutUint64(e[8:], 0) }, "graph", "inside the header or the section table"},
		{"overlap", kindTensors, func(e []byte) { le.PutUint64(e[8:], le.Uint64(e[8:])-align) }, "tensors", "overlap"},
		{"renamed", kindLabels, func(e []byte) { copy(e[32:], "label\x00") }, "", "named \"label\""},
		{"unprintable name", kindLabels, func(e []byte) { e[33] = 7 }, "", "printable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := append([]byte(nil), data...)
			tc.edit(bad[entryAt(tc.kind):])
			_, err := Decode(reseal(bad))
			require.Error(t, err)
			t.Log(err)
			if tc.section != "" {
				requireSectionError(t, err, tc.section)
			}
			require.ErrorContains(t, err, tc.msg)
		})
	}
	// A file claiming more sections than it has room for.
	bad := patchHeader(data, func(h []byte) { le.PutUint32(h[16:], 1000) })
	_, err := Decode(bad)
	require.ErrorIs(t, err, ErrTruncated)
	require.ErrorContains(t, err, "section table")
	bad = patchHeader(data, func(h []byte) { le.PutUint32(h[16:], maxSections+1) })
	_, err = Decode(bad)
	require.ErrorContains(t, err, "at most")
	// Trailing bytes are refused (the header says how long the file is).
	_, err = Decode(append(append([]byte(nil), data...), 0))
	require.ErrorContains(t, err, "trailing")
	// An ONNX file is not an .eim file.
	_, err = Decode([]byte("\x08\x07\x12\x07pytorch"))
	require.ErrorIs(t, err, ErrNotModel)
}

// TestCorruptContent builds files whose checksums are right but whose
// content is wrong.
func TestCorruptContent(t *testing.T) {
	m := floatModel()
	for _, tc := range []struct {
		name    string
		sec     rawSection
		section string
		msg     string
	}{
		{"bad preprocess json", rawSection{kind: kindPreprocess, data: []byte(`{"width":`)}, "preprocess", "unexpected end of JSON"},
		{"invalid preprocess", rawSection{kind: kindPreprocess, data: []byte(`{"width":8,"height":8,"channels":3,"layout":"NCHW","scale":0}`)}, "preprocess", "scale"},
		{"huge preprocess", rawSection{kind: kindPreprocess, data: make([]byte, maxPreprocess+1)}, "preprocess", "at most"},
		{"meta count", rawSection{kind: kindMeta, data: []byte{0xff, 0xff, 0x03}}, "meta", "count"},
		{"meta trailing", rawSection{kind: kindMeta, data: []byte{0, 0}}, "meta", "trailing"},
		{"meta duplicate", rawSection{kind: kindMeta, data: []byte{2, 1, 'a', 0, 1, 'a', 0}}, "meta", "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mm := *m
			mm.Preprocess, mm.Meta = nil, nil
			p, err := newPlan(&mm, tc.sec)
			require.NoError(t, err)
			_, err = Decode(planBytes(t, p))
			requireSectionError(t, err, tc.section)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}
