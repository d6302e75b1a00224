// Package actions turns predictions into effects on the board: a
// condition on a class score ("person>=0.7") drives a GPIO output pin high
// while it holds and low otherwise, and can run a command on each rising
// edge.
//
//	c, err := actions.ParseCondition("person>=0.7")
//	err = c.Bind(labels, numClasses)
//	pin, err := actions.OpenPin("GPIO17") // or "gpiochip0:17"
//	ctl := actions.NewController(c, actions.NewGPIO(pin, "GPIO17"))
//	for each frame { err = ctl.Update(frame, time.Now(), scores) }
//	ctl.Close() // drives the pin low and releases it
package actions

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Op is a comparison.
type Op uint8

// The comparisons a condition can use.
const (
	GE Op = iota // score >= threshold
	GT           // score > threshold
	LE           // score <= threshold
	LT           // score < threshold
)

func (o Op) String() string {
	return [...]string{">=", ">", "<=", "<"}[o&3]
}

func (o Op) holds(score, threshold float64) bool {
	switch o {
	case GE:
		return score >= threshold
	case GT:
		return score > threshold
	case LE:
		return score <= threshold
	}
	return score < threshold
}

// Condition compares the score of a class with a threshold. The class is
// named by its label or by its output index.
type Condition struct {
	// Class is the label or index as written.
	Class     string
	Op        Op
	Threshold float64
	// Indices are the output indices the class resolves to (Bind): the
	// score is the highest among them, so a label that several classes
	// share ("crane", or a detector's per-anchor copies) matches any.
	Indices []int
}

// ParseCondition parses CLASS OP THRESHOLD, with OP one of >=, >, <=, <
// and CLASS a label ("person", "tabby cat") or a class index ("281").
// Spaces around the parts are ignored.
func ParseCondition(s string) (Condition, error) {
	var c Condition
	i := strings.IndexAny(s, "<>")
	if i < 0 {
		return c, fmt.Errorf("condition %q: want CLASS>=SCORE (or >, <=, <), e.g. person>=0.7", s)
	}
	c.Class = strings.TrimSpace(s[:i])
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, ">="):
		c.Op, rest = GE, rest[2:]
	case strings.HasPrefix(rest, "<="):
		c.Op, rest = LE, rest[2:]
	case strings.HasPrefix(rest, ">"):
		c.Op, rest = GT, rest[1:]
	default:
		c.Op, rest = LT, rest[1:]
	}
	if strings.HasSuffix(c.Class, "=") || strings.HasSuffix(c.Class, "!") {
		return c, fmt.Errorf("condition %q: unknown comparison; want >=, >, <= or <", s)
	}
	if c.Class == "" {
		return c, fmt.Errorf("condition %q: no class before %v (a label such as person, or an output index)", s, c.Op)
	}
	rest = strings.TrimSpace(rest)
	t, err := strconv.ParseFloat(rest, 64)
	if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
		return c, fmt.Errorf("condition %q: threshold %q is not a number", s, rest)
	}
	if strings.ContainsAny(rest, "<>=") {
		return c, fmt.Errorf("condition %q: one comparison only", s)
	}
	c.Threshold = t
	return c, nil
}

func (c Condition) String() string {
	return fmt.Sprintf("%s%v%g", c.Class, c.Op, c.Threshold)
}

// Bind resolves the class against the model's labels (nil when there are
// none) and class count. An all-digit class is an index; otherwise it
// matches a label exactly, else case-insensitively, else one of a label's
// comma-separated synonyms ("tabby, tabby cat"). offset is added to label
// line numbers (1 when the label file has a leading "background" line the
// output lacks).
func (c *Condition) Bind(labels []string, classes, offset int) error {
	c.Indices = c.Indices[:0]
	if n, err := strconv.Atoi(c.Class); err == nil {
		if n < 0 || n >= classes {
			return fmt.Errorf("condition %v: class index %d outside the model's %d classes", c, n, classes)
		}
		c.Indices = append(c.Indices, n)
		return nil
	}
	if labels == nil {
		return fmt.Errorf("condition %v: the class is a label, but no --labels file was given (or use an output index)", c)
	}
	for _, match := range []func(string) bool{
		func(l string) bool { return l == c.Class },
		func(l string) bool { return strings.EqualFold(l, c.Class) },
		func(l string) bool {
			for _, syn := range strings.Split(l, ",") {
				if strings.EqualFold(strings.TrimSpace(syn), c.Class) {
					return true
				}
			}
			return false
		},
	} {
		for i, l := range labels {
			if j := i - offset; j >= 0 && j < classes && match(strings.TrimSpace(l)) {
				c.Indices = append(c.Indices, j)
			}
		}
		if len(c.Indices) > 0 {
			return nil
		}
	}
	return fmt.Errorf("condition %v: no label %q among the %d labels (labels are matched whole, case-insensitively, or by a comma-separated synonym)", c, c.Class, len(labels))
}

// Eval returns the class score (the highest among its indices) and
// whether the condition holds. A missing or NaN score does not hold for
// >= and >, and holds for <= and < only when it is a number.
func (c *Condition) Eval(scores []float64) (holds bool, score float64) {
	score = math.NaN()
	for _, i := range c.Indices {
		if i < len(scores) && (math.IsNaN(score) || scores[i] > score) {
			score = scores[i]
		}
	}
	if math.IsNaN(score) {
		return false, score
	}
	return c.Op.holds(score, c.Threshold), score
}

// Edge is a change of a condition's state.
type Edge int8

// The edges Trigger reports.
const (
	NoEdge  Edge = 0
	Rising  Edge = 1
	Falling Edge = -1
)

func (e Edge) String() string {
	switch e {
	case Rising:
		return "rising"
	case Falling:
		return "falling"
	}
	return "none"
}

// Trigger turns a sequence of condition values into edges. It starts low:
// a condition that holds on the first frame is a rising edge.
type Trigger struct {
	high bool
}

// Update records the condition's value and returns the edge, if any.
func (t *Trigger) Update(v bool) Edge {
	switch {
	case v && !t.high:
		t.high = true
		return Rising
	case !v && t.high:
		t.high = false
		return Falling
	}
	return NoEdge
}

// High reports the current state.
func (t *Trigger) High() bool { return t.high }
