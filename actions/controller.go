package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Event is one transition of a condition.
type Event struct {
	Frame int
	Time  time.Time
	Cond  Condition
	Score float64
	Edge  Edge
}

// Output reacts to a condition's edges.
type Output interface {
	// Edge is called on every rising and falling edge, in order.
	Edge(ev Event) error
	// Close leaves the output in its idle state (low) and releases it.
	Close() error
	// String names the output in messages.
	String() string
}

// Controller evaluates a condition per frame and passes its edges to the
// outputs.
type Controller struct {
	cond    Condition
	trig    Trigger
	outs    []Output
	last    Event
	started bool
}

// NewController returns a Controller for c (already bound) driving outs.
func NewController(c Condition, outs ...Output) *Controller {
	return &Controller{cond: c, outs: outs}
}

// Condition returns the controller's condition.
func (c *Controller) Condition() Condition { return c.cond }

// Update evaluates the condition on one frame's scores and reports an
// edge to every output. It returns the edge and the outputs' errors.
func (c *Controller) Update(frame int, t time.Time, scores []float64) (Edge, error) {
	holds, score := c.cond.Eval(scores)
	e := c.trig.Update(holds)
	if e == NoEdge {
		return e, nil
	}
	ev := Event{Frame: frame, Time: t, Cond: c.cond, Score: score, Edge: e}
	c.last = ev
	var errs []error
	for _, o := range c.outs {
		if err := o.Edge(ev); err != nil {
			errs = append(errs, fmt.Errorf("%v: %w", o, err))
		}
	}
	return e, errors.Join(errs...)
}

// High reports whether the condition currently holds.
func (c *Controller) High() bool { return c.trig.High() }

// Close closes every output (GPIO pins go low).
func (c *Controller) Close() error {
	var errs []error
	for _, o := range c.outs {
		if err := o.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%v: %w", o, err))
		}
	}
	return errors.Join(errs...)
}

// GPIO drives a pin high while the condition holds.
type GPIO struct {
	pin  gpio.PinOut
	name string
}

// NewGPIO drives pin (named name in messages) and sets it low now, so the
// output starts in a known state.
func NewGPIO(pin gpio.PinOut, name string) (*GPIO, error) {
	g := &GPIO{pin: pin, name: name}
	if err := pin.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("gpio %s: set low: %w", name, err)
	}
	return g, nil
}

func (g *GPIO) String() string { return "gpio " + g.name }

// Edge sets the pin high on a rising edge and low on a falling one.
func (g *GPIO) Edge(ev Event) error {
	return g.pin.Out(ev.Edge == Rising)
}

// Close sets the pin low and releases it when the pin can be released.
func (g *GPIO) Close() error {
	err := g.pin.Out(gpio.Low)
	switch p := g.pin.(type) {
	case interface{ Close() error }:
		err = errors.Join(err, p.Close())
	case interface{ Close() }:
		p.Close()
	}
	return err
}

// DryRun prints the transitions a pin would make instead of driving it.
type DryRun struct {
	w    io.Writer
	name string
	high bool
}

// NewDryRun reports the transitions of output name to w.
func NewDryRun(w io.Writer, name string) *DryRun { return &DryRun{w: w, name: name} }

func (d *DryRun) String() string { return "dry-run " + d.name }

// Edge prints the transition.
func (d *DryRun) Edge(ev Event) error {
	d.high = ev.Edge == Rising
	level := "low"
	if d.high {
		level = "high"
	}
	_, err := fmt.Fprintf(d.w, "dry-run: frame %d: %v %s (score %.4f): %s -> %s\n",
		ev.Frame, ev.Cond, map[bool]string{true: "holds", false: "no longer holds"}[d.high], ev.Score, d.name, level)
	return err
}

// Close reports the final low level if the output was high.
func (d *DryRun) Close() error {
	if d.high {
		_, err := fmt.Fprintf(d.w, "dry-run: exit: %s -> low\n", d.name)
		d.high = false
		return err
	}
	return nil
}

// Exec runs a command through /bin/sh on each rising edge. At most one
// instance runs at a time: an edge while the previous command is still
// running is skipped (and counted). The command sees EDGEINFER_CLASS,
// EDGEINFER_SCORE, EDGEINFER_FRAME and EDGEINFER_TIME (RFC 3339) in its
// environment; its output goes to Stdout and Stderr.
type Exec struct {
	Command        string
	Stdout, Stderr io.Writer
	// Timeout bounds one run (0: none); Close waits at most Grace for a
	// running command before killing it.
	Timeout, Grace time.Duration

	mu      sync.Mutex
	running bool
	done    chan struct{}
	cancel  context.CancelFunc
	// Runs, Skipped and Failed count started, skipped and failed runs.
	Runs, Skipped, Failed int
	// OnExit, when set, is called after each run with its error.
	OnExit func(err error)
}

func (e *Exec) String() string { return "exec " + strconv.Quote(e.Command) }

// Edge starts the command on a rising edge unless it is still running.
func (e *Exec) Edge(ev Event) error {
	if ev.Edge != Rising {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running {
		e.Skipped++
		return nil
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if e.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, e.Timeout)
	}
	ctx, cancel2 := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", e.Command)
	cmd.Stdout, cmd.Stderr = e.Stdout, e.Stderr
	cmd.Env = append(os.Environ(),
		"EDGEINFER_CLASS="+ev.Cond.Class,
		"EDGEINFER_SCORE="+strconv.FormatFloat(ev.Score, 'f', 4, 64),
		"EDGEINFER_FRAME="+strconv.Itoa(ev.Frame),
		"EDGEINFER_TIME="+ev.Time.Format(time.RFC3339Nano),
	)
	if err := cmd.Start(); err != nil {
		cancel2()
		cancel()
		e.Failed++
		return fmt.Errorf("start: %w", err)
	}
	e.running = true
	e.Runs++
	e.done = make(chan struct{})
	e.cancel = func() { cancel2(); cancel() }
	go func(done chan struct{}) {
		err := cmd.Wait()
		e.mu.Lock()
		e.running = false
		if err != nil {
			e.Failed++
		}
		e.cancel()
		e.mu.Unlock()
		if e.OnExit != nil {
			e.OnExit(err)
		}
		close(done)
	}(e.done)
	return nil
}

// Wait waits for a running command to finish.
func (e *Exec) Wait() {
	e.mu.Lock()
	done := e.done
	e.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Close waits up to Grace (default 5 s) for a running command, then
// kills it.
func (e *Exec) Close() error {
	e.mu.Lock()
	done, cancel := e.done, e.cancel
	e.mu.Unlock()
	if done == nil {
		return nil
	}
	grace := e.Grace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	select {
	case <-done:
	case <-time.After(grace):
		cancel()
		<-done
		return fmt.Errorf("command still running after %v: killed", grace)
	}
	return nil
}
