package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopyPlanTransposes checks copy plans against an element-by-element
// model on layout transposes: NCHW → NHWC with 1–5 channels (the
// interleave fast path takes 2–4), NHWC → NCHW, and random permutations,
// for float32 and byte elements.
func TestCopyPlanTransposes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	type tc struct {
		shape []int // logical [N, C, H, W]
		perm  []int // dst dims order
	}
	var cases []tc
	for c := 1; c <= 5; c++ {
		cases = append(cases, tc{[]int{1, c, 5, 7}, []int{0, 2, 3, 1}}, tc{[]int{2, c, 3, 4}, []int{0, 2, 3, 1}},
			tc{[]int{1, c, 4, 6}, []int{0, 3, 1, 2}})
	}
	for i := 0; i < 20; i++ {
		cases = append(cases, tc{[]int{1 + r.IntN(2), 1 + r.IntN(5), 1 + r.IntN(6), 1 + r.IntN(6)}, r.Perm(4)})
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.shape, c.perm), func(t *testing.T) {
			// Source: contiguous in logical order. Destination: contiguous
			// in perm order, addressed through logical strides.
			n := 1
			for _, d := range c.shape {
				n *= d
			}
			src := make([]int, 4)
			for i, s := 3, 1; i >= 0; i-- {
				src[i], s = s, s*c.shape[i]
			}
			dst := make([]int, 4)
			for i, s := 3, 1; i >= 0; i-- {
				dst[c.perm[i]], s = s, s*c.shape[c.perm[i]]
			}
			p := newCopyPlan(c.shape, dst, src)
			if ch := c.shape[1]; c.shape[0] == 1 && fmt.Sprint(c.perm) == "[0 2 3 1]" && ch >= 2 && ch <= 4 {
				require.Equal(t, ch, p.planes, "NCHW → NHWC of one image takes the interleave path")
			}
			in := make([]float32, n)
			inb := make([]byte, n)
			for i := range in {
				in[i], inb[i] = float32(i), byte(i*7)
			}
			want := make([]float32, n)
			wantb := make([]byte, n)
			var idx [4]int
			for idx[0] = 0; idx[0] < c.shape[0]; idx[0]++ {
				for idx[1] = 0; idx[1] < c.shape[1]; idx[1]++ {
					for idx[2] = 0; idx[2] < c.shape[2]; idx[2]++ {
						for idx[3] = 0; idx[3] < c.shape[3]; idx[3]++ {
							so, do := 0, 0
							for k := range idx {
								so += idx[k] * src[k]
								do += idx[k] * dst[k]
							}
							want[do], wantb[do] = in[so], inb[so]
						}
					}
				}
			}
			got := make([]float32, n)
			gotb := make([]byte, n)
			p.f32(got, in)
			p.bytes(gotb, inb, 1)
			require.Equal(t, want, got)
			require.Equal(t, wantb, gotb)
		})
	}
}
