package ir

import "fmt"

// Builder appends nodes to a graph with generated unique names. The zoo
// builders and the tests use it; readers fill Graph directly.
type Builder struct {
	G    *Graph
	next int
}

// NewBuilder starts an empty graph.
func NewBuilder(name string) *Builder { return &Builder{G: New(name)} }

// Input declares a graph input and returns its name.
func (b *Builder) Input(name string, dt DType, shape ...int) string {
	b.G.Inputs = append(b.G.Inputs, &ValueInfo{Name: name, DType: dt, Shape: append([]int(nil), shape...)})
	return name
}

// Const adds an initializer with a unique name derived from prefix.
func (b *Builder) Const(prefix string, t *Tensor) string {
	name := b.unique(prefix)
	b.G.Initializers[name] = t
	return name
}

// F32 adds a float32 initializer of the given shape.
func (b *Builder) F32(prefix string, data []float32, shape ...int) string {
	return b.Const(prefix, &Tensor{DType: Float32, Shape: append([]int(nil), shape...), F32: data})
}

// I64 adds an int64 initializer of the given shape (1-D when shape is empty
// and len(data) != 1 would be ambiguous, so pass the shape explicitly).
func (b *Builder) I64(prefix string, data []int64, shape ...int) string {
	return b.Const(prefix, &Tensor{DType: Int64, Shape: append([]int(nil), shape...), I64: data})
}

// Op appends a node with one output and returns the output name. Each
// option may set attributes on the node.
func (b *Builder) Op(op string, inputs []string, opts ...func(*Node)) string {
	return b.OpN(op, inputs, 1, opts...)[0]
}

// OpN appends a node with nout outputs and returns their names.
func (b *Builder) OpN(op string, inputs []string, nout int, opts ...func(*Node)) []string {
	name := b.unique(op)
	n := &Node{Name: name, Op: op, Inputs: append([]string(nil), inputs...)}
	for i := 0; i < nout; i++ {
		n.Outputs = append(n.Outputs, fmt.Sprintf("%s:%d", name, i))
	}
	for _, o := range opts {
		o(n)
	}
	b.G.Nodes = append(b.G.Nodes, n)
	return n.Outputs
}

// Output marks value name as a graph output.
func (b *Builder) Output(name string) {
	b.G.Outputs = append(b.G.Outputs, &ValueInfo{Name: name, DType: Float32})
}

func (b *Builder) unique(prefix string) string {
	b.next++
	return fmt.Sprintf("%s_%d", prefix, b.next)
}

// WithInt returns an option setting an integer attribute.
func WithInt(name string, v int64) func(*Node) { return func(n *Node) { n.SetInt(name, v) } }

// WithInts returns an option setting an integer-list attribute.
func WithInts(name string, v ...int64) func(*Node) { return func(n *Node) { n.SetInts(name, v...) } }

// WithFloat returns an option setting a float attribute.
func WithFloat(name string, v float32) func(*Node) { return func(n *Node) { n.SetFloat(name, v) } }

// WithString returns an option setting a string attribute.
func WithString(name, v string) func(*Node) { return func(n *Node) { n.SetString(name, v) } }
