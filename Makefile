# edgeinfer: build, test and cross-compile. `make help` lists the targets.

GO      ?= go
BIN     ?= bin
# Full-size fixtures (too big for ../shared) are generated here.
BIG     ?= .cache/fixtures-big
SHARED  ?= ../shared
# Stamped into `edgeinfer version` when set: make build VERSION=v0.1.0.
# Without it the version comes from the module's build info.
VERSION ?=
LDFLAGS := $(if $(VERSION),-X main.version=$(VERSION))
CMD     := ./cmd/edgeinfer
BIG_MODELS := inception_v3,resnet18,resnet50,densenet121,efficientnet_b0,mobilenet_v1,alexnet,vgg16

.PHONY: help build test test-short cross dist bench fixtures-deps fixtures-big test-big fmt vet clean test-arm64 icount test-vm bench-ort fuzz

help:
	@echo "build         go build ./... and $(BIN)/edgeinfer"
	@echo "test          go vet ./... and go test ./... (the CI command)"
	@echo "test-short    go test -short ./..."
	@echo "cross         static linux/arm64 and linux/arm (GOARM=7) binaries in $(BIN)/"
	@echo "dist          release binaries for the Pis (static, stripped, version-stamped) in $(DIST)/, sizes and SHA256SUMS"
	@echo "bench         runtime benchmarks (-benchtime 5x)"
	@echo "bench-ort     edgeinfer vs ONNX Runtime (npm onnxruntime-node in bench/) on MobileNet v2, ResNet-18/50, 1 and 2 threads"
	@echo "fixtures-big  generate full-size PyTorch fixtures into $(BIG) (apt: python3-torch python3-torchvision python3-onnx)"
	@echo "test-big      run the runtime fixture tests on $(BIG) as well"
	@echo "test-arm64    asm tests under qemu-aarch64 for $(ARM64_CPUS); runtime (-short) per kernel path ($(ARM64_RUNTIME)); armv7 under qemu-arm"
	@echo "icount        instructions per op / inference under qemu (cortex-a72, cortex-a76); see docs/kernels.md"
	@echo "test-vm       edgeinfer on vivid and a GPIO line under Debian's arm64 kernel in qemu-system-aarch64 (root; README)"
	@echo "fuzz          every fuzz target for FUZZTIME (default 60s) each, one at a time (-parallel=1)"
	@echo "fmt, vet, clean"

build:
	$(GO) build ./...
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/edgeinfer $(CMD)

test:
	$(GO) vet ./... && $(GO) test -timeout 30m ./...

test-short:
	$(GO) test -short ./...

cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/edgeinfer-linux-arm64 $(CMD)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/edgeinfer-linux-armv7 $(CMD)

# Release binaries for the boards: static (CGO_ENABLED=0), stripped,
# reproducible paths, stamped with the version, commit and build date that
# `edgeinfer version` prints. Override DIST_VERSION, DIST_COMMIT and
# DIST_DATE to build without git.
DIST         ?= $(BIN)/dist
DIST_VERSION ?= $(or $(VERSION),$(shell git describe --always --dirty 2>/dev/null),unknown)
DIST_COMMIT  ?= $(or $(shell git rev-parse --short=12 HEAD 2>/dev/null),unknown)
DIST_DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
DIST_LDFLAGS := -s -w -X main.version=$(DIST_VERSION) -X main.commit=$(DIST_COMMIT) -X main.date=$(DIST_DATE)

dist:
	mkdir -p $(DIST)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "$(DIST_LDFLAGS)" -o $(DIST)/edgeinfer-linux-arm64 $(CMD)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags "$(DIST_LDFLAGS)" -o $(DIST)/edgeinfer-linux-armv7 $(CMD)
	cp boards/edgeinfer.service $(DIST)/
	cd $(DIST) && sha256sum edgeinfer-linux-arm64 edgeinfer-linux-armv7 edgeinfer.service > SHA256SUMS
	@echo "edgeinfer $(DIST_VERSION) (commit $(DIST_COMMIT), built $(DIST_DATE)):"
	@cd $(DIST) && for f in edgeinfer-linux-arm64 edgeinfer-linux-armv7; do \
		printf '  %-24s %6s KiB  %s\n' $$f $$(( $$(stat -c %s $$f) / 1024 )) "$$(file -b $$f 2>/dev/null | cut -d, -f1-2)"; done

bench:
	$(GO) test -run XXX -bench . ./runtime/ -benchtime 5x

# edgeinfer/ORT latency table (bench/ort.js). ResNets come from $(BIG), or
# ../fx-big when it has not been generated; ORT_RUNS timed runs per engine.
ORT_BIG    ?= $(if $(wildcard $(BIG)/resnet50/model.onnx),$(BIG),../fx-big)
ORT_MODELS ?= mobilenet_v2=$(abspath $(SHARED))/fixtures/mobilenet_v2/model.onnx,resnet18=$(abspath $(ORT_BIG))/resnet18/model.onnx,resnet50=$(abspath $(ORT_BIG))/resnet50/model.onnx
ORT_RUNS   ?= 20
ORT_THREADS ?= 1,2
# int8 rows: each name=model.onnx is quantised once (ORT_CALIB ImageNet
# sample photos, torchvision preprocessing) into $(ORT_DIR)/NAME.eim and its
# QDQ exports NAME_TYPES.onnx, one per ORT_QDQ_TYPES (quantize --qdq-types;
# u8s8 is ORT's fastest form on x86-64, the only one it fuses fully that
# its VNNI kernels take); ORT runs each export, edgeinfer the .eim.
ORT_INT8   ?= mobilenet_v2=$(abspath $(SHARED))/fixtures/mobilenet_v2/model.onnx resnet50=$(abspath $(ORT_BIG))/resnet50/model.onnx
ORT_QDQ_TYPES ?= u8s8
ORT_CALIB  ?= 20
ORT_DIR    ?= $(BIN)/ort
# Extra quantize flags for the int8 rows, e.g. ORT_QUANT_FLAGS=--reduce-range
# (7-bit weights: the amd64 VPMADDUBSW tiles, and ORT's recommendation on
# x86-64 without VNNI); with --reduce-range the rows and files are named
# NAME_rr.
ORT_QUANT_FLAGS ?=
ORT_RR     := $(if $(findstring --reduce-range,$(ORT_QUANT_FLAGS)),_rr,)
bench-ort: build
	cd bench && test -d node_modules/onnxruntime-node || ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
	@mkdir -p $(ORT_DIR); int8=; for m in $(ORT_INT8); do name=$${m%%=*}; src=$${m#*=}; \
		[ -f "$$src" ] || { echo "skip int8 $$name: $$src not found"; continue; }; \
		name=$${name}$(ORT_RR); \
		eim=$(abspath $(ORT_DIR))/$$name.eim; \
		for ty in $(ORT_QDQ_TYPES); do qdq=$(abspath $(ORT_DIR))/$${name}_$$ty.onnx; \
		if [ ! -f "$$qdq" ] || [ "$$src" -nt "$$qdq" ]; then \
			$(GO) run ./cmd/quantize --model "$$src" --calib $(SHARED)/images/imagenet_sample --calib-count $(ORT_CALIB) \
				--resize-shorter 256 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --eval-count 4 \
				-o "$$eim" --emit-qdq "$$qdq" --qdq-types $$ty $(ORT_QUANT_FLAGS) >"$$eim.log" 2>&1 || { cat "$$eim.log"; exit 1; }; fi; \
		int8="$$int8,$${name}_int8_$$ty=$$qdq@$$eim"; done; done; \
	cd bench && node ort.js --edgeinfer $(abspath $(BIN))/edgeinfer --models "$(ORT_MODELS)$$int8" --runs $(ORT_RUNS) --threads $(ORT_THREADS)

# Debian's PyTorch, torchvision and ONNX, which the generator was written for.
fixtures-deps:
	apt-get install -y python3-torch python3-torchvision python3-onnx

fixtures-big:
	@/usr/bin/python3 -c 'import torch, torchvision, onnx' 2>/dev/null || \
		{ echo "fixtures-big needs Debian's python3-torch python3-torchvision python3-onnx: run 'make fixtures-deps' (as root)"; exit 1; }
	mkdir -p $(BIG)
	/usr/bin/python3 $(SHARED)/fixtures/gen_fixtures.py --out $(BIG) --big-out $(BIG) --only $(BIG_MODELS)

test-big:
	EDGEINFER_BIG_FIXTURES=$(abspath $(BIG)) $(GO) test -run TestFixtures ./runtime/ -timeout 60m

# Debian's arm64 kernel under qemu-system-aarch64 with the vivid camera
# and the virt machine's PL061 GPIO: see test/vm/run.sh and the README.
test-vm:
	bash test/vm/run.sh

# Every fuzz target of the readers, image decoding and the frame streams,
# one at a time for FUZZTIME each. Crashers land in the package's
# testdata/fuzz/FuzzXxx/ and then run with every `go test`. Add a target
# here when you add one (go test -fuzz takes one target per run).
# FUZZTIME is a duration (60s) or an execution count (5000x). Go 1.26's
# fuzz coordinator can report a bare "context deadline exceeded" failure,
# with no crasher written, when a duration ends while a worker is busy
# (golang/go#75804, fixed in Go 1.27): CI uses a count, which has no
# deadline to race.
FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./models/onnx:FuzzParse \
	./models/onnx:FuzzParseTensorProto \
	./models/native:FuzzDecode \
	./models/npy:FuzzDecode \
	./models/tflite:FuzzParse \
	./input:FuzzDecodePreprocess \
	./camera:FuzzStream \
	./camera/internal/jpeg:FuzzDecode

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "== $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel 1; \
	done

fmt:
	$(GO) fmt ./...

vet:
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...

clean:
	rm -rf $(BIN)
	$(GO) clean -testcache

# arm64 kernels under qemu-user: the asm suite (every body the CPU model
# supports against the portable oracle, whatever the selected path) on every
# CPU model the boards use plus "max" (every extension QEMU knows); then the
# whole models (runtime, -short) once per kernel path, each on the board CPU
# that runs it (ARM64_RUNTIME, cpu:path). armv7 (GOARM=7, 32-bit Raspberry Pi
# OS) runs the portable bodies under qemu-arm.
ARM64_CPUS ?= cortex-a53 cortex-a72 cortex-a76 max
ARM64_RUNTIME ?= cortex-a53:generic cortex-a72:neon cortex-a76:dotprod
QEMU_ARM   ?= qemu-arm
QEMU       ?= qemu-aarch64
ICOUNT     ?= $(SHARED)/tools/qemu-icount/icount
ICOUNT_DIR ?= $(BIN)/icount
# name:MACs of the whole-model rows (MACs as models/zoo counts them).
ICOUNT_MODELS ?= mobilenet_v1:568740352 mobilenet_v2:300774272 resnet18:1814073344 resnet50:4089184256

test-arm64:
	@set -e; for cpu in $(ARM64_CPUS); do \
		echo "== asm, $$cpu"; \
		GOARCH=arm64 $(GO) test -count=1 -timeout 60m -skip TestGeneratedUpToDate -exec "$(QEMU) -cpu $$cpu" ./asm/; \
	done; \
	for r in $(ARM64_RUNTIME); do cpu=$${r%%:*}; k=$${r#*:}; \
		echo "== runtime and quant, $$cpu, EDGEINFER_KERNELS=$$k"; \
		EDGEINFER_KERNELS=$$k GOARCH=arm64 $(GO) test -count=1 -short -timeout 90m -exec "$(QEMU) -cpu $$cpu" ./runtime/... ./quant/; \
	done
	@echo "== armv7 (GOARM=7), asm and runtime"
	GOARCH=arm GOARM=7 $(GO) vet ./...
	GOARCH=arm GOARM=7 $(GO) test -count=1 -short -timeout 90m -skip TestGeneratedUpToDate -exec "$(QEMU_ARM)" ./asm/ ./runtime/...
	GOARCH=arm64 $(GO) vet ./...

icount:
	mkdir -p $(ICOUNT_DIR)
	GOARCH=arm64 $(GO) test -c -o $(ICOUNT_DIR)/asm.test ./asm/
	GOARCH=arm64 $(GO) test -c -o $(ICOUNT_DIR)/runtime.test ./runtime/
	@echo "| benchmark | cpu | instructions/op | MACs/instruction |"
	@echo "|---|---|---|---|"
	@for cpu in cortex-a72 cortex-a76; do \
		for b in 'F32GemmPaths/generic$$' 'F32GemmPaths/neon$$' 'Q8GemmTiles/generic$$' 'Q8GemmTiles/mlal$$' 'Q8GemmTiles/c16$$'; do \
			ICOUNT=$(ICOUNT) scripts/icount.sh $$cpu $(ICOUNT_DIR)/asm.test "$$b" 12845056; done; \
	done
	@ICOUNT=$(ICOUNT) scripts/icount.sh cortex-a76 $(ICOUNT_DIR)/asm.test 'Q8GemmTiles/dot$$' 12845056
	@# Whole models, one thread, the best path of each CPU (neon on A72,
	@# dotprod on A76): float (BenchmarkZoo) and int8 (BenchmarkZooInt8,
	@# quant/ptq on synthetic calibration). MACs from models/zoo.
	@for m in $(ICOUNT_MODELS); do name=$${m%%:*}; macs=$${m#*:}; \
		for cpu in cortex-a72 cortex-a76; do k=neon; [ $$cpu = cortex-a76 ] && k=dotprod; \
			printf "float %s " $$k; EDGEINFER_KERNELS=$$k ICOUNT=$(ICOUNT) scripts/icount.sh $$cpu $(ICOUNT_DIR)/runtime.test "^BenchmarkZoo\$$/$$name/threads=1\$$" $$macs 2 3; \
			printf "int8 %s " $$k; EDGEINFER_KERNELS=$$k ICOUNT=$(ICOUNT) scripts/icount.sh $$cpu $(ICOUNT_DIR)/runtime.test "^BenchmarkZooInt8\$$/$$name/threads=1\$$" $$macs 2 3; \
		done; \
	done
