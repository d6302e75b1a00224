package asm

// InterleaveRGBF32 sets dst[3q+0], dst[3q+1], dst[3q+2] = r[q], g[q], b[q]
// for q < len(r): three planes of an NCHW image into channels-last pixels
// (the runtime's input copy). g and b hold at least len(r) elements, dst
// at least 3·len(r); dst must not overlap the planes. It does not allocate.
func InterleaveRGBF32(dst, r, g, b []float32) { interleaveRGB(dst, r, g, b, interleave3F32Arch) }

// InterleaveRGB8 is InterleaveRGBF32 for 8-bit elements (a quantised
// model's int8 input, as bytes).
func InterleaveRGB8(dst, r, g, b []byte) { interleaveRGB(dst, r, g, b, interleave3U8Arch) }

// interleaveRGB runs the leading pixels on arch, which returns how many it
// did, and the rest here.
func interleaveRGB[T any](dst, r, g, b []T, arch func(dst, r, g, b []T) int) {
	n := len(r)
	g, b, dst = g[:n], b[:n], dst[:3*n]
	for q := arch(dst, r, g, b); q < n; q++ {
		d := dst[3*q : 3*q+3 : 3*q+3]
		d[0], d[1], d[2] = r[q], g[q], b[q]
	}
}
