package runtime_test

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/internal/shared"
	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/models/tflite"
	"github.com/edgeinfer/edgeinfer/quant"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// FullImageNetEnv makes the ImageNet tests use all 334 sample images
// (default: the first 60, enough for CI's time budget).
const FullImageNetEnv = "EDGEINFER_FULL_IMAGENET"

// imagenetFiles returns the sample images a test run uses.
func imagenetFiles(t *testing.T) ([]string, map[string]int) {
	files, labels := imagenetLabels(t)
	switch {
	case testing.Short():
		files = files[:20]
	case os.Getenv(FullImageNetEnv) == "":
		files = files[:60]
	}
	return files, labels
}

// imagenetLabels maps sample file names to their 1000-class index.
func imagenetLabels(t *testing.T) (files []string, labels map[string]int) {
	f, err := os.Open(shared.Path(t, "images/imagenet_sample_labels.tsv"))
	require.NoError(t, err)
	defer f.Close()
	labels = map[string]int{}
	sc := bufio.NewScanner(f)
	dir := shared.Path(t, "images/imagenet_sample")
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 {
			continue
		}
		k, err := strconv.Atoi(cols[1])
		if err != nil {
			continue // header
		}
		p := filepath.Join(dir, cols[0])
		labels[p] = k
		files = append(files, p)
	}
	sort.Strings(files)
	return files, labels
}

// top1 returns the best class of output 0 (quantised outputs compare as
// their integer values, which preserves order).
func top1(m *runtime.Model) int {
	t := m.OutputTensor(0)
	best, bestV := 0, 0.0
	for i := 0; i < t.Len(); i++ {
		var v float64
		switch t.DType {
		case ir.Float32:
			v = float64(t.F32[i])
		case ir.Int8:
			v = float64(t.I8[i])
		case ir.Uint8:
			v = float64(t.U8[i])
		}
		if i == 0 || v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// TestTFLiteImageNet checks the documented top-1 results on the classic
// photos and reports top-1 accuracy over the ImageNet sample per model.
func TestTFLiteImageNet(t *testing.T) {
	files, labels := imagenetFiles(t)
	classic := shared.Path(t, "images/classic")
	// Documented in ../shared/images/SOURCES.md (1000-class indices).
	want := map[string]int{"grace_hopper.jpg": 652, "grace_hopper.bmp": 652, "cat.bmp": 285, "parrot.jpg": 88,
		"hot_dog.jpg": 934, "dragonfly.bmp": 319, "pelican.jpeg": 144, "bald_eagle.jpeg": 22}
	for _, c := range tfliteCases {
		if !c.imagenet {
			continue
		}
		t.Run(c.file, func(t *testing.T) {
			p := prepareTFLite(t, c)
			defer p.m.Close()
			hits := 0
			for photo, k := range want {
				p.encode(t, filepath.Join(classic, photo))
				require.NoError(t, p.m.Run())
				if top1(p.m)-c.background == k {
					hits++
				} else {
					t.Logf("%s: top-1 %d, documented %d", photo, top1(p.m)-c.background, k)
				}
			}
			if c.file == "mobilenet_v2_1.0_224_quant.tflite" {
				// SOURCES.md documents these for this model; the rest are reported.
				require.Equal(t, len(want), hits, "classic photos")
				first, ok := 0, 0
				for _, f := range files[:18] {
					p.encode(t, f)
					require.NoError(t, p.m.Run())
					if top1(p.m)-c.background == labels[f] {
						ok++
					}
					first++
				}
				// SOURCES.md documents 17/18 from Arm NN's test tools.
				// TFLite 2.9 itself (tflite-ref) gets 16/18 on Pillow-resized
				// input, and 15–17 depending on the JPEG decoder and resize
				// filter (docs/tflite.md); our outputs equal TFLite's bit for
				// bit (TestTFLiteBitExact), so 16 is the bar here.
				require.GreaterOrEqual(t, ok, 16, "first 18 ImageNet samples (documented 17/18 with Arm NN's preprocessing)")
				t.Logf("first 18 ImageNet samples: %d/18 correct (documented 17/18 with Arm NN's preprocessing)", ok)
			}
			correct := 0
			for _, f := range files {
				p.encode(t, f)
				require.NoError(t, p.m.Run())
				if top1(p.m)-c.background == labels[f] {
					correct++
				}
			}
			t.Logf("%s: classic photos %d/%d as documented; ImageNet sample top-1 %d/%d = %.1f%%",
				c.file, hits, len(want), correct, len(files), 100*float64(correct)/float64(len(files)))
		})
	}
}

// TestPersonDetect: person.bmp → person, no_person.bmp → no person.
func TestPersonDetect(t *testing.T) {
	p := prepareTFLite(t, tfliteCases[4])
	defer p.m.Close()
	dir := shared.Path(t, "images/person_detection")
	for photo, want := range map[string]int{"person.bmp": 1, "no_person.bmp": 0} {
		p.encode(t, filepath.Join(dir, photo))
		require.NoError(t, p.m.Run())
		require.Equal(t, want, top1(p.m), photo)
	}
}

// TestFloatTwinAgreement: the float twin of tf2_mobilenet_v2_1.0_224_ptq
// agrees with the int8 model's top-1 on at least 95 % of the sample.
func TestFloatTwinAgreement(t *testing.T) {
	files, _ := imagenetFiles(t)
	c := tfliteCases[2]
	p := prepareTFLite(t, c)
	defer p.m.Close()
	g, err := tflite.Load(filepath.Join(shared.Path(t, "models/tflite"), c.file))
	require.NoError(t, err)
	tg, err := quant.FloatTwin(g)
	require.NoError(t, err)
	twin, err := runtime.New(tg, runtime.Options{Threads: 2})
	require.NoError(t, err)
	defer twin.Close()
	agree := 0
	for _, f := range files {
		in := p.encode(t, f)
		require.NoError(t, p.m.Run())
		copy(twin.InputBytes(0), in)
		require.NoError(t, twin.Run())
		if top1(p.m) == top1(twin) {
			agree++
		}
	}
	frac := float64(agree) / float64(len(files))
	t.Logf("float twin agrees with int8 top-1 on %d/%d = %.1f%%", agree, len(files), 100*frac)
	require.GreaterOrEqual(t, frac, 0.95)
}
