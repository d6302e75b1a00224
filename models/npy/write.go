package npy

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// descrs is the dtype written for each IR type: little-endian, as NumPy
// writes on the machines that read these files.
var descrs = map[ir.DType]string{
	ir.Float32: "<f4",
	ir.Int8:    "|i1",
	ir.Uint8:   "|u1",
	ir.Bool:    "|b1",
	ir.Int32:   "<i4",
	ir.Int64:   "<i8",
}

// check reports why t cannot be encoded, if it cannot.
func check(t *ir.Tensor) error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	if _, ok := descrs[t.DType]; !ok {
		return fmt.Errorf("cannot encode %s tensor", t.DType)
	}
	return t.Validate()
}

// Encode returns t in .npy format: version 1.0 (2.0 if the header needs
// it), C order, little-endian, header padded so that the data starts at a
// multiple of 64 bytes as NumPy does. Quantisation parameters are not
// stored. t must be valid (t.Validate() == nil) with a DType other than
// Undefined; anything else is a programming error and panics, since
// tensors come from the readers and the runtime, not from files. Write
// checks first and returns an error instead.
func Encode(t *ir.Tensor) []byte {
	if err := check(t); err != nil {
		panic("npy.Encode: " + err.Error())
	}
	var h strings.Builder
	h.WriteString("{'descr': '" + descrs[t.DType] + "', 'fortran_order': False, 'shape': (")
	for i, d := range t.Shape {
		if i > 0 {
			h.WriteString(", ")
		}
		h.WriteString(strconv.Itoa(d))
	}
	if len(t.Shape) == 1 {
		h.WriteString(",") // (n,) — (n) would be an int, not a tuple
	}
	h.WriteString("), }")

	version, prefix := byte(1), 10
	pad := 63 - (prefix+h.Len())%64 // spaces before the final '\n'
	if h.Len()+pad+1 > math.MaxUint16 {
		version, prefix = 2, 12
		pad = 63 - (prefix+h.Len())%64
	}
	hlen := h.Len() + pad + 1

	out := make([]byte, 0, prefix+hlen+t.Len()*t.DType.Size())
	out = append(out, magic...)
	out = append(out, version, 0)
	if version == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(hlen))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
	}
	out = append(out, h.String()...)
	out = append(out, strings.Repeat(" ", pad)...)
	out = append(out, '\n')

	switch t.DType {
	case ir.Float32:
		for _, v := range t.F32 {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	case ir.Int8:
		for _, v := range t.I8 {
			out = append(out, byte(v))
		}
	case ir.Uint8, ir.Bool:
		out = append(out, t.U8...)
	case ir.Int32:
		for _, v := range t.I32 {
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		}
	case ir.Int64:
		for _, v := range t.I64 {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	}
	return out
}

// Write stores t at path atomically: the data goes to a temporary file in
// the same directory, is synced, and is renamed over path, so a reader (or
// a crash) never sees a partly written file. The file gets mode 0644.
func Write(path string, t *ir.Tensor) (err error) {
	if err := check(t); err != nil {
		return fmt.Errorf("npy %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("npy %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("npy %s: %w", path, err)
		}
	}()
	if _, err := f.Write(Encode(t)); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable. Best effort: some file systems
	// cannot sync a directory, and the data is already in place.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
