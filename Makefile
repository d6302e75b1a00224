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

.PHONY: help build test test-short cross bench fixtures-deps fixtures-big test-big fmt vet clean

help:
	@echo "build         go build ./... and $(BIN)/edgeinfer"
	@echo "test          go vet ./... and go test ./... (the CI command)"
	@echo "test-short    go test -short ./..."
	@echo "cross         static linux/arm64 and linux/arm (GOARM=7) binaries in $(BIN)/"
	@echo "bench         runtime benchmarks (-benchtime 5x)"
	@echo "fixtures-big  generate full-size PyTorch fixtures into $(BIG) (apt: python3-torch python3-torchvision python3-onnx)"
	@echo "test-big      run the runtime fixture tests on $(BIG) as well"
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

bench:
	$(GO) test -run XXX -bench . ./runtime/ -benchtime 5x

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

fmt:
	$(GO) fmt ./...

vet:
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...

clean:
	rm -rf $(BIN)
	$(GO) clean -testcache
