package native

import (
	"testing"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// FuzzDecode feeds arbitrary bytes to Decode. Seeds are small encoded
// models, also with checksums resealed after a damaging edit so that the
// fuzzer reaches the section decoders. A decoded model must be valid and
// encode again to bytes that decode to the same model.
func FuzzDecode(f *testing.F) {
	for _, m := range testModels() {
		data, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		bad := append([]byte(nil), data...)
		bad[len(bad)/2] ^= 0x55
		f.Add(reseal(bad))
	}
	f.Add([]byte(Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Checksums make random edits fail early; resealing lets the
		// fuzzer explore the content decoders too.
		for _, in := range [][]byte{data, resealSafe(data)} {
			m, err := Decode(in)
			if err != nil {
				continue
			}
			forEachTensor(m.Graph, func(what string, tensor *ir.Tensor) {
				if err := tensor.Validate(); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			})
			again, err := Encode(m)
			if err != nil {
				t.Fatalf("decoded model does not encode: %v", err)
			}
			m2, err := Decode(again)
			if err != nil {
				t.Fatalf("re-encoded model does not decode: %v", err)
			}
			requireModelsEqual(t, m, m2)
		}
	})
}

// resealSafe is reseal for arbitrary input: it leaves what has no
// readable table as it is.
func resealSafe(data []byte) []byte {
	if len(data) < headerSize {
		return data
	}
	n := uint64(le.Uint32(data[16:]))
	off := le.Uint64(data[24:])
	if n > maxSections || off > uint64(len(data)) || n*entrySize > uint64(len(data))-off {
		return data
	}
	return reseal(data)
}
