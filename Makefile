# constancia — see README.md. `make run` and `make test` install what is
# missing (Debian/Ubuntu packages via .ci/deps) before doing their job.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export OMP_THREAD_LIMIT := 1
export GOFLAGS ?= -mod=mod
BIN := bin/constancia
DATA ?= ./data

.PHONY: deps build run test vet bench eval clean

deps:
	@./.ci/deps

build: deps
	go build -o $(BIN) ./cmd/constancia

# Until the service lands: generate a few vouchers and read them back.
run: build
	$(BIN) synth --out $(DATA)/demo -n 6
	$(BIN) scan $(DATA)/demo

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	go vet ./...

test: deps vet
	go test -count=1 -timeout 30m ./...

bench: build
	go test -run '^$$' -bench . -benchtime 3x -benchmem ./...
	@if [ -d ../shared/corpus/dev ]; then \
	  echo "== dev corpus (originals)"; $(BIN) eval --kind original --labels ../shared/corpus/dev/labels.jsonl ../shared/corpus/dev | tail -1; \
	  echo "== side by side on the dev corpus, 2 at a time"; \
	  CONSTANCIA_BENCH_DIR=$(abspath ../shared/corpus/dev) go test -run '^$$' -bench Throughput -benchtime 1x ./ocr; \
	fi

clean:
	rm -rf bin
