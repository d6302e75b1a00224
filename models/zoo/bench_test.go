package zoo

import (
	"testing"
)

// BenchmarkBuild measures building models with weights; VGG-16's 138 M
// weights dominate.
func BenchmarkBuild(b *testing.B) {
	for _, spec := range []string{"vgg16", "resnet50", "mobilenet_v2"} {
		b.Run(spec, func(b *testing.B) {
			info, err := Describe(spec)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Build(spec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(info.Params)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mweights/s")
		})
	}
}

// BenchmarkDescribe measures counting without weights.
func BenchmarkDescribe(b *testing.B) {
	for _, spec := range []string{"vgg16", "densenet169", "inception_resnet_v2"} {
		b.Run(spec, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Describe(spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNormal measures the ziggurat.
func BenchmarkNormal(b *testing.B) {
	r := splitmix{s: 1}
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += r.normal()
	}
	if s == 42 {
		b.Log(s)
	}
}
