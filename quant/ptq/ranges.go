package ptq

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models/ir"
	"github.com/edgeinfer/edgeinfer/quant"
)

// CalibrateRanges runs the calibration pass of Quantize once for several
// calibration methods and returns, per method, the real range of every
// float value of the prepared graph (Prepare(g)). Passing one of them as
// Options.Ranges with a nil Calibrator gives exactly the model Quantize
// makes with that method (its other options equal), without running the
// float model again: comparing methods costs one calibration pass.
func CalibrateRanges(g *ir.Graph, calib Calibrator, opts Options, methods ...quant.Method) ([]map[string][2]float32, error) {
	if calib == nil || calib.Len() == 0 {
		return nil, fmt.Errorf("no calibration samples")
	}
	protos := make([]quant.Observer, len(methods))
	for i, m := range methods {
		o, err := quant.NewObserver(m)
		if err != nil {
			return nil, err
		}
		protos[i] = o
	}
	fg, err := Prepare(g)
	if err != nil {
		return nil, err
	}
	models := newModelPool(calibrationProbe(fg))
	defer models.close()
	obs, err := calibrate(fg, calib, multiObserver(protos), &opts, models)
	if err != nil {
		return nil, err
	}
	out := make([]map[string][2]float32, len(methods))
	for i := range out {
		out[i] = map[string][2]float32{}
	}
	for name, o := range obs {
		for i, oi := range o.(multiObserver) {
			lo, hi := oi.Range()
			out[i][name] = [2]float32{lo, hi}
		}
	}
	return out, nil
}

// multiObserver feeds every value to several observers.
type multiObserver []quant.Observer

func (m multiObserver) Observe(x []float32) {
	for _, o := range m {
		o.Observe(x)
	}
}

func (m multiObserver) Range() (float32, float32) { return m[0].Range() }

func (m multiObserver) Merge(o quant.Observer) error {
	mo, ok := o.(multiObserver)
	if !ok || len(mo) != len(m) {
		return fmt.Errorf("merge: not the same observers")
	}
	for i := range m {
		if err := m[i].Merge(mo[i]); err != nil {
			return err
		}
	}
	return nil
}

func (m multiObserver) New() quant.Observer {
	n := make(multiObserver, len(m))
	for i, o := range m {
		n[i] = o.New()
	}
	return n
}

func (m multiObserver) Name() string {
	s := ""
	for i, o := range m {
		if i > 0 {
			s += "+"
		}
		s += o.Name()
	}
	return s
}
