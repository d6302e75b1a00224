package runtime_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/input"
	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// TFLiteRefEnv names the folder of an installed ../shared/tools/tflite-ref
// (npm install + build_native.sh done): TensorFlow Lite 2.9's own C library,
// the bit-exact reference for quantised models.
const TFLiteRefEnv = "EDGEINFER_TFLITE_REF"

// tfliteCase says how a real model's input is made from an RGB photo
// (resized bilinearly to the model's size, pixels 0..255) — the
// conventions documented in ../shared/models/SOURCES.md.
type tfliteCase struct {
	file   string
	gray   bool
	encode func(pix []float32, q *ir.Quant, dst []byte) // for quantised inputs
	scale  float32                                      // float inputs: pixel / scale
	nchw   bool
	// ImageNet top-1: classes offset (1 when output 0 is "background").
	imagenet   bool
	background int
}

func roundU8(p float32) uint8 { return uint8(min(max(math.Round(float64(p)), 0), 255)) }

var (
	rawU8 = func(pix []float32, _ *ir.Quant, dst []byte) {
		for i, p := range pix {
			dst[i] = roundU8(p)
		}
	}
	// shift128 is the int8 convention of raw-pixel models: q = pixel − 128.
	shift128 = func(pix []float32, _ *ir.Quant, dst []byte) {
		for i, p := range pix {
			dst[i] = roundU8(p) ^ 0x80
		}
	}
	// wrap reinterprets the grey byte as int8 (TFLite Micro's test data).
	wrap = func(pix []float32, _ *ir.Quant, dst []byte) {
		for i, p := range pix {
			dst[i] = roundU8(p)
		}
	}
	// imagenetNorm quantises torchvision's normalised input (NCHW).
	imagenetNorm = func(pix []float32, q *ir.Quant, dst []byte) {
		hw := len(pix) / 3
		for c := 0; c < 3; c++ {
			for i := 0; i < hw; i++ {
				real := (pix[c*hw+i]/255 - input.ImageNetMean[c]) / input.ImageNetStd[c]
				v := math.Round(float64(real/q.Scale[0])) + float64(q.ZeroPoint[0])
				dst[c*hw+i] = byte(int8(min(max(v, -128), 127)))
			}
		}
	}
)

var tfliteCases = []tfliteCase{
	{file: "mobilenet_v2_1.0_224_quant.tflite", encode: rawU8, imagenet: true, background: 1},
	{file: "mobilenet_v1_0.25_128_quant.tflite", encode: rawU8, imagenet: true, background: 1},
	{file: "tf2_mobilenet_v2_1.0_224_ptq.tflite", encode: rawU8, imagenet: true, background: 1},
	{file: "mobilenet_v2_quantized_1x3x224x224.tflite", encode: imagenetNorm, nchw: true, imagenet: true},
	{file: "person_detect.tflite", gray: true, encode: wrap},
	{file: "vww_96_int8.tflite", encode: shift128},
	{file: "vww_96_float.tflite", scale: 255},
	{file: "pretrainedResnet_quant.tflite", encode: shift128},
	{file: "pretrainedResnet.tflite", scale: 1},
}

// photoList returns the classic photos and the first n ImageNet samples.
func photoList(t *testing.T, n int) []string {
	classic, err := filepath.Glob(filepath.Join(shared.Path(t, "images/classic"), "*"))
	require.NoError(t, err)
	samples, err := filepath.Glob(filepath.Join(shared.Path(t, "images/imagenet_sample"), "*.JPEG"))
	require.NoError(t, err)
	sort.Strings(samples)
	return append(classic, samples[:min(n, len(samples))]...)
}

// prepared is one model ready to run, with its input recipe.
type prepared struct {
	c     tfliteCase
	m     *runtime.Model
	info  runtime.TensorInfo
	quant *ir.Quant
	pre   *input.Preprocessor
	pix   []float32
}

func prepareTFLite(t *testing.T, c tfliteCase) *prepared {
	path := filepath.Join(shared.Path(t, "models/tflite"), c.file)
	g, err := tflite.Load(path)
	require.NoError(t, err)
	m, err := runtime.New(g, runtime.Options{Threads: 2})
	require.NoError(t, err)
	info := m.InputInfo(0)
	h, w, ch := info.Shape[1], info.Shape[2], info.Shape[3]
	layout := input.NHWC
	if c.nchw {
		ch, h, w = info.Shape[1], info.Shape[2], info.Shape[3]
		layout = input.NCHW
	}
	pre, err := input.New(input.Spec{Width: w, Height: h, Channels: ch, Scale: 1, Std: [3]float32{1, 1, 1}, Layout: layout, Antialias: true})
	require.NoError(t, err)
	return &prepared{c: c, m: m, info: info, quant: g.Inputs[0].Quant, pre: pre, pix: make([]float32, ir.NumElements(info.Shape))}
}

// encode fills the model input from a photo and returns a copy of the
// input bytes (the memory plan reuses the input buffer during Run).
func (p *prepared) encode(t *testing.T, photo string) []byte {
	img, err := input.Load(photo)
	require.NoError(t, err)
	require.NoError(t, p.pre.Run(img, p.pix))
	if p.info.DType == ir.Float32 {
		in := p.m.Input(0)
		for i, v := range p.pix {
			in[i] = float32(roundU8(v)) / p.c.scale
		}
		return f32Bytes(in)
	}
	raw := p.m.InputBytes(0)
	p.c.encode(p.pix, p.quant, raw)
	return append([]byte(nil), raw...)
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		u := math.Float32bits(x)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return b
}

// tfliteRef runs TFLite 2.9 on raw input bytes and returns output 0's bytes.
func tfliteRef(t *testing.T, bin, model string, in []byte) []byte {
	dir := t.TempDir()
	inPath := filepath.Join(dir, "in.bin")
	require.NoError(t, os.WriteFile(inPath, in, 0o644))
	out, err := exec.Command(bin, model, "run", filepath.Join(dir, "out"), inPath).CombinedOutput()
	require.NoError(t, err, "%s", out)
	b, err := os.ReadFile(filepath.Join(dir, "out_0.bin"))
	require.NoError(t, err)
	return b
}

// patchedModel writes person_detect.tflite with its harmless out-of-range
// quantized_dimension fixed, which TFLite 2.9 otherwise rejects (the
// reference tool's own patch).
func patchedModel(t *testing.T, ref, model string) string {
	out := filepath.Join(t.TempDir(), filepath.Base(model))
	script := `const fs=require('fs');const {patchQuantizedDimension}=require(process.argv[1]+'/lib/tflite_fb');` +
		`fs.writeFileSync(process.argv[3], patchQuantizedDimension(fs.readFileSync(process.argv[2])).buf)`
	b, err := exec.Command("node", "-e", script, ref, model, out).CombinedOutput()
	require.NoError(t, err, "%s", b)
	return out
}

// knownDivergent lists the models whose int8 outputs do not yet equal
// TFLite 2.9's, with what TestTFLiteLayers shows; their figures are
// reported, not asserted, until the kernel named is fixed.
var knownDivergent = map[string]string{}

// TestTFLiteBitExact compares every model in ../shared/models/tflite with
// TensorFlow Lite 2.9's builtin kernels on the classic photos and ImageNet
// samples: quantised outputs must be identical (or differ by one LSB on
// under 1 % of elements, reported), float outputs within 1e-4 relative.
func TestTFLiteBitExact(t *testing.T) {
	ref := os.Getenv(TFLiteRefEnv)
	if ref == "" {
		t.Skipf("%s is not set: install ../shared/tools/tflite-ref (see its README) to run the bit-exact comparison", TFLiteRefEnv)
	}
	bin := filepath.Join(ref, "build", "tflite_native")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("tflite-ref at %s is not built: %v", ref, err)
	}
	n := 50
	if testing.Short() {
		n = 3
	}
	photos := photoList(t, n)
	var report strings.Builder
	for _, c := range tfliteCases {
		t.Run(c.file, func(t *testing.T) {
			p := prepareTFLite(t, c)
			defer p.m.Close()
			model := filepath.Join(shared.Path(t, "models/tflite"), c.file)
			if c.file == "person_detect.tflite" {
				model = patchedModel(t, ref, model)
			}
			differ, total, worst := 0, 0, 0.0
			exact := 0
			for _, photo := range photos {
				in := p.encode(t, photo)
				require.NoError(t, p.m.Run())
				want := tfliteRef(t, bin, model, in)
				info := p.m.OutputInfo(0)
				switch info.DType {
				case ir.Float32:
					got := p.m.Output(0)
					wantF := make([]float32, len(got))
					for i := range wantF {
						wantF[i] = math.Float32frombits(uint32(want[4*i]) | uint32(want[4*i+1])<<8 | uint32(want[4*i+2])<<16 | uint32(want[4*i+3])<<24)
					}
					tol := 1e-4 * math.Max(1, maxAbs(wantF))
					for i := range got {
						worst = math.Max(worst, math.Abs(float64(got[i]-wantF[i])))
					}
					require.LessOrEqual(t, worst, tol, "%s", photo)
					total += len(got)
				default:
					got := p.m.OutputBytes(0)
					require.Equal(t, len(want), len(got))
					same := true
					for i := range got {
						d := float64(int(got[i]) - int(want[i]))
						if info.DType == ir.Int8 {
							d = float64(int(int8(got[i])) - int(int8(want[i])))
						}
						if d != 0 {
							differ++
							same = false
							worst = math.Max(worst, math.Abs(d))
						}
					}
					if same {
						exact++
					}
					total += len(got)
				}
			}
			line := fmt.Sprintf("%-44s %3d photos: %d/%d outputs identical, %d of %d elements differ, max |diff| %g",
				c.file, len(photos), exact, len(photos), differ, total, worst)
			t.Log(line)
			report.WriteString(line + "\n")
			if why, ok := knownDivergent[c.file]; ok {
				t.Logf("known divergence, not asserted: %s", why)
				return
			}
			if p.m.OutputInfo(0).DType != ir.Float32 {
				require.LessOrEqual(t, worst, 1.0, "max LSB difference")
				require.Less(t, float64(differ), 0.01*float64(total), "elements differing by one LSB")
			}
		})
	}
	t.Log("\n" + report.String())
}
