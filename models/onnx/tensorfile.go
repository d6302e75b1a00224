package onnx

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// ReadTensorProtoFile reads a file holding one serialized TensorProto, as
// the ONNX test data sets store their inputs and outputs
// (test_data_set_N/input_K.pb). It returns the tensor's name (possibly
// empty) and its value converted like an initializer; external data is
// resolved relative to the file's directory.
func ReadTensorProtoFile(path string) (name string, t *ir.Tensor, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("onnx: %w", err)
	}
	name, t, err = parseTensorProto(data, filepath.Dir(path))
	if err != nil {
		return "", nil, fmt.Errorf("onnx %s: %w", path, err)
	}
	return name, t, nil
}

// ParseTensorProto decodes one serialized TensorProto. It returns the
// tensor's name (possibly empty) and its value; a tensor with external data
// is an error, as there is no directory to resolve it against.
func ParseTensorProto(data []byte) (name string, t *ir.Tensor, err error) {
	name, t, err = parseTensorProto(data, "")
	if err != nil {
		return "", nil, fmt.Errorf("onnx: %w", err)
	}
	return name, t, nil
}

func parseTensorProto(data []byte, dir string) (string, *ir.Tensor, error) {
	name, t, err := decodeTensor(data, dir)
	if err != nil {
		if name != "" {
			return "", nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		return "", nil, fmt.Errorf("tensor: %w", err)
	}
	return name, t, nil
}
