package native

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
)

// Magic opens every .eim file.
const Magic = "EIMODEL\x00"

// Layout constants of format version 1 (FORMAT.md).
const (
	headerSize = 64 // fixed header, CRC-32C in its last 4 bytes
	entrySize  = 48 // one section table entry
	align      = 64 // sections and blobs start on multiples of this
	nameSize   = 16 // NUL-padded section name in a table entry

	// maxSections bounds the table so a hostile count cannot make the
	// reader loop for long even when the file is large.
	maxSections = 4096
)

// Header flags. Bits 0–15 are informational (readers ignore those they do
// not know); bits 16–31 announce features a reader must understand, so a
// reader refuses a file with a required bit it does not know.
const (
	// FlagQuantized: some initializer is int8/uint8 or carries Quant.
	FlagQuantized uint32 = 1 << 0

	requiredFlags    uint32 = 0xffff0000
	knownRequiredSet uint32 = 0
)

// Section table entry flags.
const (
	// sectionRequired: a reader that does not know the section's kind
	// must refuse the file instead of skipping the section.
	sectionRequired uint32 = 1 << 0
)

// Section kinds. A reader skips sections of kinds it does not know unless
// they are marked required.
const (
	kindGraph      uint32 = 1
	kindTensors    uint32 = 2
	kindBlobs      uint32 = 3
	kindPreprocess uint32 = 4
	kindLabels     uint32 = 5
	kindMeta       uint32 = 6
)

var kindNames = map[uint32]string{
	kindGraph:      "graph",
	kindTensors:    "tensors",
	kindBlobs:      "blobs",
	kindPreprocess: "preprocess",
	kindLabels:     "labels",
	kindMeta:       "meta",
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// header is the fixed 64-byte header:
//
//	0  [8]byte  magic "EIMODEL\0"
//	8  uint32   format version
//	12 uint32   flags
//	16 uint32   section count
//	20 uint32   CRC-32C of the section table
//	24 uint64   section table offset
//	32 uint64   file size
//	40 [20]byte reserved, zero
//	60 uint32   CRC-32C of bytes 0..59
//
// All integers are little-endian. The magic, version and header CRC keep
// their positions in every version, so any reader can say which version a
// file is.
type header struct {
	version  uint32
	flags    uint32
	sections uint32
	tableCRC uint32
	tableOff uint64
	fileSize uint64
}

func (h *header) encode() []byte {
	b := make([]byte, headerSize)
	copy(b, Magic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], h.version)
	le.PutUint32(b[12:], h.flags)
	le.PutUint32(b[16:], h.sections)
	le.PutUint32(b[20:], h.tableCRC)
	le.PutUint64(b[24:], h.tableOff)
	le.PutUint64(b[32:], h.fileSize)
	le.PutUint32(b[60:], crc(b[:60]))
	return b
}

// entry is one section table entry:
//
//	0  uint32   kind
//	4  uint32   flags
//	8  uint64   offset of the section from the start of the file
//	16 uint64   length in bytes
//	24 uint32   CRC-32C of the section's bytes
//	28 uint32   reserved, zero
//	32 [16]byte name, NUL-padded ASCII
type entry struct {
	kind   uint32
	flags  uint32
	off    uint64
	length uint64
	crc    uint32
	name   string
}

func (e *entry) encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], e.kind)
	le.PutUint32(b[4:], e.flags)
	le.PutUint64(b[8:], e.off)
	le.PutUint64(b[16:], e.length)
	le.PutUint32(b[24:], e.crc)
	le.PutUint32(b[28:], 0)
	copy(b[32:32+nameSize], make([]byte, nameSize))
	copy(b[32:32+nameSize], e.name)
}

// parseHeader checks the magic, the header CRC and the version, then
// bounds-checks and verifies the section table and returns its entries.
// Sections are bounds-checked (naming the section) but their CRCs are not
// verified here.
func parseHeader(data []byte) (*header, []entry, error) {
	n := min(len(data), len(Magic))
	if !bytes.Equal(data[:n], []byte(Magic[:n])) {
		return nil, nil, fmt.Errorf("%w: bad magic %q, want %q", ErrNotModel, data[:n], Magic)
	}
	if len(data) < headerSize {
		return nil, nil, fmt.Errorf("header: %w: file is %d bytes, the header alone is %d", ErrTruncated, len(data), headerSize)
	}
	le := binary.LittleEndian
	h := &header{
		version:  le.Uint32(data[8:]),
		flags:    le.Uint32(data[12:]),
		sections: le.Uint32(data[16:]),
		tableCRC: le.Uint32(data[20:]),
		tableOff: le.Uint64(data[24:]),
		fileSize: le.Uint64(data[32:]),
	}
	if got, want := crc(data[:60]), le.Uint32(data[60:]); got != want {
		return nil, nil, fmt.Errorf("header: %w (computed %08x, stored %08x)", ErrChecksum, got, want)
	}
	if h.version == 0 || h.version > Version {
		if h.version > Version {
			return nil, nil, fmt.Errorf("%w: format version %d is newer than this reader's (%d); load it with a newer edgeinfer", ErrVersion, h.version, Version)
		}
		return nil, nil, fmt.Errorf("%w: format version 0 is invalid", ErrVersion)
	}
	if unknown := h.flags & requiredFlags &^ knownRequiredSet; unknown != 0 {
		return nil, nil, fmt.Errorf("header: required feature flags %#x unknown to this reader; load it with a newer edgeinfer", unknown)
	}
	size := uint64(len(data))
	if h.sections > maxSections {
		return nil, nil, fmt.Errorf("header: %d sections, at most %d allowed", h.sections, maxSections)
	}
	tableLen := uint64(h.sections) * entrySize
	if h.tableOff < headerSize || h.tableOff > size || tableLen > size-h.tableOff {
		return nil, nil, fmt.Errorf("section table: %w: %d entries at offset %d do not fit a %d-byte file", ErrTruncated, h.sections, h.tableOff, size)
	}
	table := data[h.tableOff : h.tableOff+tableLen]
	if got := crc(table); got != h.tableCRC {
		return nil, nil, fmt.Errorf("section table: %w (computed %08x, stored %08x)", ErrChecksum, got, h.tableCRC)
	}
	tableEnd := h.tableOff + tableLen
	entries := make([]entry, h.sections)
	for i := range entries {
		b := table[i*entrySize : (i+1)*entrySize]
		e := entry{
			kind:   le.Uint32(b[0:]),
			flags:  le.Uint32(b[4:]),
			off:    le.Uint64(b[8:]),
			length: le.Uint64(b[16:]),
			crc:    le.Uint32(b[24:]),
		}
		name, err := parseName(b[32 : 32+nameSize])
		if err != nil {
			return nil, nil, fmt.Errorf("section table entry %d: %w", i, err)
		}
		e.name = name
		if want, known := kindNames[e.kind]; known && name != want {
			return nil, nil, fmt.Errorf("section table entry %d: kind %d is %q, named %q", i, e.kind, want, name)
		}
		if e.off < tableEnd {
			return nil, nil, &SectionError{name, fmt.Errorf("offset %d lies inside the header or the section table (which end at %d)", e.off, tableEnd)}
		}
		if e.off%align != 0 {
			return nil, nil, &SectionError{name, fmt.Errorf("offset %d is not a multiple of %d", e.off, align)}
		}
		if e.off > size || e.length > size-e.off {
			return nil, nil, &SectionError{name, fmt.Errorf("%w: %d bytes at offset %d extend past the end of the %d-byte file", ErrTruncated, e.length, e.off, size)}
		}
		entries[i] = e
	}
	if h.fileSize != size {
		if h.fileSize > size {
			return nil, nil, fmt.Errorf("%w: file is %d bytes, the header says %d", ErrTruncated, size, h.fileSize)
		}
		return nil, nil, fmt.Errorf("file is %d bytes, the header says %d: trailing data", size, h.fileSize)
	}
	// Every byte outside the header, the table and the sections is
	// padding and must be zero, so that no byte of the file can change
	// unnoticed.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return entries[order[a]].off < entries[order[b]].off })
	pos, prev := tableEnd, "section table"
	for _, i := range order {
		e := &entries[i]
		if e.off < pos {
			return nil, nil, &SectionError{e.name, fmt.Errorf("bytes %d..%d overlap %s", e.off, e.off+e.length, prev)}
		}
		if err := zeroPadding(data[pos:e.off], pos); err != nil {
			return nil, nil, fmt.Errorf("padding after %s: %w", prev, err)
		}
		pos, prev = e.off+e.length, fmt.Sprintf("section %q", e.name)
	}
	if err := zeroPadding(data[pos:], pos); err != nil {
		return nil, nil, fmt.Errorf("padding after %s: %w", prev, err)
	}
	return h, entries, nil
}

func parseName(b []byte) (string, error) {
	n := bytes.IndexByte(b, 0)
	if n < 0 {
		n = len(b)
	}
	if n == 0 {
		return "", fmt.Errorf("empty section name")
	}
	for i, c := range b {
		if i >= n && c != 0 {
			return "", fmt.Errorf("section name %q is not NUL-padded", b)
		}
		if i < n && (c <= ' ' || c > '~' || c == '"') {
			return "", fmt.Errorf("section name %q has a byte outside printable ASCII", b)
		}
	}
	return string(b[:n]), nil
}

func zeroPadding(b []byte, off uint64) error {
	for i, c := range b {
		if c != 0 {
			return fmt.Errorf("non-zero byte %#02x at offset %d", c, off+uint64(i))
		}
	}
	return nil
}

func alignUp(n uint64) uint64 { return (n + align - 1) &^ (align - 1) }
