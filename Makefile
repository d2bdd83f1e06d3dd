# The project is on Go 1.27.3; machines with an older Go fetch it by itself.
export GOTOOLCHAIN := go1.27.3

BIN := bin/ticketportal

.PHONY: run build test test-go test-e2e e2e-deps browser bench bench-replication fuzz

## run: start the server on http://127.0.0.1:8090 with its data in ./pb_data
run: build
	./$(BIN) serve --http=127.0.0.1:8090 --dir=./pb_data

build:
	go build -o $(BIN) .

## test: every test (Go scenarios, then the Node and browser end-to-end tests)
test: test-go test-e2e

test-go:
	go test -count=1 ./...

# The end-to-end tests (Node) start the built binary themselves.
test-e2e: build e2e-deps browser
	@if [ -d e2e ] && ls e2e/*.test.mjs >/dev/null 2>&1; then \
		cd e2e && PORTAL_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 ; \
	fi

# Debian's Chromium for the browser tests, installed when missing (as root
# through apt-get; elsewhere install it yourself). Never a test tool's own
# browser download.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
		else echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

e2e-deps:
	@if [ -f e2e/package.json ]; then cd e2e && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund); fi

## bench: the side-by-side benchmark (needs wrk; TICKETS=1000000 for the large run)
TICKETS ?= 100000
bench: build
	go run ./bench -bin $(BIN) -tickets $(TICKETS)

## bench-replication: /sendTicket with the replication off and on (A/B
## rounds, same run), then the restore time of the replica (needs wrk)
bench-replication: build
	go run ./bench -bin $(BIN) -tickets $(TICKETS) -replication -rounds 3

## fuzz: run every fuzz target of ./routes for FUZZTIME each (their seeds
## also run in test-go); a failing input is saved under routes/testdata/fuzz
FUZZTIME ?= 2s
fuzz:
	@for target in $$(go test -list '^Fuzz' ./routes | grep '^Fuzz'); do \
		echo "fuzz $$target ($(FUZZTIME))"; \
		go test ./routes -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) || exit 1; \
	done
