# Convenience targets; the scripts are the source of truth (they install what they need).
.PHONY: run test build bench clean
run:
	./scripts/run
test:
	./scripts/test
build:
	./scripts/build
bench:
	./scripts/bench
clean:
	rm -rf build build-asan out
