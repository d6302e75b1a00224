package runtime_test

import (
	"os"
	"path/filepath"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// fbField returns the absolute position of field slot of the table at tab
// (0 when absent).
func fbField(buf []byte, tab flatbuffers.UOffsetT, slot int) flatbuffers.UOffsetT {
	t := flatbuffers.Table{Bytes: buf, Pos: tab}
	o := flatbuffers.UOffsetT(t.Offset(flatbuffers.VOffsetT(4 + 2*slot)))
	if o == 0 {
		return 0
	}
	return tab + o
}

// retargetOutput returns a copy of a .tflite model whose subgraph-0 output
// is the tensor named name, so TFLite itself computes any intermediate
// tensor (schema: Model.subgraphs = field 2; SubGraph.tensors = 0,
// outputs = 2; Tensor.name = 3). It returns nil when the file has no such
// tensor.
func retargetOutput(t *testing.T, buf []byte, name string) []byte {
	buf = append([]byte(nil), buf...)
	vec := func(field flatbuffers.UOffsetT) flatbuffers.UOffsetT {
		return field + flatbuffers.GetUOffsetT(buf[field:])
	}
	sgv := vec(fbField(buf, flatbuffers.GetUOffsetT(buf), 2))
	sg0 := sgv + 4 + flatbuffers.GetUOffsetT(buf[sgv+4:])
	tv := vec(fbField(buf, sg0, 0))
	idx := -1
	for i := 0; i < int(flatbuffers.GetUOffsetT(buf[tv:])); i++ {
		e := tv + 4 + flatbuffers.UOffsetT(4*i)
		s := vec(fbField(buf, e+flatbuffers.GetUOffsetT(buf[e:]), 3))
		if l := flatbuffers.GetUOffsetT(buf[s:]); string(buf[s+4:s+4+l]) == name {
			idx = i
		}
	}
	if idx < 0 {
		return nil // a value the reader made up (e.g. a split QUANTIZE)
	}
	ov := vec(fbField(buf, sg0, 2))
	flatbuffers.WriteInt32(buf[ov+4:], int32(idx))
	return buf
}

// TestTFLiteLayers compares every layer's output of each quantised model
// with TensorFlow Lite's own value of that tensor on one photo — the tool
// that finds which kernel's arithmetic departs from TFLite's. It reports;
// TestTFLiteBitExact asserts on the final outputs.
func TestTFLiteLayers(t *testing.T) {
	ref := os.Getenv(TFLiteRefEnv)
	if ref == "" || testing.Short() {
		t.Skipf("needs %s and no -short", TFLiteRefEnv)
	}
	bin := filepath.Join(ref, "build", "tflite_native")
	photo := filepath.Join(shared.Path(t, "images/classic"), "cat.bmp")
	for _, c := range tfliteCases {
		if c.encode == nil || c.file == "person_detect.tflite" {
			continue
		}
		t.Run(c.file, func(t *testing.T) {
			p := prepareTFLite(t, c)
			defer p.m.Close()
			in := p.encode(t, photo)
			path := filepath.Join(shared.Path(t, "models/tflite"), c.file)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			g, err := tflite.Load(path)
			require.NoError(t, err)
			mp := filepath.Join(t.TempDir(), "m.tflite")
			for _, nd := range g.Nodes {
				if nd.Op == "Transpose" || nd.Op == "Reshape" || nd.Op == "Squeeze" {
					continue
				}
				name := nd.Outputs[0]
				info := g.ValueInfo[name]
				retargeted := retargetOutput(t, data, name)
				if retargeted == nil {
					continue
				}
				g2, err := tflite.Load(path)
				require.NoError(t, err)
				g2.Outputs = []*ir.ValueInfo{{Name: name, DType: info.DType}}
				m, err := runtime.New(g2, runtime.Options{})
				require.NoError(t, err)
				copy(m.InputBytes(0), in)
				require.NoError(t, m.Run())
				got := m.OutputBytes(0)
				require.NoError(t, os.WriteFile(mp, retargeted, 0o644))
				want := tfliteRef(t, bin, mp, in)
				sh := m.OutputInfo(0).Shape
				differ, worst := 0, 0
				for i := range got {
					j := i
					if len(sh) == 4 { // ours NCHW, TFLite NHWC
						ch, h, w := sh[1], sh[2], sh[3]
						j = ((i/w)%h*w+i%w)*ch + i/(h*w)
					}
					d := int(got[i]) - int(want[j])
					if info.DType == ir.Int8 {
						d = int(int8(got[i])) - int(int8(want[j]))
					}
					if d != 0 {
						differ++
						worst = max(worst, d, -d)
					}
				}
				m.Close()
				t.Logf("%-12s %-18v %7d of %7d differ, max %d LSB  (%s)", nd.Op, sh, differ, len(got), worst, name)
			}
		})
	}
}
