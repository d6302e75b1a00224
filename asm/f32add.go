package asm

// AddClampF32 sets dst[i] = min(max(a[i]+b[i], c.Min), c.Max) for
// i < len(dst) (a NaN sum stays NaN, as in Clamp.apply); a and b hold at
// least len(dst) elements and may alias dst. It does not allocate. The
// runtime runs it on each convolution tile's output when an Add is the
// convolution's only reader (ResNet's residual sum, with its fused ReLU).
func AddClampF32(dst, a, b []float32, c Clamp) {
	n := len(dst)
	a, b = a[:n], b[:n]
	for i := addClampF32Arch(dst, a, b, c); i < n; i++ {
		dst[i] = min(max(a[i]+b[i], c.Min), c.Max)
	}
}
