package native_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/native"
	"github.com/edgeinfer/edgeinfer/models/onnx"
)

// imageNet is torchvision's ImageNet preprocessing at 224×224.
var imageNet = &native.Preprocess{
	Width: 224, Height: 224, Channels: 3, Layout: native.LayoutNCHW,
	Mean:  [3]float32{0.485, 0.456, 0.406},
	Std:   [3]float32{0.229, 0.224, 0.225},
	Scale: 255, ResizeShorter: 256,
}

// roundTrip writes g as an .eim file and loads it back; the mapping is
// closed when the test ends.
func roundTrip(t *testing.T, m *native.Model) *native.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.eim")
	require.NoError(t, native.Write(path, m))
	st, err := os.Stat(path)
	require.NoError(t, err)
	t.Logf("%s: %d bytes", filepath.Base(path), st.Size())
	got, c, err := native.Load(path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return got
}

// TestMobileNetV2RoundTrip stores a real model read by the ONNX reader and
// compares the loaded graph structurally and every initializer byte for
// byte.
func TestMobileNetV2RoundTrip(t *testing.T) {
	src := shared.Path(t, "fixtures/mobilenet_v2/model.onnx")
	g, err := onnx.Load(src)
	require.NoError(t, err)
	labels := make([]string, 1000)
	for i := range labels {
		labels[i] = fmt.Sprintf("class %d", i)
	}
	m := &native.Model{
		Graph: g, Preprocess: imageNet, Labels: labels,
		Meta: map[string]string{"producer": "native test", "source": src},
	}
	got := roundTrip(t, m)
	native.RequireModelsEqual(t, m, got)
	require.Len(t, got.Graph.Initializers, len(g.Initializers))
}

// BenchmarkLoad maps, verifies and decodes a real model: on a board this
// is the start-up cost, dominated by the CRC over the weights.
func BenchmarkLoad(b *testing.B) {
	g, err := onnx.Load(shared.Path(b, "fixtures/mobilenet_v2/model.onnx"))
	require.NoError(b, err)
	path := filepath.Join(b.TempDir(), "model.eim")
	require.NoError(b, native.Write(path, &native.Model{Graph: g}))
	st, err := os.Stat(path)
	require.NoError(b, err)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		_, c, err := native.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/load")
}

// BenchmarkWrite writes a real model atomically (fsync included).
func BenchmarkWrite(b *testing.B) {
	g, err := onnx.Load(shared.Path(b, "fixtures/mobilenet_v2/model.onnx"))
	require.NoError(b, err)
	m := &native.Model{Graph: g}
	path := filepath.Join(b.TempDir(), "model.eim")
	data, err := native.Encode(m)
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if err := native.Write(path, m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/write")
}
