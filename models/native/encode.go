package native

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Tensor entry flags.
const (
	// tensorInitializer: the entry is a graph initializer (its name is
	// the key in Graph.Initializers); otherwise it is the value of a
	// tensor attribute that the graph section refers to by index.
	tensorInitializer = 1 << 0
)

// plannedTensor is one tensor of the tensors section with its place in the
// blobs section.
type plannedTensor struct {
	name  string
	flags uint64
	t     *ir.Tensor
	off   uint64 // from the start of the blobs section
	size  uint64
}

// plannedBlob is the data of one or more tensors in the blobs section.
type plannedBlob struct {
	t    *ir.Tensor
	off  uint64 // from the start of the blobs section
	size uint64
}

// plan is a file laid out but not yet written: the small sections encoded,
// every offset fixed and every checksum computed.
type plan struct {
	hdr      header
	head     []byte // header and section table
	entries  []entry
	small    [][]byte // contents of entries[:len(entries)-1]; blobs is last
	tensors  []plannedTensor
	blobList []plannedBlob // in offset order
	blobs    entry
}

// rawSection is a section given as bytes: tests use it to add sections of
// kinds this version does not know.
type rawSection struct {
	kind, flags uint32
	name        string
	data        []byte
}

// newPlan validates m and lays its file out; extra sections go before the
// blobs.
func newPlan(m *Model, extra ...rawSection) (*plan, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("model has no graph")
	}
	p := &plan{}
	attrIndex, err := p.collectTensors(m.Graph)
	if err != nil {
		return nil, err
	}
	graph, err := encodeGraph(m.Graph, attrIndex)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	secs := []rawSection{
		{kindGraph, sectionRequired, "", graph},
		{kindTensors, sectionRequired, "", p.encodeTensors()},
	}
	if m.Preprocess != nil {
		if err := m.Preprocess.check(m.Graph); err != nil {
			return nil, fmt.Errorf("preprocess: %w", err)
		}
		b, err := json.Marshal(m.Preprocess)
		if err != nil {
			return nil, fmt.Errorf("preprocess: %w", err)
		}
		if len(b) > maxPreprocess {
			return nil, fmt.Errorf("preprocess: %d bytes of JSON, at most %d", len(b), maxPreprocess)
		}
		secs = append(secs, rawSection{kindPreprocess, 0, "", b})
	}
	if len(m.Labels) > 0 {
		var sb strings.Builder
		for i, l := range m.Labels {
			if strings.ContainsRune(l, '\n') {
				return nil, fmt.Errorf("labels: label %d (%q) contains a newline", i, l)
			}
			sb.WriteString(l)
			sb.WriteByte('\n')
		}
		secs = append(secs, rawSection{kindLabels, 0, "", []byte(sb.String())})
	}
	if len(m.Meta) > 0 {
		var e encoder
		encodeStringMap(&e, m.Meta)
		secs = append(secs, rawSection{kindMeta, 0, "", e.b})
	}
	secs = append(secs, extra...)

	n := len(secs) + 1
	off := alignUp(headerSize + uint64(n)*entrySize)
	for _, s := range secs {
		name := s.name
		if name == "" {
			name = kindNames[s.kind]
		}
		p.entries = append(p.entries, entry{
			kind: s.kind, flags: s.flags, name: name,
			off: off, length: uint64(len(s.data)), crc: crc(s.data),
		})
		p.small = append(p.small, s.data)
		off = alignUp(off + uint64(len(s.data)))
	}
	p.blobs = entry{kind: kindBlobs, flags: sectionRequired, name: kindNames[kindBlobs], off: off}
	var sum uint32
	var pos uint64
	for _, pb := range p.blobList {
		sum = crc32.Update(sum, castagnoli, zeros[:pb.off-pos])
		sum = crc32.Update(sum, castagnoli, tensorBytes(pb.t))
		pos = pb.off + pb.size
	}
	p.blobs.length, p.blobs.crc = pos, sum
	p.entries = append(p.entries, p.blobs)

	table := make([]byte, n*entrySize)
	for i := range p.entries {
		p.entries[i].encode(table[i*entrySize:])
	}
	p.hdr = header{
		version:  Version,
		flags:    quantFlag(m.Graph),
		sections: uint32(n),
		tableCRC: crc(table),
		tableOff: headerSize,
		fileSize: p.blobs.off + p.blobs.length,
	}
	p.head = append(p.hdr.encode(), table...)
	return p, nil
}

// maxPreprocess bounds the preprocess section, which is JSON.
const maxPreprocess = 64 << 10

var zeros [align]byte

// collectTensors lists the initializers (sorted by name) and then the
// values of tensor attributes (in node order, attributes sorted by name),
// validates each and gives its data a 64-byte aligned place in the blobs
// section. Data is stored once however many entries share it (one
// *ir.Tensor used twice, or tensors that alias the same memory, as those
// of a loaded file can). It returns the index of each attribute tensor.
func (p *plan) collectTensors(g *ir.Graph) (map[*ir.Tensor]int, error) {
	type blobKey struct {
		data unsafe.Pointer
		size int
	}
	var pos uint64
	placed := map[blobKey]uint64{}
	index := map[*ir.Tensor]int{}
	add := func(name string, flags uint64, t *ir.Tensor) error {
		if t == nil {
			return errors.New("nil tensor")
		}
		if !knownDType(t.DType) {
			return fmt.Errorf("element type %s cannot be stored", t.DType)
		}
		if err := t.Validate(); err != nil {
			return err
		}
		_, size, err := blobSize(t.DType, t.Shape)
		if err != nil {
			return err
		}
		if err := checkQuant(t.Quant); err != nil {
			return err
		}
		b := tensorBytes(t)
		key := blobKey{unsafe.Pointer(unsafe.SliceData(b)), len(b)}
		off, done := placed[key]
		if !done || size == 0 {
			off = alignUp(pos)
			placed[key] = off
			p.blobList = append(p.blobList, plannedBlob{t: t, off: off, size: uint64(size)})
			pos = off + uint64(size)
		}
		if _, ok := index[t]; !ok {
			index[t] = len(p.tensors)
		}
		p.tensors = append(p.tensors, plannedTensor{name: name, flags: flags, t: t, off: off, size: uint64(size)})
		return nil
	}
	for _, name := range sortedKeys(g.Initializers) {
		if err := add(name, tensorInitializer, g.Initializers[name]); err != nil {
			return nil, fmt.Errorf("initializer %q: %w", name, err)
		}
	}
	for i, n := range g.Nodes {
		if n == nil {
			return nil, fmt.Errorf("node #%d is nil", i)
		}
		for _, an := range sortedKeys(n.Attrs) {
			a := n.Attrs[an]
			if a == nil || a.Kind != ir.AttrTensor {
				continue
			}
			if _, done := index[a.T]; done {
				continue // an initializer or an earlier attribute
			}
			if err := add(n.Name+"."+an, 0, a.T); err != nil {
				return nil, fmt.Errorf("%s attribute %q: %w", n.Describe(), an, err)
			}
		}
	}
	return index, nil
}

func checkQuant(q *ir.Quant) error {
	if q == nil {
		return nil
	}
	if len(q.ZeroPoint) != 0 && len(q.ZeroPoint) != len(q.Scale) {
		return fmt.Errorf("quant has %d scales and %d zero points", len(q.Scale), len(q.ZeroPoint))
	}
	return nil
}

func quantFlag(g *ir.Graph) uint32 {
	for _, t := range g.Initializers {
		if t != nil && (t.Quant != nil || t.DType == ir.Int8 || t.DType == ir.Uint8) {
			return FlagQuantized
		}
	}
	return 0
}

// size is the file size.
func (p *plan) size() uint64 { return p.hdr.fileSize }

// writeTo writes the file sequentially. before, when not nil, is called
// before each blob is written; an error from it aborts the write (tests
// use it to fail or slow a write midway).
func (p *plan) writeTo(w io.Writer, before func(blob int) error) error {
	if _, err := w.Write(p.head); err != nil {
		return err
	}
	pos := uint64(len(p.head))
	pad := func(to uint64) error {
		for pos < to {
			n := min(to-pos, align)
			if _, err := w.Write(zeros[:n]); err != nil {
				return err
			}
			pos += n
		}
		return nil
	}
	for i, b := range p.small {
		if err := pad(p.entries[i].off); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		pos += uint64(len(b))
	}
	if err := pad(p.blobs.off); err != nil {
		return err
	}
	for i, pb := range p.blobList {
		if before != nil {
			if err := before(i); err != nil {
				return err
			}
		}
		if err := pad(p.blobs.off + pb.off); err != nil {
			return err
		}
		b := tensorBytes(pb.t)
		if _, err := w.Write(b); err != nil {
			return err
		}
		pos += uint64(len(b))
	}
	return nil
}

// Encode returns m as the bytes of an .eim file.
func Encode(m *Model) ([]byte, error) {
	p, err := newPlan(m)
	if err != nil {
		return nil, fmt.Errorf("eim: %w", err)
	}
	if p.size() > uint64(maxInt) {
		return nil, fmt.Errorf("eim: a %d-byte model does not fit in memory on this platform; use Write", p.size())
	}
	var buf bytes.Buffer
	buf.Grow(int(p.size()))
	if err := p.writeTo(&buf, nil); err != nil {
		return nil, fmt.Errorf("eim: %w", err)
	}
	return buf.Bytes(), nil
}

// Write stores m at path atomically. The file is written to a temporary
// file ".<name>.tmp-*" in the same directory, synced, closed and renamed
// over path, and the directory is synced, so readers and a crash see
// either the old file or the complete new one. On any error (and on a
// panic) the temporary file is removed and path is untouched; a process
// killed mid-write leaves at most the temporary file behind. The file gets
// mode 0644.
func Write(path string, m *Model) error {
	return write(path, m, nil)
}

func write(path string, m *Model, before func(blob int) error) (err error) {
	p, err := newPlan(m)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		// Runs on errors and on panics alike.
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	fail := func(err error) error { return fmt.Errorf("%s: %w", path, err) }
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := p.writeTo(bw, before); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	committed = true
	// Make the rename durable. Best effort: some file systems cannot sync
	// a directory, and the new file is in place either way.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// encodeTensors encodes the tensors section: a count, then per tensor its
// name, flags, dtype, shape, quantisation and place in the blobs section.
func (p *plan) encodeTensors() []byte {
	var e encoder
	e.count(len(p.tensors))
	for _, pt := range p.tensors {
		e.str(pt.name)
		e.uvarint(pt.flags)
		e.u8(uint8(pt.t.DType))
		e.list(len(pt.t.Shape), pt.t.Shape == nil)
		for _, d := range pt.t.Shape {
			e.uvarint(uint64(d))
		}
		encodeQuant(&e, pt.t.Quant)
		e.uvarint(pt.off)
		e.uvarint(pt.size)
	}
	return e.b
}

func encodeQuant(e *encoder, q *ir.Quant) {
	if q == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	e.list(len(q.Scale), q.Scale == nil)
	for _, s := range q.Scale {
		e.f32(s)
	}
	e.list(len(q.ZeroPoint), q.ZeroPoint == nil)
	for _, z := range q.ZeroPoint {
		e.varint(int64(z))
	}
	e.varint(int64(q.Axis))
}

// encodeGraph encodes the graph section (FORMAT.md, "graph").
func encodeGraph(g *ir.Graph, attrIndex map[*ir.Tensor]int) ([]byte, error) {
	var e encoder
	e.str(g.Name)
	if g.Opset < 0 {
		return nil, fmt.Errorf("negative opset %d", g.Opset)
	}
	e.uvarint(uint64(g.Opset))
	encodeStringMap(&e, g.Metadata)
	for _, list := range []struct {
		what  string
		infos []*ir.ValueInfo
	}{{"input", g.Inputs}, {"output", g.Outputs}} {
		e.list(len(list.infos), list.infos == nil)
		for i, vi := range list.infos {
			if vi == nil {
				return nil, fmt.Errorf("%s #%d is nil", list.what, i)
			}
			if err := encodeValueInfo(&e, vi); err != nil {
				return nil, fmt.Errorf("%s %q: %w", list.what, vi.Name, err)
			}
		}
	}
	e.count(len(g.ValueInfo))
	for _, k := range sortedKeys(g.ValueInfo) {
		vi := g.ValueInfo[k]
		if vi == nil {
			return nil, fmt.Errorf("value info %q is nil", k)
		}
		e.str(k)
		if err := encodeValueInfo(&e, vi); err != nil {
			return nil, fmt.Errorf("value info %q: %w", k, err)
		}
	}
	e.list(len(g.Nodes), g.Nodes == nil)
	for i, n := range g.Nodes {
		if n == nil {
			return nil, fmt.Errorf("node #%d is nil", i)
		}
		if err := encodeNode(&e, n, attrIndex); err != nil {
			return nil, fmt.Errorf("%s: %w", n.Describe(), err)
		}
	}
	return e.b, nil
}

func encodeValueInfo(e *encoder, vi *ir.ValueInfo) error {
	if vi.DType > ir.Bool {
		return fmt.Errorf("unknown element type %s", vi.DType)
	}
	if err := checkQuant(vi.Quant); err != nil {
		return err
	}
	e.str(vi.Name)
	e.u8(uint8(vi.DType))
	e.list(len(vi.Shape), vi.Shape == nil)
	for _, d := range vi.Shape {
		e.varint(int64(d))
	}
	encodeQuant(e, vi.Quant)
	return nil
}

func encodeStrings(e *encoder, s []string) {
	e.list(len(s), s == nil)
	for _, v := range s {
		e.str(v)
	}
}

func encodeNode(e *encoder, n *ir.Node, attrIndex map[*ir.Tensor]int) error {
	e.str(n.Name)
	e.str(n.Op)
	e.str(n.Domain)
	encodeStrings(e, n.Inputs)
	encodeStrings(e, n.Outputs)
	e.list(len(n.Attrs), n.Attrs == nil)
	for _, name := range sortedKeys(n.Attrs) {
		a := n.Attrs[name]
		if a == nil {
			return fmt.Errorf("attribute %q is nil", name)
		}
		e.str(name)
		e.u8(uint8(a.Kind))
		switch a.Kind {
		case ir.AttrInt:
			e.varint(a.I)
		case ir.AttrFloat:
			e.f32(a.F)
		case ir.AttrString:
			e.str(a.S)
		case ir.AttrInts:
			e.list(len(a.Ints), a.Ints == nil)
			for _, v := range a.Ints {
				e.varint(v)
			}
		case ir.AttrFloats:
			e.list(len(a.Floats), a.Floats == nil)
			for _, v := range a.Floats {
				e.f32(v)
			}
		case ir.AttrStrings:
			encodeStrings(e, a.Strings)
		case ir.AttrTensor:
			e.uvarint(uint64(attrIndex[a.T]))
		default:
			return fmt.Errorf("attribute %q has unknown kind %d", name, a.Kind)
		}
	}
	return nil
}

func encodeStringMap(e *encoder, m map[string]string) {
	e.count(len(m))
	for _, k := range sortedKeys(m) {
		e.str(k)
		e.str(m[k])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
