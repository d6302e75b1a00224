package native

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Decode parses the bytes of an .eim file. Tensor data aliases data
// wherever the host is little-endian and the blob is aligned for its
// element type (always, for a buffer that starts on an 8-byte boundary):
// data must not be modified while the model is in use. Names and other
// strings are copied.
func Decode(data []byte) (*Model, error) {
	m, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("eim: %w", err)
	}
	return m, nil
}

// decode verifies the header, the table and every section checksum, then
// decodes the known sections; unknown ones are skipped.
func decode(data []byte) (*Model, error) {
	_, entries, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	secs := map[uint32][]byte{}
	for _, e := range entries {
		b := data[e.off : e.off+e.length]
		if got := crc(b); got != e.crc {
			return nil, &SectionError{e.name, fmt.Errorf("%w (computed %08x, stored %08x)", ErrChecksum, got, e.crc)}
		}
		if _, known := kindNames[e.kind]; !known {
			if e.flags&sectionRequired != 0 {
				return nil, &SectionError{e.name, fmt.Errorf("kind %d is unknown to this reader and marked required; load the file with a newer edgeinfer", e.kind)}
			}
			continue
		}
		if _, dup := secs[e.kind]; dup {
			return nil, &SectionError{e.name, errors.New("appears twice in the section table")}
		}
		secs[e.kind] = b
	}
	for _, k := range []uint32{kindGraph, kindTensors} {
		if _, ok := secs[k]; !ok {
			return nil, fmt.Errorf("required section %q is missing", kindNames[k])
		}
	}

	tensors, err := decodeTensors(secs[kindTensors], secs[kindBlobs])
	if err != nil {
		return nil, &SectionError{kindNames[kindTensors], err}
	}
	g, err := decodeGraph(secs[kindGraph], tensors)
	if err != nil {
		return nil, &SectionError{kindNames[kindGraph], err}
	}
	for i, t := range tensors {
		if t.flags&tensorInitializer == 0 {
			continue
		}
		if _, dup := g.Initializers[t.name]; dup {
			return nil, &SectionError{kindNames[kindTensors], fmt.Errorf("tensor #%d: initializer %q appears twice", i, t.name)}
		}
		g.Initializers[t.name] = t.t
	}
	m := &Model{Graph: g, Meta: map[string]string{}}
	if b, ok := secs[kindPreprocess]; ok {
		if m.Preprocess, err = decodePreprocess(b, g); err != nil {
			return nil, &SectionError{kindNames[kindPreprocess], err}
		}
	}
	if b, ok := secs[kindLabels]; ok && len(b) > 0 {
		m.Labels = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	if b, ok := secs[kindMeta]; ok {
		d := &decoder{b: b}
		m.Meta = decodeStringMap(d)
		if err := d.done(); err != nil {
			return nil, &SectionError{kindNames[kindMeta], err}
		}
	}
	return m, nil
}

type decodedTensor struct {
	name  string
	flags uint64
	t     *ir.Tensor
}

// Minimum encoded sizes of records, which bound counts before allocation.
const (
	minTensorEntry = 7 // name, flags, dtype, shape, quant, offset, length
	minValueInfo   = 4 // name, dtype, shape, quant
	minNode        = 6 // name, op, domain, inputs, outputs, attributes
	minAttr        = 3 // name, kind, value
)

func decodeTensors(b, blobs []byte) ([]decodedTensor, error) {
	d := &decoder{b: b}
	n := d.count(minTensorEntry)
	out := make([]decodedTensor, 0, n)
	// Entries that share a blob share its data, also where setData has
	// to copy it: a file cannot make decoding allocate more than its
	// blobs' size per element type by naming one blob many times.
	type blobUse struct {
		off, length uint64
		dt          ir.DType
	}
	shared := map[blobUse]*ir.Tensor{}
	for i := 0; i < n; i++ {
		name := d.str()
		flags := d.uvarint()
		dt := ir.DType(d.u8())
		shape := decodeDims(d, false)
		q := decodeQuant(d)
		off, length := d.uvarint(), d.uvarint()
		if d.err != nil {
			return nil, fmt.Errorf("tensor #%d: %w", i, d.err)
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("tensor #%d %q: %s", i, name, fmt.Sprintf(format, args...))
		}
		if !knownDType(dt) {
			return nil, fail("unknown element type %s", dt)
		}
		count, size, err := blobSize(dt, shape)
		if err != nil {
			return nil, fail("%v", err)
		}
		if length != uint64(size) {
			return nil, fail("blob is %d bytes, a %s tensor of shape %v needs %d", length, dt, shape, size)
		}
		if off%align != 0 {
			return nil, fail("blob offset %d is not a multiple of %d", off, align)
		}
		if off > uint64(len(blobs)) || length > uint64(len(blobs))-off {
			return nil, fail("blob bytes %d..%d lie outside the %d-byte blobs section", off, off+length, len(blobs))
		}
		t := &ir.Tensor{DType: dt, Shape: shape, Quant: q}
		key := blobUse{off, length, dt}
		if prev, ok := shared[key]; ok {
			t.F32, t.I64, t.I32, t.I8, t.U8 = prev.F32, prev.I64, prev.I32, prev.I8, prev.U8
		} else {
			setData(t, blobs[off:off+length], count)
			shared[key] = t
		}
		out = append(out, decodedTensor{name, flags, t})
	}
	return out, d.done()
}

// decodeDims reads a shape list: uvarint dimensions for tensors, varint
// (−1 = unknown) for value infos.
func decodeDims(d *decoder, signed bool) []int {
	n, isNil := d.list(1)
	if isNil {
		return nil
	}
	shape := make([]int, n)
	for i := range shape {
		if signed {
			shape[i] = d.int("dimension")
		} else {
			shape[i] = d.uint("dimension")
		}
	}
	return shape
}

func decodeQuant(d *decoder) *ir.Quant {
	switch d.u8() {
	case 0:
		return nil
	case 1:
	default:
		d.fail(errors.New("quant presence byte is neither 0 nor 1"))
		return nil
	}
	q := &ir.Quant{}
	if n, isNil := d.list(4); !isNil {
		q.Scale = make([]float32, n)
		for i := range q.Scale {
			q.Scale[i] = d.f32()
		}
	}
	if n, isNil := d.list(1); !isNil {
		q.ZeroPoint = make([]int32, n)
		for i := range q.ZeroPoint {
			v := d.varint()
			if v < math.MinInt32 || v > math.MaxInt32 {
				d.fail(fmt.Errorf("zero point %d does not fit int32", v))
			}
			q.ZeroPoint[i] = int32(v)
		}
	}
	q.Axis = d.int("quant axis")
	if d.err == nil {
		if err := checkQuant(q); err != nil {
			d.fail(err)
		}
	}
	return q
}

func decodeGraph(b []byte, tensors []decodedTensor) (*ir.Graph, error) {
	d := &decoder{b: b}
	g := ir.New(d.str())
	g.Format = "native"
	opset := d.uvarint()
	if opset > math.MaxInt32 {
		d.fail(fmt.Errorf("opset %d out of range", opset))
	}
	g.Opset = int(opset)
	g.Metadata = decodeStringMap(d)
	if d.err != nil {
		return nil, d.err
	}
	for _, list := range []struct {
		what  string
		infos *[]*ir.ValueInfo
	}{{"input", &g.Inputs}, {"output", &g.Outputs}} {
		n, isNil := d.list(minValueInfo)
		if isNil {
			continue
		}
		*list.infos = make([]*ir.ValueInfo, n)
		for i := range *list.infos {
			(*list.infos)[i] = decodeValueInfo(d)
			if d.err != nil {
				return nil, fmt.Errorf("%s #%d: %w", list.what, i, d.err)
			}
		}
	}
	n := d.count(1 + minValueInfo)
	for i := 0; i < n; i++ {
		k := d.str()
		vi := decodeValueInfo(d)
		if d.err != nil {
			return nil, fmt.Errorf("value info #%d: %w", i, d.err)
		}
		if _, dup := g.ValueInfo[k]; dup {
			return nil, fmt.Errorf("value info %q appears twice", k)
		}
		g.ValueInfo[k] = vi
	}
	if n, isNil := d.list(minNode); !isNil {
		g.Nodes = make([]*ir.Node, n)
		for i := range g.Nodes {
			node, err := decodeNode(d, tensors)
			if err != nil {
				return nil, fmt.Errorf("node #%d: %w", i, err)
			}
			g.Nodes[i] = node
		}
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return g, nil
}

func decodeValueInfo(d *decoder) *ir.ValueInfo {
	vi := &ir.ValueInfo{Name: d.str(), DType: ir.DType(d.u8())}
	if vi.DType > ir.Bool {
		d.fail(fmt.Errorf("value %q: unknown element type %s", vi.Name, vi.DType))
	}
	vi.Shape = decodeDims(d, true)
	if err := checkValueShape(vi.Shape); err != nil {
		d.fail(fmt.Errorf("value %q: %w", vi.Name, err))
	}
	vi.Quant = decodeQuant(d)
	return vi
}

// maxValueElements bounds the element count of a value info's shape.
// Tensors are bounded by the blobs in the file; a declared shape is not,
// and the runtime sizes its activation arena from it, so a few bytes
// claiming 2^40 elements must be refused here rather than exhaust memory
// at prepare. 2^30 elements (4 GiB of float32) is far above any CNN
// activation; on 32-bit boards the bound keeps byte counts of 16-byte
// elements inside an int.
const maxValueElements = min(1<<30, maxInt/16)

// checkValueShape refuses a value shape with a dimension below -1 or more
// than maxValueElements elements; unknown dimensions (-1) count as 1.
func checkValueShape(shape []int) error {
	n := 1
	for _, d := range shape {
		if d < -1 {
			return fmt.Errorf("dimension %d out of range in shape %v", d, shape)
		}
		if d <= 0 {
			continue
		}
		if d > maxValueElements || n > maxValueElements/d {
			return fmt.Errorf("shape %v has more than %d elements", shape, maxValueElements)
		}
		n *= d
	}
	return nil
}

func decodeStrings(d *decoder) []string {
	n, isNil := d.list(1)
	if isNil {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = d.str()
	}
	return s
}

func decodeNode(d *decoder, tensors []decodedTensor) (*ir.Node, error) {
	n := &ir.Node{Name: d.str(), Op: d.str(), Domain: d.str()}
	n.Inputs = decodeStrings(d)
	n.Outputs = decodeStrings(d)
	count, isNil := d.list(minAttr)
	if d.err != nil {
		return nil, fmt.Errorf("%q: %w", n.Name, d.err)
	}
	if !isNil {
		n.Attrs = make(map[string]*ir.Attr, count)
	}
	for i := 0; i < count; i++ {
		name := d.str()
		a := &ir.Attr{Kind: ir.AttrKind(d.u8())}
		switch a.Kind {
		case ir.AttrInt:
			a.I = d.varint()
		case ir.AttrFloat:
			a.F = d.f32()
		case ir.AttrString:
			a.S = d.str()
		case ir.AttrInts:
			if k, isNil := d.list(1); !isNil {
				a.Ints = make([]int64, k)
				for j := range a.Ints {
					a.Ints[j] = d.varint()
				}
			}
		case ir.AttrFloats:
			if k, isNil := d.list(4); !isNil {
				a.Floats = make([]float32, k)
				for j := range a.Floats {
					a.Floats[j] = d.f32()
				}
			}
		case ir.AttrStrings:
			a.Strings = decodeStrings(d)
		case ir.AttrTensor:
			idx := d.uvarint()
			if d.err == nil && idx >= uint64(len(tensors)) {
				d.fail(fmt.Errorf("tensor index %d, the tensors section has %d", idx, len(tensors)))
			}
			if d.err == nil {
				a.T = tensors[idx].t
			}
		default:
			d.fail(fmt.Errorf("unknown attribute kind %d", a.Kind))
		}
		if d.err != nil {
			return nil, fmt.Errorf("%q: attribute %q: %w", n.Name, name, d.err)
		}
		if _, dup := n.Attrs[name]; dup {
			return nil, fmt.Errorf("%q: attribute %q appears twice", n.Name, name)
		}
		n.Attrs[name] = a
	}
	return n, nil
}

func decodeStringMap(d *decoder) map[string]string {
	n := d.count(2)
	m := make(map[string]string, n)
	for i := 0; i < n; i++ {
		k, v := d.str(), d.str()
		if d.err != nil {
			return m
		}
		if _, dup := m[k]; dup {
			d.fail(fmt.Errorf("key %q appears twice", k))
			return m
		}
		m[k] = v
	}
	return m
}

func decodePreprocess(b []byte, g *ir.Graph) (*Preprocess, error) {
	if len(b) > maxPreprocess {
		return nil, fmt.Errorf("%d bytes, at most %d", len(b), maxPreprocess)
	}
	p := &Preprocess{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, err
	}
	if err := p.check(g); err != nil {
		return nil, err
	}
	return p, nil
}
