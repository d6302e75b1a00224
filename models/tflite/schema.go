package tflite

import (
	"fmt"
	"strings"
)

// This file decodes the parts of TFLite's schema (tensorflow/lite/schema/
// schema.fbs, file identifier "TFL3") that inference needs. Field ids are
// the declaration order in the schema; a union occupies two ids (its type,
// then its value).

// Model fields.
const (
	modelVersion       = 0
	modelOperatorCodes = 1
	modelSubgraphs     = 2
	modelDescription   = 3
	modelBuffers       = 4
	modelMetadata      = 6
)

// OperatorCode fields.
const (
	opcodeDeprecatedBuiltin = 0
	opcodeCustom            = 1
	opcodeBuiltin           = 3
)

// SubGraph fields.
const (
	subgraphTensors   = 0
	subgraphInputs    = 1
	subgraphOutputs   = 2
	subgraphOperators = 3
	subgraphName      = 4
)

// Tensor fields.
const (
	tensorShape        = 0
	tensorType         = 1
	tensorBuffer       = 2
	tensorName         = 3
	tensorQuantization = 4
	tensorSparsity     = 6
)

// QuantizationParameters fields.
const (
	quantScale     = 2
	quantZeroPoint = 3
	quantDetails   = 4 // union type
	quantDimension = 6
)

// Operator fields.
const (
	operatorOpcodeIndex = 0
	operatorInputs      = 1
	operatorOutputs     = 2
	operatorOptionsType = 3
	operatorOptions     = 4
)

// Buffer fields.
const (
	bufferData   = 0
	bufferOffset = 1
	bufferSize   = 2
)

// Metadata fields.
const (
	metadataName   = 0
	metadataBuffer = 1
)

// TensorType values.
const (
	typeFloat32 = 0
	typeInt32   = 2
	typeUint8   = 3
	typeInt64   = 4
	typeInt8    = 9
)

var tensorTypeNames = []string{
	"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64",
	"INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4",
}

func tensorTypeName(t int8) string {
	if t >= 0 && int(t) < len(tensorTypeNames) {
		return tensorTypeNames[t]
	}
	return fmt.Sprintf("TensorType(%d)", t)
}

// opcode is a decoded OperatorCode.
type opcode struct {
	builtin int32 // BuiltinOperator
	custom  string
}

// quantParams is a decoded QuantizationParameters table.
type quantParams struct {
	scale     []float32
	zeroPoint []int64
	dim       int32 // quantized_dimension
	custom    bool  // details union set: a custom scheme we cannot read
}

// tensorDef is a decoded Tensor table.
type tensorDef struct {
	shape  []int32
	typ    int8
	buffer uint32
	name   string
	quant  *quantParams // nil when absent or empty
	sparse bool
}

// operatorDef is a decoded Operator table; options is the builtin_options
// union value (valid when optType != 0).
type operatorDef struct {
	opcode  uint32
	inputs  []int32
	outputs []int32
	optType uint8
	options table
}

// subgraphDef is a decoded SubGraph table.
type subgraphDef struct {
	tensors   []tensorDef
	inputs    []int32
	outputs   []int32
	operators []operatorDef
	name      string
}

// metadataDef is one Model.metadata entry.
type metadataDef struct {
	name   string
	buffer uint32
}

// modelDef is the decoded Model table. Only the first subgraph is kept
// (the others are bodies of control-flow ops).
type modelDef struct {
	version     uint32
	opcodes     []opcode
	main        subgraphDef
	description string
	buffers     [][]byte // data of each buffer, aliasing data
	metadata    []metadataDef
}

// decodeModel decodes the Model at the root of data.
func decodeModel(data []byte) (*modelDef, error) {
	if len(data) >= 8 && string(data[4:8]) != "TFL3" {
		return nil, fmt.Errorf("file identifier %q is not \"TFL3\": not a TFLite model", data[4:8])
	}
	root, err := rootTable(data, "model")
	if err != nil {
		return nil, err
	}
	m := &modelDef{}
	if m.version, err = root.u32(modelVersion, "version", 0); err != nil {
		return nil, err
	}
	if m.description, err = root.str(modelDescription, "description"); err != nil {
		return nil, err
	}
	codes, err := root.vector(modelOperatorCodes, 4, "operator_codes")
	if err != nil {
		return nil, err
	}
	m.opcodes = make([]opcode, codes.n)
	for i := range m.opcodes {
		if m.opcodes[i], err = decodeOpcode(codes, i); err != nil {
			return nil, err
		}
	}
	buffers, err := root.vector(modelBuffers, 4, "buffers")
	if err != nil {
		return nil, err
	}
	m.buffers = make([][]byte, buffers.n)
	for i := range m.buffers {
		if m.buffers[i], err = decodeBuffer(data, buffers, i); err != nil {
			return nil, err
		}
	}
	meta, err := root.vector(modelMetadata, 4, "metadata")
	if err != nil {
		return nil, err
	}
	m.metadata = make([]metadataDef, meta.n)
	for i := range m.metadata {
		t, err := meta.table(i, fmt.Sprintf("metadata %d", i))
		if err != nil {
			return nil, err
		}
		if m.metadata[i].name, err = t.str(metadataName, "name"); err != nil {
			return nil, err
		}
		if m.metadata[i].buffer, err = t.u32(metadataBuffer, "buffer", 0); err != nil {
			return nil, err
		}
	}
	subgraphs, err := root.vector(modelSubgraphs, 4, "subgraphs")
	if err != nil {
		return nil, err
	}
	if subgraphs.n == 0 {
		return nil, fmt.Errorf("model has no subgraphs")
	}
	// The other subgraphs (bodies of control-flow operators) are decoded
	// only to check them.
	for i := subgraphs.n - 1; i >= 0; i-- {
		if err := decodeSubgraph(subgraphs, i, &m.main); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func decodeOpcode(codes vector, i int) (opcode, error) {
	var c opcode
	t, err := codes.table(i, fmt.Sprintf("operator_codes %d", i))
	if err != nil {
		return c, err
	}
	dep, err := t.i8(opcodeDeprecatedBuiltin, "deprecated_builtin_code", 0)
	if err != nil {
		return c, err
	}
	if c.builtin, err = t.i32(opcodeBuiltin, "builtin_code", 0); err != nil {
		return c, err
	}
	// Files written before builtin_code existed only set the deprecated
	// byte; newer ones set both, with the byte saturated at
	// PLACEHOLDER_FOR_GREATER_OP_CODES (127). TFLite takes the larger.
	c.builtin = max(c.builtin, int32(dep))
	if c.custom, err = t.str(opcodeCustom, "custom_code"); err != nil {
		return c, err
	}
	return c, nil
}

func decodeSubgraph(subgraphs vector, idx int, sg *subgraphDef) error {
	what := fmt.Sprintf("subgraph %d", idx)
	t, err := subgraphs.table(idx, what)
	if err != nil {
		return err
	}
	if sg.name, err = t.str(subgraphName, "name"); err != nil {
		return err
	}
	for _, f := range []struct {
		id   int
		name string
		dst  *[]int32
	}{{subgraphInputs, "inputs", &sg.inputs}, {subgraphOutputs, "outputs", &sg.outputs}} {
		v, err := t.vector(f.id, 4, f.name)
		if err != nil {
			return err
		}
		*f.dst = v.i32s()
	}
	tensors, err := t.vector(subgraphTensors, 4, "tensors")
	if err != nil {
		return err
	}
	sg.tensors = make([]tensorDef, tensors.n)
	for i := range sg.tensors {
		tt, err := tensors.table(i, fmt.Sprintf("%s tensor %d", what, i))
		if err != nil {
			return err
		}
		if err := decodeTensor(tt, &sg.tensors[i]); err != nil {
			return err
		}
	}
	ops, err := t.vector(subgraphOperators, 4, "operators")
	if err != nil {
		return err
	}
	sg.operators = make([]operatorDef, ops.n)
	for i := range sg.operators {
		ot, err := ops.table(i, fmt.Sprintf("%s operator %d", what, i))
		if err != nil {
			return err
		}
		if err := decodeOperator(ot, &sg.operators[i]); err != nil {
			return err
		}
	}
	return nil
}

func decodeTensor(t table, d *tensorDef) error {
	var err error
	if d.name, err = t.str(tensorName, "name"); err != nil {
		return err
	}
	// Name the tensor in later errors about this table.
	if d.name != "" {
		t.what += fmt.Sprintf(" (%q)", d.name)
	}
	shape, err := t.vector(tensorShape, 4, "shape")
	if err != nil {
		return err
	}
	d.shape = shape.i32s()
	if d.typ, err = t.i8(tensorType, "type", typeFloat32); err != nil {
		return err
	}
	if d.buffer, err = t.u32(tensorBuffer, "buffer", 0); err != nil {
		return err
	}
	if _, d.sparse, err = t.ref(tensorSparsity, "sparsity"); err != nil {
		return err
	}
	q, ok, err := t.child(tensorQuantization, "quantization", t.what+" quantization")
	if err != nil || !ok {
		return err
	}
	var qp quantParams
	scale, err := q.vector(quantScale, 4, "scale")
	if err != nil {
		return err
	}
	zp, err := q.vector(quantZeroPoint, 8, "zero_point")
	if err != nil {
		return err
	}
	details, err := q.u8(quantDetails, "details_type", 0)
	if err != nil {
		return err
	}
	if qp.dim, err = q.i32(quantDimension, "quantized_dimension", 0); err != nil {
		return err
	}
	qp.scale, qp.zeroPoint, qp.custom = scale.f32s(), zp.i64s(), details != 0
	if len(qp.scale) > 0 || len(qp.zeroPoint) > 0 || qp.custom {
		d.quant = &qp
	}
	return nil
}

func decodeOperator(t table, d *operatorDef) error {
	var err error
	if d.opcode, err = t.u32(operatorOpcodeIndex, "opcode_index", 0); err != nil {
		return err
	}
	for _, f := range []struct {
		id   int
		name string
		dst  *[]int32
	}{{operatorInputs, "inputs", &d.inputs}, {operatorOutputs, "outputs", &d.outputs}} {
		v, err := t.vector(f.id, 4, f.name)
		if err != nil {
			return err
		}
		*f.dst = v.i32s()
	}
	if d.optType, err = t.u8(operatorOptionsType, "builtin_options_type", 0); err != nil {
		return err
	}
	if d.optType != 0 {
		opts, ok, err := t.child(operatorOptions, "builtin_options", t.what+" builtin_options")
		if err != nil {
			return err
		}
		if !ok {
			// A union type without a value: treat as no options.
			d.optType = 0
		}
		d.options = opts
	}
	return nil
}

// decodeBuffer returns the data of buffer i (nil for an empty buffer),
// aliasing data. The data of models over 2 GiB lives outside the
// FlatBuffer, at the file offset and size the buffer gives.
func decodeBuffer(data []byte, buffers vector, i int) ([]byte, error) {
	t, err := buffers.table(i, fmt.Sprintf("buffer %d", i))
	if err != nil {
		return nil, err
	}
	v, err := t.vector(bufferData, 1, "data")
	if err != nil {
		return nil, err
	}
	if v.n > 0 {
		return v.bytes(), nil
	}
	off, err := t.u64(bufferOffset, "offset", 0)
	if err != nil {
		return nil, err
	}
	size, err := t.u64(bufferSize, "size", 0)
	if err != nil {
		return nil, err
	}
	if off <= 1 {
		return nil, nil // 0 and 1 mean "no external data" in the schema
	}
	n := uint64(len(data))
	if off > n || size > n-off {
		return nil, fmt.Errorf("buffer %d: external data of %d bytes at offset %d runs past the %d-byte file", i, size, off, n)
	}
	return data[off : off+size : off+size], nil
}

// buffer returns the data of buffer idx.
func (m *modelDef) buffer(idx uint32) ([]byte, error) {
	if int64(idx) >= int64(len(m.buffers)) {
		return nil, fmt.Errorf("buffer index %d out of range (%d buffers)", idx, len(m.buffers))
	}
	return m.buffers[idx], nil
}

// Options tables the reader decodes, by their index in the BuiltinOptions
// union (1-based; 0 is NONE).
const (
	optConv2D        = 1
	optDepthwiseConv = 2
	optPool2D        = 5
	optFullyConn     = 8
	optSoftmax       = 9
	optConcatenation = 10
	optAdd           = 11
	optReshape       = 17
	optMul           = 21
	optReducer       = 27
	optSub           = 28
	optDiv           = 29
	optSqueeze       = 30
	optLeakyRelu     = 75
)

// Builtin operator codes the reader translates.
const (
	opAdd             = 0
	opAveragePool2D   = 1
	opConcatenation   = 2
	opConv2D          = 3
	opDepthwiseConv2D = 4
	opDequantize      = 6
	opFullyConnected  = 9
	opLogistic        = 14
	opMaxPool2D       = 17
	opMul             = 18
	opRelu            = 19
	opReluN1To1       = 20
	opRelu6           = 21
	opReshape         = 22
	opSoftmax         = 25
	opTanh            = 28
	opCustom          = 32
	opPad             = 34
	opTranspose       = 39
	opMean            = 40
	opSub             = 41
	opDiv             = 42
	opSqueeze         = 43
	opPadV2           = 60
	opLeakyRelu       = 98
	opQuantize        = 114
	opHardSwish       = 117
)

// builtinNames lists the BuiltinOperator enum names in value order (0-205);
// names of gaps and unknown codes are formatted by builtinName.
var builtinNames = strings.Fields(`
ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1
RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM
CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND
SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE
BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM
CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE
SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW
ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK
REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR
LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS
WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE
NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM
BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG
REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL
CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL
BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD
UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR
RIGHT_SHIFT STABLEHLO_LOGISTIC STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY
STABLEHLO_MAXIMUM STABLEHLO_RESHAPE STABLEHLO_CLAMP STABLEHLO_CONCATENATE
STABLEHLO_BROADCAST_IN_DIM STABLEHLO_CONVOLUTION STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL
STABLEHLO_REDUCE STABLEHLO_ABS STABLEHLO_AND STABLEHLO_COSINE STABLEHLO_EXPONENTIAL
STABLEHLO_FLOOR STABLEHLO_LOG STABLEHLO_MINIMUM STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER
STABLEHLO_REMAINDER STABLEHLO_RSQRT STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH
STABLEHLO_SCATTER STABLEHLO_COMPARE STABLEHLO_CONVERT STABLEHLO_DYNAMIC_SLICE
STABLEHLO_DYNAMIC_UPDATE_SLICE STABLEHLO_PAD STABLEHLO_IOTA STABLEHLO_DOT_GENERAL
STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT STABLEHLO_WHILE STABLEHLO_GATHER STABLEHLO_TRANSPOSE
DILATE STABLEHLO_RNG_BIT_GENERATOR REDUCE_WINDOW`)

// builtinName returns the BuiltinOperator enum name of code.
func builtinName(code int32) string {
	if code >= 0 && int(code) < len(builtinNames) {
		return builtinNames[code]
	}
	if code == 225 {
		return "TEMP_STREAMING_CONV_2D"
	}
	return fmt.Sprintf("BuiltinOperator(%d)", code)
}
