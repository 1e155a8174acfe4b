# The two commands of the README. Both are idempotent and start from a fresh machine.
#   make run   installs what is missing, builds, and runs the main job on ./data
#   make test  installs what is missing, builds, and runs the whole test suite
BUILD ?= build
JOBS  ?= $(shell nproc)
DATA  ?= data

.PHONY: run test build setup clean

setup:
	bash tools/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

run: build
	bash tools/run.sh $(BUILD)/tools/leanos $(DATA)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
