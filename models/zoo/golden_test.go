package zoo

// Golden values of TestGoldenWeights: "lenet5" with DefaultSeed. They
// change only if the generator, the order in which the builders create
// initializers, or the initialisation rules change — which changes every
// zoo model, so say so when you update them.
var (
	goldenLeNet5First        = [4]uint32{0x3e298efa, 0xbd2a5c6f, 0x3e3b67ff, 0x3e321237}
	goldenLeNet5Hash  uint64 = 0x5d8d3282d62f7131
)
