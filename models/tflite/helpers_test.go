package tflite

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// checkGraph asserts the invariants every graph from the reader keeps:
// every value has a value info agreeing with its initializer or producer,
// every node input is defined exactly once, quantisation is well formed.
func checkGraph(t *testing.T, g *ir.Graph) {
	t.Helper()
	assert.Equal(t, "tflite", g.Format)
	assert.Equal(t, opset, g.Opset)
	assert.NotEmpty(t, g.Outputs)
	checkQuant := func(what string, q *ir.Quant, shape []int) {
		if q == nil {
			return
		}
		assert.Len(t, q.ZeroPoint, len(q.Scale), "%s quant", what)
		if q.PerChannel() {
			if assert.Less(t, q.Axis, len(shape), "%s quant axis", what) {
				assert.Equal(t, shape[q.Axis], len(q.Scale), "%s per-channel scales", what)
			}
		}
	}
	defined := map[string]bool{}
	for _, in := range g.Inputs {
		defined[in.Name] = true
		vi := g.ValueInfo[in.Name]
		if assert.NotNil(t, vi, "input %q value info", in.Name) {
			assert.Equal(t, in.Shape, vi.Shape, "input %q", in.Name)
		}
	}
	for name, tensor := range g.Initializers {
		assert.NoError(t, tensor.Validate(), "initializer %q", name)
		assert.False(t, defined[name], "initializer %q is also an input", name)
		defined[name] = true
		vi := g.ValueInfo[name]
		if assert.NotNil(t, vi, "initializer %q value info", name) {
			assert.Equal(t, tensor.DType, vi.DType, "initializer %q", name)
			assert.Equal(t, tensor.Shape, vi.Shape, "initializer %q", name)
			assert.Equal(t, tensor.Quant, vi.Quant, "initializer %q", name)
		}
		checkQuant("initializer "+name, tensor.Quant, tensor.Shape)
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			assert.False(t, defined[o], "%s: output %q defined twice", n.Describe(), o)
			defined[o] = true
		}
	}
	for _, n := range g.Nodes {
		assert.NotEmpty(t, n.Name, "node writing %v", n.Outputs)
		for _, name := range append(slices.Clone(n.Inputs), n.Outputs...) {
			if name == "" {
				continue
			}
			assert.True(t, defined[name], "%s: value %q is not defined", n.Describe(), name)
			vi := g.ValueInfo[name]
			if assert.NotNil(t, vi, "%s: value %q has no value info", n.Describe(), name) {
				assert.NotEqual(t, ir.Undefined, vi.DType, "value %q", name)
				checkQuant("value "+name, vi.Quant, vi.Shape)
			}
		}
		if n.Op == "Transpose" {
			in, out := g.ValueInfo[n.Inputs[0]], g.ValueInfo[n.Outputs[0]]
			perm := n.Ints("perm")
			if assert.Len(t, perm, len(in.Shape), n.Describe()) {
				want := make([]int, len(perm))
				for k, p := range perm {
					want[k] = in.Shape[p]
				}
				assert.Equal(t, want, out.Shape, "%s output shape", n.Describe())
				assert.Equal(t, in.Quant, out.Quant, "%s carries its input's quant", n.Describe())
			}
		}
	}
	for _, o := range g.Outputs {
		assert.True(t, defined[o.Name], "output %q is not defined", o.Name)
	}
}

// producer returns the node writing value name.
func producer(t *testing.T, g *ir.Graph, name string) *ir.Node {
	t.Helper()
	for _, n := range g.Nodes {
		if slices.Contains(n.Outputs, name) {
			return n
		}
	}
	require.Failf(t, "no producer", "no node writes %q", name)
	return nil
}

// node returns the only node named name.
func node(t *testing.T, g *ir.Graph, name string) *ir.Node {
	t.Helper()
	var found *ir.Node
	for _, n := range g.Nodes {
		if n.Name == name {
			require.Nil(t, found, "two nodes named %q", name)
			found = n
		}
	}
	require.NotNil(t, found, "no node named %q", name)
	return found
}

// nodesOf returns the nodes of op type op.
func nodesOf(g *ir.Graph, op string) []*ir.Node {
	var out []*ir.Node
	for _, n := range g.Nodes {
		if n.Op == op {
			out = append(out, n)
		}
	}
	return out
}

// opHistogram turns g's op histogram into a map.
func opHistogram(g *ir.Graph) map[string]int {
	m := map[string]int{}
	for _, c := range g.OpHistogram() {
		m[c.Op] = c.Count
	}
	return m
}

// chain returns the ops of the path of nodes from a producer of value
// back through first inputs, n nodes long, in execution order.
func chain(t *testing.T, g *ir.Graph, value string, n int) []string {
	t.Helper()
	ops := make([]string, n)
	for i := n - 1; i >= 0; i-- {
		p := producer(t, g, value)
		ops[i] = p.Op
		value = p.Inputs[0]
	}
	return ops
}
