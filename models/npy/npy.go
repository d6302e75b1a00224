// Package npy reads and writes NumPy .npy files as ir tensors: the format
// of the float reference fixtures (inputs and PyTorch outputs) and of the
// image sets used for calibration and accuracy runs.
//
// Format versions 1.0, 2.0 and 3.0 are read; the header is the Python dict
// literal {'descr': …, 'fortran_order': …, 'shape': (…)}. Supported dtypes
// are float32 and float64 (read as float32), int8, uint8, int32, int64 and
// bool, little- or big-endian; C order only. Every size taken from the file
// is checked against the bytes present before anything is allocated.
package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

const magic = "\x93NUMPY"

// maxHeader bounds the header dict. NumPy itself refuses headers above
// 10000 bytes by default; the dtypes read here need well under 200.
const maxHeader = 1 << 16

// dtype describes one supported descr string.
type dtype struct {
	t     ir.DType
	size  int // bytes per element in the file
	order binary.ByteOrder
}

var dtypes = map[string]dtype{
	"<f4": {ir.Float32, 4, binary.LittleEndian},
	">f4": {ir.Float32, 4, binary.BigEndian},
	"<f8": {ir.Float32, 8, binary.LittleEndian},
	">f8": {ir.Float32, 8, binary.BigEndian},
	"|i1": {ir.Int8, 1, nil},
	"|u1": {ir.Uint8, 1, nil},
	"|b1": {ir.Bool, 1, nil},
	"<i4": {ir.Int32, 4, binary.LittleEndian},
	">i4": {ir.Int32, 4, binary.BigEndian},
	"<i8": {ir.Int64, 8, binary.LittleEndian},
	">i8": {ir.Int64, 8, binary.BigEndian},
}

// Read reads the .npy file at path.
func Read(path string) (*ir.Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	t, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("npy %s: %w", path, err)
	}
	return t, nil
}

// Decode decodes the contents of a .npy file. A 0-d array becomes a scalar
// tensor (empty Shape, one element); float64 data is rounded to float32 and
// bool bytes are normalised to 0 and 1.
func Decode(data []byte) (*ir.Tensor, error) {
	t, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return t, nil
}

func decode(data []byte) (*ir.Tensor, error) {
	if len(data) < 10 || string(data[:6]) != magic {
		return nil, errors.New("not a .npy file (bad magic)")
	}
	var hlen, start int
	switch data[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(data[8:])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, errors.New("truncated header")
		}
		n := binary.LittleEndian.Uint32(data[8:])
		if n > maxHeader {
			return nil, fmt.Errorf("header of %d bytes is too long", n)
		}
		hlen, start = int(n), 12
	default:
		return nil, fmt.Errorf("unsupported format version %d.%d", data[6], data[7])
	}
	if hlen > len(data)-start {
		return nil, fmt.Errorf("header length %d beyond the end of the file", hlen)
	}
	h, err := parseHeader(string(data[start : start+hlen]))
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	dt, ok := dtypes[h.descr]
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q", h.descr)
	}
	if h.fortran {
		return nil, errors.New("fortran_order arrays are not supported")
	}
	n := 1
	for _, d := range h.shape {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in shape %v", h.shape)
		}
		if d != 0 && n > math.MaxInt/dt.size/d {
			return nil, fmt.Errorf("shape %v has too many elements", h.shape)
		}
		n *= d
	}
	payload := data[start+hlen:]
	if len(payload) != n*dt.size {
		return nil, fmt.Errorf("data has %d bytes, want %d for %s shape %v", len(payload), n*dt.size, h.descr, h.shape)
	}
	t := &ir.Tensor{DType: dt.t, Shape: h.shape}
	switch {
	case h.descr[1:] == "f4":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(dt.order.Uint32(payload[4*i:]))
		}
	case h.descr[1:] == "f8":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = float32(math.Float64frombits(dt.order.Uint64(payload[8*i:])))
		}
	case dt.t == ir.Int8:
		t.I8 = make([]int8, n)
		for i, b := range payload {
			t.I8[i] = int8(b)
		}
	case dt.t == ir.Uint8:
		t.U8 = append(make([]uint8, 0, n), payload...)
	case dt.t == ir.Bool:
		t.U8 = make([]uint8, n)
		for i, b := range payload {
			if b != 0 {
				t.U8[i] = 1
			}
		}
	case dt.t == ir.Int32:
		t.I32 = make([]int32, n)
		for i := range t.I32 {
			t.I32[i] = int32(dt.order.Uint32(payload[4*i:]))
		}
	case dt.t == ir.Int64:
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(dt.order.Uint64(payload[8*i:]))
		}
	}
	return t, nil
}

// header is the parsed header dict.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader parses the header dict, a Python literal. Only the literal
// forms NumPy writes are accepted: strings, True/False, integers (with
// Python 2's L suffix) and tuples or lists of them.
func parseHeader(s string) (header, error) {
	var h header
	p := &parser{s: s}
	v, err := p.value(0)
	if err != nil {
		return h, err
	}
	p.space()
	if p.i != len(p.s) {
		return h, fmt.Errorf("unexpected %q after the dict", p.rest())
	}
	dict, ok := v.(map[string]any)
	if !ok {
		return h, errors.New("not a dict")
	}
	descr, ok := dict["descr"].(string)
	if !ok {
		return h, errors.New("'descr' missing or not a simple dtype string")
	}
	fortran, ok := dict["fortran_order"].(bool)
	if !ok {
		return h, errors.New("'fortran_order' missing or not a bool")
	}
	dims, ok := dict["shape"].([]any)
	if !ok {
		return h, errors.New("'shape' missing or not a tuple")
	}
	h.descr, h.fortran, h.shape = descr, fortran, make([]int, len(dims))
	for i, d := range dims {
		v, ok := d.(int)
		if !ok {
			return h, fmt.Errorf("shape element %d is not an integer", i)
		}
		h.shape[i] = v
	}
	return h, nil
}

// maxDepth bounds nesting in the header: a hostile "((((…" must not
// recurse once per byte.
const maxDepth = 8

type parser struct {
	s string
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

// value parses one literal: a dict (map[string]any), a tuple or list
// ([]any), a string, a bool, None (nil) or an int.
func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		err := p.items('}', func() error {
			k, err := p.value(depth + 1)
			if err != nil {
				return err
			}
			key, ok := k.(string)
			if !ok {
				return errors.New("dict key is not a string")
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return fmt.Errorf("expected ':' after key %q", key)
			}
			p.i++
			v, err := p.value(depth + 1)
			m[key] = v
			return err
		})
		return m, err
	case c == '(' || c == '[':
		p.i++
		end := byte(')')
		if c == '[' {
			end = ']'
		}
		list := []any{}
		err := p.items(end, func() error {
			v, err := p.value(depth + 1)
			list = append(list, v)
			return err
		})
		return list, err
	case c == '\'' || c == '"':
		j := strings.IndexByte(p.s[p.i+1:], c)
		if j < 0 {
			return nil, errors.New("unterminated string")
		}
		s := p.s[p.i+1 : p.i+1+j]
		if strings.IndexByte(s, '\\') >= 0 {
			return nil, fmt.Errorf("escapes in string %q are not supported", s)
		}
		p.i += j + 2
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", p.s[p.i:j])
		}
		p.i = j
		if p.i < len(p.s) && (p.s[p.i] == 'L' || p.s[p.i] == 'l') {
			p.i++
		}
		return v, nil
	}
	for word, v := range map[string]any{"True": true, "False": false, "None": nil} {
		if strings.HasPrefix(p.s[p.i:], word) {
			p.i += len(word)
			return v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q", p.rest())
}

// items parses comma-separated items up to end, allowing a trailing comma.
func (p *parser) items(end byte, item func() error) error {
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return nil
		}
		if err := item(); err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.s) {
			return errors.New("unexpected end")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case end:
			p.i++
			return nil
		default:
			return fmt.Errorf("expected ',' or %q, found %q", end, p.rest())
		}
	}
}
