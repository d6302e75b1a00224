// Package passes holds the graph rewrites the runtime applies to an ir.Graph
// before lowering it to kernels: topological sort and validation, shape
// inference with constant folding, dropout/identity removal, Pad folding,
// BatchNorm folding and activation fusion. Each pass is one file, rewrites
// the graph in place and keeps its outputs unchanged.
package passes

import (
	"fmt"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// Pass is one named rewrite.
type Pass struct {
	Name string
	Run  func(g *ir.Graph) error
}

// Default is the pass list the runtime applies, in order. Shape inference
// with constant folding runs first (it normalises attributes such as
// auto_pad that later passes rely on) and again after the rewrites.
var Default = []Pass{
	{"toposort", Toposort},
	{"remove-identity", RemoveIdentity},
	{"infer-fold", InferAndFold},
	{"fold-pad", FoldPad},
	{"fold-batchnorm", FoldBatchNorm},
	{"fuse-activation", FuseActivation},
	{"prune", Prune},
	{"infer-fold", InferAndFold},
}

// Apply runs the first stop passes of list (all when stop < 0); a debug
// switch to find which rewrite broke a model.
func Apply(g *ir.Graph, list []Pass, stop int) error {
	for i, p := range list {
		if stop >= 0 && i >= stop {
			break
		}
		if err := p.Run(g); err != nil {
			return fmt.Errorf("pass %s: %w", p.Name, err)
		}
	}
	return nil
}

// Toposort orders g.Nodes so every node follows the producers of its
// inputs, and refuses graphs with cycles, duplicate producers or inputs
// that nothing defines.
func Toposort(g *ir.Graph) error {
	defined := map[string]bool{}
	for _, in := range g.Inputs {
		defined[in.Name] = true
	}
	for name := range g.Initializers {
		defined[name] = true
	}
	producer := map[string]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if _, dup := producer[o]; dup || defined[o] {
				return fmt.Errorf("value %q is defined twice (second time by %s)", o, n.Describe())
			}
			producer[o] = i
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]uint8, len(g.Nodes))
	order := make([]*ir.Node, 0, len(g.Nodes))
	// Iterative DFS: deep nets (ResNet-152, DenseNet) would make recursion
	// deep but fine; iteration keeps hostile graphs from blowing the stack.
	type frame struct{ node, next int }
	var stack []frame
	visit := func(start int) error {
		stack = append(stack[:0], frame{start, 0})
		state[start] = visiting
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			n := g.Nodes[f.node]
			if f.next < len(n.Inputs) {
				in := n.Inputs[f.next]
				f.next++
				if in == "" || defined[in] {
					continue
				}
				p, ok := producer[in]
				if !ok {
					return fmt.Errorf("%s reads %q, which no input, initializer or node defines", n.Describe(), in)
				}
				switch state[p] {
				case visiting:
					return fmt.Errorf("graph has a cycle through %s", g.Nodes[p].Describe())
				case unvisited:
					state[p] = visiting
					stack = append(stack, frame{p, 0})
				}
				continue
			}
			state[f.node] = done
			order = append(order, n)
			stack = stack[:len(stack)-1]
		}
		return nil
	}
	for i := range g.Nodes {
		if state[i] == unvisited {
			if err := visit(i); err != nil {
				return err
			}
		}
	}
	g.Nodes = order
	for _, o := range g.Outputs {
		if _, ok := producer[o.Name]; !ok && !defined[o.Name] {
			return fmt.Errorf("graph output %q is not defined", o.Name)
		}
	}
	return nil
}

// consumers maps each value name to the nodes reading it.
func consumers(g *ir.Graph) map[string][]*ir.Node {
	m := map[string][]*ir.Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != "" {
				m[in] = append(m[in], n)
			}
		}
	}
	return m
}

func isGraphOutput(g *ir.Graph, name string) bool {
	for _, o := range g.Outputs {
		if o.Name == name {
			return true
		}
	}
	return false
}

// singleUse reports whether value name is read by exactly one node and is
// not a graph output, so a pass may fuse its producer into that reader.
func singleUse(g *ir.Graph, cons map[string][]*ir.Node, name string) bool {
	return len(cons[name]) == 1 && !isGraphOutput(g, name)
}

// rename replaces every use of value from by to (node inputs and graph
// outputs keep their names: when from is a graph output the caller must
// not remove its producer).
func rename(g *ir.Graph, from, to string) {
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if in == from {
				n.Inputs[i] = to
			}
		}
	}
}

// removeNodes drops the nodes in dead from g.Nodes.
func removeNodes(g *ir.Graph, dead map[*ir.Node]bool) {
	if len(dead) == 0 {
		return
	}
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !dead[n] {
			kept = append(kept, n)
		}
	}
	for i := len(kept); i < len(g.Nodes); i++ {
		g.Nodes[i] = nil
	}
	g.Nodes = kept
}

// Prune removes nodes whose outputs nothing reads and initializers no node
// reads.
func Prune(g *ir.Graph) error {
	live := map[string]bool{}
	for _, o := range g.Outputs {
		live[o.Name] = true
	}
	dead := map[*ir.Node]bool{}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		used := false
		for _, o := range n.Outputs {
			if live[o] {
				used = true
			}
		}
		if !used {
			dead[n] = true
			continue
		}
		for _, in := range n.Inputs {
			live[in] = true
		}
	}
	removeNodes(g, dead)
	for name := range g.Initializers {
		if !live[name] {
			delete(g.Initializers, name)
		}
	}
	return nil
}

// RemoveIdentity bypasses Identity and inference-mode Dropout nodes.
func RemoveIdentity(g *ir.Graph) error {
	dead := map[*ir.Node]bool{}
	for _, n := range g.Nodes {
		if n.Op != "Identity" && n.Op != "Dropout" {
			continue
		}
		if len(n.Inputs) == 0 || n.Inputs[0] == "" {
			return fmt.Errorf("%s has no input", n.Describe())
		}
		out := n.Outputs[0]
		if isGraphOutput(g, out) {
			continue // keep the name the user asked for
		}
		// Dropout's optional mask output is all-true in inference; a
		// reader of it keeps the node (the runtime evaluates it).
		if len(n.Outputs) > 1 && n.Outputs[1] != "" && len(consumers(g)[n.Outputs[1]]) > 0 {
			continue
		}
		rename(g, out, n.Inputs[0])
		dead[n] = true
	}
	removeNodes(g, dead)
	return nil
}
