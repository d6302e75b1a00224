package actions

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestParseCondition(t *testing.T) {
	for in, want := range map[string]Condition{
		"person>=0.7":       {Class: "person", Op: GE, Threshold: 0.7},
		"person > 0.5":      {Class: "person", Op: GT, Threshold: 0.5},
		" 281 <= 0.25 ":     {Class: "281", Op: LE, Threshold: 0.25},
		"tabby cat<1e-3":    {Class: "tabby cat", Op: LT, Threshold: 0.001},
		"dog>=-1":           {Class: "dog", Op: GE, Threshold: -1},
		"traffic light>=.9": {Class: "traffic light", Op: GE, Threshold: 0.9},
	} {
		got, err := ParseCondition(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "person", "person=0.7", ">=0.7", "person>=", "person>=abc", "person>=0.7>1", "person>=NaN", "person>=Inf", "person=>0.7"} {
		_, err := ParseCondition(bad)
		require.Error(t, err, bad)
	}
	c, _ := ParseCondition("person >= 0.70")
	require.Equal(t, "person>=0.7", c.String())
}

func TestBindAndEval(t *testing.T) {
	labels := []string{"background", "person", "tabby, tabby cat", "Dog", "crane", "crane"}
	bind := func(s string, offset int) (Condition, error) {
		c, err := ParseCondition(s)
		require.NoError(t, err)
		return c, c.Bind(labels, 5, offset)
	}
	c, err := bind("person>=0.5", 0)
	require.NoError(t, err)
	require.Equal(t, []int{1}, c.Indices)
	c, err = bind("dog>=0.5", 0) // case-insensitive
	require.NoError(t, err)
	require.Equal(t, []int{3}, c.Indices)
	c, err = bind("tabby cat>=0.5", 0) // a synonym
	require.NoError(t, err)
	require.Equal(t, []int{2}, c.Indices)
	c, err = bind("person>=0.5", 1) // background line: label i is output i-1
	require.NoError(t, err)
	require.Equal(t, []int{0}, c.Indices)
	c, err = bind("crane>=0.5", 0) // outside the 5 classes: index 5 is dropped
	require.NoError(t, err)
	require.Equal(t, []int{4}, c.Indices)
	c, err = bind("4>=0.5", 0)
	require.NoError(t, err)
	require.Equal(t, []int{4}, c.Indices)
	_, err = bind("5>=0.5", 0)
	require.ErrorContains(t, err, "outside the model's 5 classes")
	_, err = bind("cat>=0.5", 0)
	require.ErrorContains(t, err, `no label "cat"`)
	c, _ = ParseCondition("person>0.5")
	require.ErrorContains(t, c.Bind(nil, 5, 0), "--labels")

	// The score of a class with several indices is the highest.
	c = Condition{Class: "x", Op: GE, Threshold: 0.5, Indices: []int{0, 2}}
	holds, score := c.Eval([]float64{0.1, 0.9, 0.6})
	require.True(t, holds)
	require.Equal(t, 0.6, score)
	for _, cs := range []struct {
		op    Op
		score float64
		want  bool
	}{
		{GE, 0.5, true}, {GE, 0.49, false}, {GT, 0.5, false}, {GT, 0.51, true},
		{LE, 0.5, true}, {LE, 0.51, false}, {LT, 0.5, false}, {LT, 0.49, true},
		{GE, math.NaN(), false}, {LT, math.NaN(), false},
	} {
		c := Condition{Op: cs.op, Threshold: 0.5, Indices: []int{0}}
		got, _ := c.Eval([]float64{cs.score})
		require.Equal(t, cs.want, got, "%v %v", cs.op, cs.score)
	}
	// An index past the scores never holds.
	c = Condition{Op: LT, Threshold: 0.5, Indices: []int{9}}
	got, _ := c.Eval([]float64{0.1})
	require.False(t, got)
}

func TestTrigger(t *testing.T) {
	var tr Trigger
	var edges []Edge
	for _, v := range []bool{false, true, true, false, false, true, false} {
		edges = append(edges, tr.Update(v))
	}
	require.Equal(t, []Edge{NoEdge, Rising, NoEdge, Falling, NoEdge, Rising, Falling}, edges)
	require.False(t, tr.High())
}

// TestControllerDrivesPin: the pin is high exactly while the condition
// holds, set low at the start and on Close.
func TestControllerDrivesPin(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17", Num: 17, L: gpio.High}
	g, err := NewGPIO(pin, "GPIO17")
	require.NoError(t, err)
	require.Equal(t, gpio.Low, pin.Read(), "NewGPIO sets the pin low")
	var log bytes.Buffer
	dry := NewDryRun(&log, "GPIO17")
	c := Condition{Class: "person", Op: GE, Threshold: 0.7, Indices: []int{1}}
	ctl := NewController(c, g, dry)
	seq := []float64{0.1, 0.8, 0.9, 0.69, 0.7, 0.2}
	want := []gpio.Level{gpio.Low, gpio.High, gpio.High, gpio.Low, gpio.High, gpio.Low}
	wantEdges := []Edge{NoEdge, Rising, NoEdge, Falling, Rising, Falling}
	for i, s := range seq {
		e, err := ctl.Update(i, time.Unix(0, 0), []float64{0, s})
		require.NoError(t, err)
		require.Equal(t, wantEdges[i], e, "frame %d", i)
		require.Equal(t, want[i], pin.Read(), "frame %d score %v", i, s)
	}
	_, _ = ctl.Update(6, time.Unix(0, 0), []float64{0, 0.99})
	require.Equal(t, gpio.High, pin.Read())
	require.NoError(t, ctl.Close())
	require.Equal(t, gpio.Low, pin.Read(), "Close drives the pin low")
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	require.Equal(t, []string{
		"dry-run: frame 1: person>=0.7 holds (score 0.8000): GPIO17 -> high",
		"dry-run: frame 3: person>=0.7 no longer holds (score 0.6900): GPIO17 -> low",
		"dry-run: frame 4: person>=0.7 holds (score 0.7000): GPIO17 -> high",
		"dry-run: frame 5: person>=0.7 no longer holds (score 0.2000): GPIO17 -> low",
		"dry-run: frame 6: person>=0.7 holds (score 0.9900): GPIO17 -> high",
		"dry-run: exit: GPIO17 -> low",
	}, lines)
}

// TestExecBounded: a command runs on each rising edge, never two at once;
// edges while it runs are skipped.
func TestExecBounded(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "runs")
	gate := filepath.Join(dir, "gate")
	// Each run appends its frame and waits until the gate file exists.
	cmd := `echo "$EDGEINFER_FRAME $EDGEINFER_CLASS $EDGEINFER_SCORE" >> ` + marker + `; while [ ! -e ` + gate + ` ]; do sleep 0.01; done`
	var mu sync.Mutex
	var exits []error
	e := &Exec{Command: cmd, OnExit: func(err error) { mu.Lock(); exits = append(exits, err); mu.Unlock() }}
	c := Condition{Class: "person", Op: GE, Threshold: 0.5, Indices: []int{0}}
	ctl := NewController(c, e)
	up, down := []float64{0.9}, []float64{0.1}
	for i, s := range [][]float64{up, down, up, down, up} { // three rising edges
		_, err := ctl.Update(i, time.Now(), s)
		require.NoError(t, err)
	}
	require.Equal(t, 1, e.Runs)
	require.Equal(t, 2, e.Skipped)
	require.NoError(t, os.WriteFile(gate, nil, 0o644))
	e.Wait()
	_, _ = ctl.Update(5, time.Now(), down)
	_, _ = ctl.Update(6, time.Now(), up) // runs again now that the first finished
	e.Wait()
	require.NoError(t, ctl.Close())
	require.Equal(t, 2, e.Runs)
	b, err := os.ReadFile(marker)
	require.NoError(t, err)
	require.Equal(t, "0 person 0.9000\n6 person 0.9000\n", string(b))
	mu.Lock()
	require.Equal(t, []error{nil, nil}, exits)
	mu.Unlock()
}

func TestExecCloseKills(t *testing.T) {
	e := &Exec{Command: "sleep 30", Grace: 50 * time.Millisecond}
	require.NoError(t, e.Edge(Event{Edge: Rising}))
	t0 := time.Now()
	err := e.Close()
	require.ErrorContains(t, err, "killed")
	require.Less(t, time.Since(t0), 10*time.Second)
	require.NoError(t, (&Exec{Command: "true"}).Close(), "nothing started")
}

func TestParsePinSpec(t *testing.T) {
	for in, want := range map[string]PinSpec{
		"GPIO17":              {Name: "GPIO17"},
		"17":                  {Name: "17"},
		"gpiochip0:17":        {Chip: "gpiochip0", Line: 17},
		"/dev/gpiochip4:0":    {Chip: "gpiochip4", Line: 0},
		"gpiochip1:LED_GREEN": {Chip: "gpiochip1", Line: -1, LineName: "LED_GREEN"},
	} {
		got, err := ParsePinSpec(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "chip0:17", "gpiochip:17", "gpiochipX:1", "gpiochip0:", "gpiochip0:-1"} {
		_, err := ParsePinSpec(bad)
		require.Error(t, err, bad)
	}
	p, _ := ParsePinSpec("/dev/gpiochip0:17")
	require.Equal(t, "gpiochip0:17", p.String())
}

// TestOpenPinReal opens a pin of the machine when EDGEINFER_GPIO names one
// (e.g. a gpio-sim line, gpiochip0:3) and toggles it; otherwise it only
// checks that a missing pin is a clear error.
func TestOpenPinReal(t *testing.T) {
	spec := os.Getenv("EDGEINFER_GPIO")
	if spec == "" {
		_, err := OpenPin("gpiochip99:0")
		require.ErrorContains(t, err, "gpiochip99")
		_, err = OpenPin("NO_SUCH_PIN_NAME")
		require.ErrorContains(t, err, "no such pin")
		t.Skip("EDGEINFER_GPIO not set (e.g. gpiochip0:3 on a gpio-sim chip): no real pin toggled")
	}
	pin, err := OpenPin(spec)
	require.NoError(t, err)
	g, err := NewGPIO(pin, spec)
	require.NoError(t, err)
	require.NoError(t, g.Edge(Event{Edge: Rising}))
	require.NoError(t, g.Edge(Event{Edge: Falling}))
	require.NoError(t, g.Close())
}
