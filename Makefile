# posthorn: `make test` installs what the tests need and runs every test.
GO ?= go

.PHONY: test build bench vet

build:
	$(GO) build -o posthorn ./cmd/posthorn
	$(GO) build -o mailbench ./cmd/mailbench

test:
	./scripts/test-deps.sh
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

bench:
	./scripts/bench-ingest.sh
