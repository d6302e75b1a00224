package native

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The structured sections (graph, tensors, meta) are sequences of these
// primitives (FORMAT.md, "Encoding"):
//
//	uvarint   unsigned LEB128, as encoding/binary.AppendUvarint
//	varint    zig-zag signed LEB128, as encoding/binary.AppendVarint
//	f32       4 bytes, IEEE-754 bits little-endian (NaN payloads kept)
//	u8        one byte
//	string    uvarint byte length, then the bytes
//	count     uvarint element count
//	list      uvarint 0 for an absent (nil) list, n+1 for n elements
//
// Lists keep the difference between nil and empty so that a graph comes
// back exactly as it was written (a nil Shape is an unknown rank, an empty
// one a scalar).

const maxInt = int(^uint(0) >> 1)

// encoder appends primitives to b.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)       { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) f32(v float32)    { e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(v)) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) count(n int)      { e.uvarint(uint64(n)) }
func (e *encoder) list(n int, isNil bool) {
	if isNil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(n) + 1)
}

// decoder reads primitives from b. The first error sticks: later reads
// return zero values, so callers check err once per record. Counts are
// checked against the bytes left before the caller allocates.
type decoder struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("unexpected end of data")

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("byte %d: %w", d.off, err)
	}
}

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) u8() uint8 {
	if d.err != nil {
		return 0
	}
	if d.left() < 1 {
		d.fail(errShort)
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		if n == 0 {
			d.fail(errShort)
		} else {
			d.fail(errors.New("varint overflows 64 bits"))
		}
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		if n == 0 {
			d.fail(errShort)
		} else {
			d.fail(errors.New("varint overflows 64 bits"))
		}
		return 0
	}
	d.off += n
	return v
}

// int reads a varint that must fit an int on this platform (32 bits on
// arm).
func (d *decoder) int(what string) int {
	v := d.varint()
	if v < -int64(maxInt)-1 || v > int64(maxInt) {
		d.fail(fmt.Errorf("%s %d does not fit an int", what, v))
		return 0
	}
	return int(v)
}

// uint reads a uvarint that must fit a non-negative int.
func (d *decoder) uint(what string) int {
	v := d.uvarint()
	if v > uint64(maxInt) {
		d.fail(fmt.Errorf("%s %d does not fit an int", what, v))
		return 0
	}
	return int(v)
}

func (d *decoder) f32() float32 {
	if d.err != nil {
		return 0
	}
	if d.left() < 4 {
		d.fail(errShort)
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return math.Float32frombits(v)
}

// str returns a copy of a string: names must outlive a mapping that Close
// releases.
func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(d.left()) {
		d.fail(fmt.Errorf("string of %d bytes with %d left", n, d.left()))
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

// count reads an element count; each element takes at least minSize
// bytes, so a count the remaining bytes cannot hold is an error before
// anything is allocated.
func (d *decoder) count(minSize int) int {
	return d.checkCount(d.uvarint(), minSize)
}

// list reads a list length (0 = nil, n+1 = n elements).
func (d *decoder) list(minSize int) (n int, isNil bool) {
	v := d.uvarint()
	if d.err != nil || v == 0 {
		return 0, true
	}
	return d.checkCount(v-1, minSize), false
}

func (d *decoder) checkCount(n uint64, minSize int) int {
	if d.err != nil {
		return 0
	}
	if n > uint64(d.left()/minSize) {
		d.fail(fmt.Errorf("count %d needs at least %d bytes per element, %d bytes left", n, minSize, d.left()))
		return 0
	}
	return int(n)
}

// done reports trailing bytes as an error.
func (d *decoder) done() error {
	if d.err == nil && d.left() != 0 {
		d.fail(fmt.Errorf("%d unexpected trailing bytes", d.left()))
	}
	return d.err
}
