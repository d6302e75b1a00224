package tflite

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/edgeinfer/edgeinfer/models/ir"
)

// ErrUnsupported is wrapped by errors about well-formed TFLite content the
// reader cannot translate: operators without an IR equivalent, tensor
// types the IR lacks, sparse tensors, custom quantisation.
var ErrUnsupported = errors.New("unsupported")

// opset is the ONNX opset whose semantics the translated graph follows
// (HardSwish and Reshape's allowzero need 14; ReduceMean still takes its
// axes as an attribute).
const opset = 14

// constRole says how a constant tensor is laid out in the IR, which
// depends on the operand it feeds.
type constRole uint8

const (
	// roleData: like an activation — rank-4 tensors become NCHW (for a
	// CONV_2D filter [O,KH,KW,I] that is exactly the IR's [O,I,KH,KW]).
	roleData constRole = iota
	// rolePlain: the file's layout (biases, FULLY_CONNECTED weights,
	// operands consumed in file layout).
	rolePlain
	// roleDWFilter: a DEPTHWISE_CONV_2D filter [1,KH,KW,C·M] as the
	// grouped Conv weight [C·M,1,KH,KW].
	roleDWFilter
	// roleBroadcast4: a rank<4 operand broadcast against an NHWC tensor,
	// padded to rank 4 with leading 1s and then made NCHW.
	roleBroadcast4
)

var roleSuffix = [...]string{"data", "plain", "dw", "bcast"}

type constKey struct {
	idx  int
	role constRole
}

// tinfo is what the converter knows of one tensor.
type tinfo struct {
	dt    ir.DType
	shape []int     // file shape
	quant *ir.Quant // in the IR layout of an activation of this shape
	data  []byte    // constant data; nil for activations
}

const (
	noProducer = -1
	graphInput = -2
)

// converter translates the main subgraph of a decoded model into an IR
// graph.
type converter struct {
	m  *modelDef
	sg *subgraphDef
	g  *ir.Graph

	used     map[string]bool // every IR name handed out
	suffix   map[string]int  // last numeric suffix fresh gave each name
	base     []string        // unique IR name of each tensor
	names    []string        // IR value of each activation tensor, in IR layout
	nhwc     map[int]string  // file-layout (NHWC) views of rank-4 activations
	consts   map[constKey]string
	infos    []*tinfo
	producer []int    // operator writing each tensor, or noProducer/graphInput
	firstUse [][2]int // first (operator, input slot) reading each tensor
	baseUsed []bool   // a constant took its base name already
	outputs  []int    // graph output tensors
	copyLeft int64    // bytes of constant data the reader may still copy
}

// convert translates m's main subgraph; size is the file's size, which
// bounds what the reader copies.
func convert(m *modelDef, size int) (*ir.Graph, error) {
	sg := &m.main
	nt := len(sg.tensors)
	c := &converter{
		m: m, sg: sg, g: ir.New(sg.name),
		used:     map[string]bool{},
		suffix:   map[string]int{},
		base:     make([]string, nt),
		names:    make([]string, nt),
		nhwc:     map[int]string{},
		consts:   map[constKey]string{},
		infos:    make([]*tinfo, nt),
		producer: make([]int, nt),
		firstUse: make([][2]int, nt),
		baseUsed: make([]bool, nt),
		copyLeft: 4*int64(size) + 1<<20,
	}
	c.g.Format = "tflite"
	c.g.Opset = opset
	for i := range sg.tensors {
		name := sg.tensors[i].name
		if name == "" {
			name = "tensor_" + strconv.Itoa(i)
		}
		c.base[i] = c.fresh(name)
		c.producer[i] = noProducer
		c.firstUse[i] = [2]int{-1, -1}
	}
	if err := c.metadata(); err != nil {
		return nil, err
	}
	if err := c.graphInputs(); err != nil {
		return nil, fmt.Errorf("subgraph 0: %w", err)
	}
	outputs, err := c.graphOutputs()
	if err != nil {
		return nil, fmt.Errorf("subgraph 0: %w", err)
	}
	for i := range sg.operators {
		if err := c.operator(i); err != nil {
			return nil, fmt.Errorf("subgraph 0: %w", err)
		}
	}
	for _, o := range outputs {
		c.transpose(c.names[o], c.base[o], c.fresh(c.base[o]+"/to_nhwc"), toNHWC)
	}
	if err := c.checkDefined(); err != nil {
		return nil, fmt.Errorf("subgraph 0: %w", err)
	}
	return c.g, nil
}

// fresh returns name, or name with a numeric suffix when it is taken, and
// reserves it.
func (c *converter) fresh(name string) string {
	n := name
	for c.used[n] {
		// Counting on from the last suffix keeps a file of many
		// equally named tensors linear.
		c.suffix[name]++
		n = name + "_" + strconv.Itoa(c.suffix[name])
	}
	c.used[n] = true
	return n
}

// tensorErr names tensor idx in err.
func (c *converter) tensorErr(idx int, err error) error {
	return fmt.Errorf("tensor %d (%q): %w", idx, c.sg.tensors[idx].name, err)
}

// info decodes what the IR needs of tensor idx, once.
func (c *converter) info(idx int) (*tinfo, error) {
	if ti := c.infos[idx]; ti != nil {
		return ti, nil
	}
	t := &c.sg.tensors[idx]
	dt, ok := irDType(t.typ)
	if !ok {
		return nil, c.tensorErr(idx, fmt.Errorf("tensor type %s: %w", tensorTypeName(t.typ), ErrUnsupported))
	}
	if t.sparse {
		return nil, c.tensorErr(idx, fmt.Errorf("sparse tensor: %w", ErrUnsupported))
	}
	shape, err := fileShape(t.shape)
	if err != nil {
		return nil, c.tensorErr(idx, err)
	}
	q, err := quantOf(t, dt, shape, layoutPerm(len(shape)), 0)
	if err != nil {
		return nil, c.tensorErr(idx, err)
	}
	ti := &tinfo{dt: dt, shape: shape, quant: q}
	if t.buffer != 0 {
		data, err := c.m.buffer(t.buffer)
		if err != nil {
			return nil, c.tensorErr(idx, err)
		}
		if len(data) > 0 {
			if want := int64(ir.NumElements(shape)) * int64(dt.Size()); int64(len(data)) != want {
				return nil, c.tensorErr(idx, fmt.Errorf("buffer %d holds %d bytes, want %d for %s %v", t.buffer, len(data), want, dt, shape))
			}
			ti.data = data
		}
	}
	c.infos[idx] = ti
	return ti, nil
}

// layoutPerm is the permutation from a file tensor of rank r to its IR
// value: NHWC → NCHW for rank 4, none otherwise.
func layoutPerm(r int) []int {
	if r == 4 {
		return toNCHW
	}
	return nil
}

// setInfo records a value's type, shape and quantisation.
func (c *converter) setInfo(name string, dt ir.DType, shape []int, q *ir.Quant) {
	c.g.ValueInfo[name] = &ir.ValueInfo{Name: name, DType: dt, Shape: shape, Quant: q}
}

// value returns the IR name of activation idx in IR layout, registering
// its value info on first use.
func (c *converter) value(idx int) (string, error) {
	ti, err := c.info(idx)
	if err != nil {
		return "", err
	}
	if c.names[idx] == "" {
		c.names[idx] = c.base[idx]
	}
	if _, ok := c.g.ValueInfo[c.names[idx]]; !ok {
		c.setInfo(c.names[idx], ti.dt, permuteShape(ti.shape, layoutPerm(len(ti.shape))), cloneQuant(ti.quant))
	}
	return c.names[idx], nil
}

// operand returns the IR name of tensor idx as an activation-like operand:
// a constant laid out as an activation, or the activation value.
func (c *converter) operand(idx int) (string, error) {
	ti, err := c.info(idx)
	if err != nil {
		return "", err
	}
	if ti.data != nil {
		return c.constant(idx, roleData)
	}
	return c.value(idx)
}

// fileLayout returns tensor idx as an IR value in the file's layout: for a
// rank-4 activation a Transpose back to NHWC (one per tensor), for a
// constant its data as stored.
func (c *converter) fileLayout(idx int) (string, error) {
	ti, err := c.info(idx)
	if err != nil {
		return "", err
	}
	if ti.data != nil {
		return c.constant(idx, rolePlain)
	}
	if c.producer[idx] == graphInput {
		return c.base[idx], nil // the declared input is NHWC already
	}
	name, err := c.value(idx)
	if err != nil || len(ti.shape) != 4 {
		return name, err
	}
	if v, ok := c.nhwc[idx]; ok {
		return v, nil
	}
	v := c.fresh(c.base[idx] + "/nhwc")
	c.transpose(name, v, v, toNHWC)
	c.nhwc[idx] = v
	return v, nil
}

// constant materialises constant tensor idx as an initializer laid out for
// role, once per role. The first role takes the tensor's name.
func (c *converter) constant(idx int, role constRole) (string, error) {
	ti, err := c.info(idx)
	if err != nil {
		return "", err
	}
	if ti.data == nil {
		return "", c.tensorErr(idx, errors.New("operand must be a constant"))
	}
	if role == roleData && len(ti.shape) != 4 {
		role = rolePlain // the same layout: share one initializer
	}
	key := constKey{idx, role}
	if name, ok := c.consts[key]; ok {
		return name, nil
	}
	shape, lead := ti.shape, 0
	var perm []int
	switch role {
	case roleData:
		perm = layoutPerm(len(shape))
	case roleDWFilter:
		perm = dwFilterPerm
	case roleBroadcast4:
		lead = 4 - len(shape)
		shape = append(slices.Repeat([]int{1}, lead), shape...)
		perm = toNCHW
	}
	t := &c.sg.tensors[idx]
	q, err := quantOf(t, ti.dt, ti.shape, perm, lead)
	if err != nil {
		return "", c.tensorErr(idx, err)
	}
	irShape := permuteShape(shape, perm)
	data := ti.data
	permute := perm != nil && !keepsOrder(shape, perm)
	if permute || !aliasable(data, ti.dt) {
		if err := c.spend(len(data)); err != nil {
			return "", c.tensorErr(idx, err)
		}
	}
	if permute {
		data = permuteBytes(data, ti.dt.Size(), shape, perm)
	}
	tensor := typedTensor(ti.dt, irShape, data, true)
	tensor.Quant = q
	name := c.base[idx]
	if c.baseUsed[idx] {
		name = c.fresh(c.base[idx] + "/" + roleSuffix[role])
	}
	c.baseUsed[idx] = true
	c.g.Initializers[name] = tensor
	c.setInfo(name, ti.dt, irShape, cloneQuant(q))
	c.consts[key] = name
	return name, nil
}

// spend charges n bytes of copied constant data against the copy budget:
// several tensors may share one buffer, so without a bound a file could
// make the reader copy its largest buffer once per tensor.
func (c *converter) spend(n int) error {
	if int64(n) > c.copyLeft {
		return errors.New("constants copied from shared buffers exceed four times the file size")
	}
	c.copyLeft -= int64(n)
	return nil
}

// addInit adds a constant the reader made itself under a fresh name.
func (c *converter) addInit(name string, t *ir.Tensor) string {
	name = c.fresh(name)
	c.g.Initializers[name] = t
	c.setInfo(name, t.DType, t.Shape, t.Quant)
	return name
}

// addNode appends a node.
func (c *converter) addNode(op, name string, inputs []string, outputs ...string) *ir.Node {
	n := &ir.Node{Name: name, Op: op, Inputs: inputs, Outputs: outputs, Attrs: map[string]*ir.Attr{}}
	c.g.Nodes = append(c.g.Nodes, n)
	return n
}

// transpose adds a Transpose from in to out (value info derived from in's).
func (c *converter) transpose(in, out, node string, perm []int) {
	src := c.g.ValueInfo[in]
	q := cloneQuant(src.Quant)
	if q.PerChannel() {
		q.Axis = permuteAxis(q.Axis, perm)
	}
	c.setInfo(out, src.DType, permuteShape(src.Shape, perm), q)
	n := c.addNode("Transpose", node, []string{in}, out)
	n.SetInts("perm", ints64(perm)...)
}

// reshape adds a Reshape from in to out with target spec (stored as an
// int64 initializer); shape is out's resolved shape.
func (c *converter) reshape(in, out, node string, spec []int64, shape []int) *ir.Node {
	src := c.g.ValueInfo[in]
	q := cloneQuant(src.Quant)
	if q.PerChannel() {
		q = nil // a per-channel axis does not survive a reshape
	}
	c.setInfo(out, src.DType, shape, q)
	s := c.addInit(out+"/shape", int64s(spec))
	return c.addNode("Reshape", node, []string{in, s}, out)
}

func ints64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// graphInputs declares the subgraph inputs with their file (NHWC) shapes
// and adds the Transposes that make rank-4 inputs NCHW.
func (c *converter) graphInputs() error {
	for _, i32 := range c.sg.inputs {
		idx, err := c.tensorIndex(i32, "inputs")
		if err != nil {
			return err
		}
		if c.producer[idx] == graphInput {
			continue
		}
		ti, err := c.info(idx)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		if ti.data != nil {
			return fmt.Errorf("input: %w", c.tensorErr(idx, errors.New("graph input has constant data")))
		}
		q, err := quantOf(&c.sg.tensors[idx], ti.dt, ti.shape, nil, 0)
		if err != nil {
			return fmt.Errorf("input: %w", c.tensorErr(idx, err))
		}
		name := c.base[idx]
		vi := &ir.ValueInfo{Name: name, DType: ti.dt, Shape: slices.Clone(ti.shape), Quant: q}
		c.g.Inputs = append(c.g.Inputs, vi)
		c.setInfo(name, ti.dt, slices.Clone(ti.shape), cloneQuant(q))
		c.producer[idx] = graphInput
		if len(ti.shape) != 4 {
			c.names[idx] = name
			continue
		}
		c.names[idx] = c.fresh(name + "/nchw")
		c.transpose(name, c.names[idx], c.fresh(name+"/to_nchw"), toNCHW)
	}
	return nil
}

// graphOutputs declares the subgraph outputs with their file shapes and
// returns the rank-4 ones, whose producers write an NCHW value that a
// Transpose added after the operators turns back into NHWC.
func (c *converter) graphOutputs() ([]int, error) {
	var rank4 []int
	seen := map[int]bool{}
	for _, i32 := range c.sg.outputs {
		idx, err := c.tensorIndex(i32, "outputs")
		if err != nil {
			return nil, err
		}
		if seen[idx] {
			continue
		}
		seen[idx] = true
		c.outputs = append(c.outputs, idx)
		ti, err := c.info(idx)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		if ti.data != nil {
			return nil, fmt.Errorf("output: %w", c.tensorErr(idx, fmt.Errorf("constant graph output: %w", ErrUnsupported)))
		}
		q, err := quantOf(&c.sg.tensors[idx], ti.dt, ti.shape, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("output: %w", c.tensorErr(idx, err))
		}
		name := c.base[idx]
		c.g.Outputs = append(c.g.Outputs, &ir.ValueInfo{Name: name, DType: ti.dt, Shape: slices.Clone(ti.shape), Quant: q})
		if len(ti.shape) == 4 && c.producer[idx] != graphInput {
			c.names[idx] = c.fresh(name + "/nchw")
			rank4 = append(rank4, idx)
			if _, err := c.value(idx); err != nil {
				return nil, err
			}
		}
	}
	return rank4, nil
}

// tensorIndex checks a tensor index read from field.
func (c *converter) tensorIndex(i int32, field string) (int, error) {
	if i < 0 || int(i) >= len(c.sg.tensors) {
		return 0, fmt.Errorf("%s: tensor index %d out of range (%d tensors)", field, i, len(c.sg.tensors))
	}
	return int(i), nil
}

// checkDefined refuses graphs that read an activation nothing writes.
func (c *converter) checkDefined() error {
	for idx, use := range c.firstUse {
		if use[0] < 0 || c.producer[idx] != noProducer || c.infos[idx] == nil || c.infos[idx].data != nil {
			continue
		}
		op := &c.sg.operators[use[0]]
		return fmt.Errorf("operator %d (%s) input %d: %w", use[0], c.opName(op), use[1],
			c.tensorErr(idx, errors.New("not a constant, a graph input or an operator output")))
	}
	for _, idx := range c.outputs {
		if c.producer[idx] == noProducer {
			return fmt.Errorf("output: %w", c.tensorErr(idx, errors.New("no operator writes the graph output")))
		}
	}
	return nil
}

// opName returns the BuiltinOperator name of op's code ("" when its
// opcode index is invalid).
func (c *converter) opName(op *operatorDef) string {
	if int64(op.opcode) >= int64(len(c.m.opcodes)) {
		return ""
	}
	code := c.m.opcodes[op.opcode]
	if code.builtin == opCustom {
		return "CUSTOM(" + code.custom + ")"
	}
	return builtinName(code.builtin)
}

// metadata copies the model version, description and metadata entries.
// Entries whose buffer is short text (min_runtime_version) are copied as
// "tflite_metadata.<name>"; all names are listed in "tflite_metadata".
func (c *converter) metadata() error {
	md := c.g.Metadata
	md["tflite_version"] = strconv.FormatUint(uint64(c.m.version), 10)
	if c.m.description != "" {
		md["description"] = c.m.description
	}
	names := make([]string, 0, len(c.m.metadata))
	for i, e := range c.m.metadata {
		names = append(names, e.name)
		data, err := c.m.buffer(e.buffer)
		if err != nil {
			return fmt.Errorf("metadata %d (%q): %w", i, e.name, err)
		}
		if s, ok := shortText(data); ok {
			md["tflite_metadata."+e.name] = s
		}
	}
	if len(names) > 0 {
		md["tflite_metadata"] = strings.Join(names, ",")
	}
	return nil
}

// shortText returns data as a string when it is at most 256 bytes of
// printable UTF-8 (trailing NULs removed).
func shortText(data []byte) (string, bool) {
	s := strings.TrimRight(string(data), "\x00")
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return "", false
		}
	}
	return s, true
}
