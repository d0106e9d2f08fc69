# constancia — see README.md. `make run` and `make test` install what is
# missing (Debian/Ubuntu packages via .ci/deps) before doing their job.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export OMP_THREAD_LIMIT := 1
export GOFLAGS ?= -mod=mod
BIN := bin/constancia
DATA ?= ./data

.PHONY: deps build run test vet bench eval clean s3server

# The S3 tests run against a real versitygw on loopback; built once, cached
# outside the repo.
VERSITYGW := $(HOME)/.cache/constancia/bin/versitygw
export CONSTANCIA_VERSITYGW := $(VERSITYGW)

deps:
	@./.ci/deps

build: deps
	go build -o $(BIN) ./cmd/constancia

# The service on the embedded default: bbolt and the filesystem under ./data.
run: build
	$(BIN) serve --data $(DATA)

vet: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	go vet ./...

$(VERSITYGW):
	@echo "building versitygw v1.8.0 for the S3 tests (about 2 minutes, once)"
	cd /tmp && GOFLAGS= GOBIN=$(dir $(VERSITYGW)) go install github.com/versity/versitygw/cmd/versitygw@v1.8.0

s3server: $(VERSITYGW)

# The console's browser test drives Debian's Chromium.
test: vet s3server
	@./.ci/deps chromium
	go test -count=1 -timeout 30m ./...

bench: build
	go test -p 1 -run '^$$' -bench . -benchtime 3x -benchmem ./...
	@if [ -d ../shared/corpus/dev ]; then \
	  echo "== dev corpus (originals)"; $(BIN) eval --kind original --labels ../shared/corpus/dev/labels.jsonl ../shared/corpus/dev | tail -1; \
	  echo "== decisions on the dev corpus"; $(BIN) eval --decide --labels ../shared/corpus/dev/labels.jsonl ../shared/corpus/dev | grep -v '^wrong'; \
	  echo "== side by side on the dev corpus, 2 at a time"; \
	  CONSTANCIA_BENCH_DIR=$(abspath ../shared/corpus/dev) go test -run '^$$' -bench Throughput -benchtime 1x ./ocr; \
	fi

clean:
	rm -rf bin
