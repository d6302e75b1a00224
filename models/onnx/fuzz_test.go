package onnx

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds the hand-built model and, when the shared data is
// present, a few small conformance files to the corpus.
func fuzzSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		if data, err := os.ReadFile(filepath.Join(sharedPath(), name)); err == nil {
			f.Add(data)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(handModel(f, f.TempDir())))
	fuzzSeeds(f,
		"onnx-conformance/node/test_conv_with_strides_padding/model.onnx",
		"onnx-conformance/node/test_constantofshape_float_ones/model.onnx",
		"onnx-conformance/pytorch-converted/test_Conv2d/model.onnx",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		// No directory: fuzzed external-data locations must not touch
		// the file system.
		checkParse(t, data, "")
	})
}

func FuzzParseTensorProto(f *testing.F) {
	f.Add([]byte(tensorPB("x", dtFloat16, 1, 2).packed(5, 0x3c00, 0xbc00)))
	f.Add([]byte(tensorPB("q", dtInt8, 4).packed(5, -128, -1, 0, 127)))
	fuzzSeeds(f,
		"onnx-conformance/node/test_add_bcast/test_data_set_0/input_1.pb",
		"onnx-conformance/node/test_clip_default_int8_inbounds/test_data_set_0/input_0.pb",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, tensor, err := ParseTensorProto(data)
		if err == nil {
			if verr := tensor.Validate(); verr != nil {
				t.Fatalf("parsed tensor is invalid: %v", verr)
			}
		}
	})
}
