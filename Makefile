# Grace: a teaching kernel about RCU. README.md documents every target and knob.
#
#   make               build the kernel and every program
#   make run           boot to the shell (quit: Ctrl-a x)
#   make run-NAME      boot with program NAME as process 1 (ARGS="a b", NCPU=N)
#   make run-gdb / gdb debug (two terminals)
#   make check         the test suite (TESTS=pattern, STRESS=1)
#   make bench         benchmarks: table, build/bench/results.json, scaling.svg

NCPU ?= 2
V ?= 0
DEBUG ?= 1
BUILD ?= build
OPTS ?=
ARGS ?=
TIMEOUT ?= 600
STRESS ?=
export TESTS STRESS
export GRACE_BUILD := $(BUILD)

Q := $(if $(filter 1,$(V)),,@)
CROSS := $(if $(shell command -v x86_64-elf-g++ 2>/dev/null),x86_64-elf-,)
CXX := $(CROSS)g++
LD := $(CROSS)ld
OBJCOPY := $(CROSS)objcopy
NM := $(CROSS)nm
PYTHON ?= python3

COMMON_FLAGS := -std=c++20 -O2 -g -ffreestanding -fno-exceptions -fno-rtti -nostdlib \
    -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
    -fno-asynchronous-unwind-tables -fno-threadsafe-statics -fno-use-cxa-atexit \
    -mgeneral-regs-only -Wall -Wextra -Wno-invalid-offsetof -MMD -MP -Ilib -DGRACE_TARGET
# -fcheck-new: kmalloc returns nullptr when memory is short, so `new T` must
# test for it before running T's constructor (the standard lets the compiler
# assume a throwing operator new never returns null).
KERNEL_FLAGS := $(COMMON_FLAGS) -mno-red-zone -mcmodel=kernel -fcheck-new -Ikernel -DGRACE_DEBUG=$(DEBUG)
USER_FLAGS := $(COMMON_FLAGS) -Iuser -static

LIB_SRCS := $(filter-out lib/test_lib.cc,$(wildcard lib/*.cc))
KERNEL_SRCS := $(wildcard boot/*.S) $(wildcard kernel/*.S) $(wildcard kernel/*.cc) $(LIB_SRCS)
KERNEL_OBJS := $(patsubst %,$(BUILD)/k/%.o,$(KERNEL_SRCS))
# A program is any user/NAME.cc that defines main: no list to edit.
MAIN_RE := ^\s*int\s+main\s*[(]
PROGRAMS := $(sort $(patsubst user/%.cc,%,$(shell grep -lE '$(MAIN_RE)' user/*.cc)))
ULIB_SRCS := user/crt0.S $(filter-out $(addprefix user/,$(addsuffix .cc,$(PROGRAMS))),$(wildcard user/*.cc)) $(LIB_SRCS)
ULIB_OBJS := $(patsubst %,$(BUILD)/u/%.o,$(ULIB_SRCS))
USER_BINS := $(addprefix $(BUILD)/bin/,$(PROGRAMS))

all: deps $(BUILD)/kernel.bin $(BUILD)/kernel.sym compile_commands.json
.PHONY: all deps run run-gdb gdb check clean bench bench-linux test-lib FORCE

# deps: the host tools. Missing ones are installed with apt when we are
# root; otherwise the exact command to run is printed. (QEMU itself is
# checked by tests/qemu.py when it is first needed.)
DEPS := $(CXX):g++ $(LD):binutils $(OBJCOPY):binutils $(PYTHON):python3
deps:
	@missing=""; for d in $(DEPS); do command -v $${d%%:*} >/dev/null 2>&1 || missing="$$missing $${d##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "Grace: installing$$missing"; \
	    apt-get install -y $$missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y $$missing; }; \
	  else echo "Grace needs:$$missing. Run:  sudo apt-get install -y$$missing"; exit 1; fi; fi

# Each compile also records itself for compile_commands.json (clangd).
define record
	$(Q)printf '{"directory": "%s", "file": "%s", "command": "%s"},\n' "$(CURDIR)" "$<" "$(subst ",\",$(1))" > $@.json
endef

$(BUILD)/k/%.cc.o: %.cc $(BUILD)/flags.k
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CXX     $<")
	$(Q)$(CXX) $(KERNEL_FLAGS) -c $< -o $@
	$(call record,$(CXX) $(KERNEL_FLAGS) -c $< -o $@)
$(BUILD)/k/%.S.o: %.S $(BUILD)/flags.k
	@mkdir -p $(@D)
	$(if $(Q),@echo "  AS      $<")
	$(Q)$(CXX) $(KERNEL_FLAGS) -c $< -o $@
	$(call record,$(CXX) $(KERNEL_FLAGS) -c $< -o $@)
$(BUILD)/u/%.cc.o: %.cc $(BUILD)/flags.k
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CXX     $< (user)")
	$(Q)$(CXX) $(USER_FLAGS) -c $< -o $@
	$(call record,$(CXX) $(USER_FLAGS) -c $< -o $@)
$(BUILD)/u/%.S.o: %.S $(BUILD)/flags.k
	@mkdir -p $(@D)
	$(Q)$(CXX) $(USER_FLAGS) -c $< -o $@
	$(call record,$(CXX) $(USER_FLAGS) -c $< -o $@)

# Rebuild everything when the flags (DEBUG=, a cross compiler) change.
$(BUILD)/flags.k: FORCE
	@mkdir -p $(@D)
	@echo '$(CXX) $(KERNEL_FLAGS) $(USER_FLAGS)' | cmp -s - $@ || echo '$(CXX) $(KERNEL_FLAGS) $(USER_FLAGS)' > $@

$(BUILD)/bin/%: $(BUILD)/u/user/%.cc.o $(ULIB_OBJS) user/user.ld
	@mkdir -p $(@D)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(LD) -T user/user.ld -z max-page-size=4096 -o $@ $(BUILD)/u/user/crt0.S.o $< $(filter-out %crt0.S.o,$(ULIB_OBJS))

# The boot image's programs: one .incbin per program (kernel/initfs.hh).
$(BUILD)/programs.list: FORCE
	@mkdir -p $(@D)
	@echo '$(PROGRAMS)' | cmp -s - $@ || echo '$(PROGRAMS)' > $@
$(BUILD)/initfs.S: $(BUILD)/programs.list
	$(Q){ echo '.section .rodata'; \
	  for p in $(PROGRAMS); do \
	    printf '.balign 16\nprog_%s: .incbin "%s"\nprog_%s_end:\nname_%s: .asciz "%s"\n' $$p $(BUILD)/bin/$$p $$p $$p $$p; \
	  done; \
	  printf '.balign 8\n.globl initfs_files\ninitfs_files:\n'; \
	  for p in $(PROGRAMS); do printf '.quad name_%s, prog_%s, prog_%s_end - prog_%s\n' $$p $$p $$p $$p; done; \
	  printf '.globl initfs_nfiles\ninitfs_nfiles: .long %d\n' $(words $(PROGRAMS)); } > $@
$(BUILD)/initfs.o: $(BUILD)/initfs.S $(USER_BINS)
	$(Q)$(CXX) -c $< -o $@

$(BUILD)/kernel.elf: $(KERNEL_OBJS) $(BUILD)/initfs.o link.ld
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(LD) -T link.ld -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -o $@ $(KERNEL_OBJS) $(BUILD)/initfs.o
$(BUILD)/kernel.bin: $(BUILD)/kernel.elf
	$(Q)$(OBJCOPY) -O binary $< $@
# Symbols for backtraces; QEMU loads this file as a multiboot module.
$(BUILD)/kernel.sym: $(BUILD)/kernel.elf
	$(Q)$(NM) -n -C --defined-only $< | grep -i ' [tw] ' > $@

compile_commands.json: $(KERNEL_OBJS) $(ULIB_OBJS) $(patsubst $(BUILD)/bin/%,$(BUILD)/u/user/%.cc.o,$(USER_BINS))
	$(Q){ echo '['; cat $(addsuffix .json,$^) | sed '$$ s/,$$//'; echo ']'; } > $@

# --- running -------------------------------------------------------------
QEMU_OPTS := --ncpu $(NCPU) $(foreach o,$(OPTS),--opt $(o)) --kernel $(BUILD)/kernel.bin --syms $(BUILD)/kernel.sym
GDBPORT ?= $(shell expr 12000 + `id -u` % 5000)

run: all
	@echo "Grace: booting with NCPU=$(NCPU); quit QEMU with Ctrl-a x"
	$(Q)$(PYTHON) tests/qemu.py --interactive $(QEMU_OPTS)

run-gdb: all $(BUILD)/gdbinit
	@echo "QEMU waits for GDB on port $(GDBPORT): run 'make gdb' in another terminal"
	$(Q)$(PYTHON) tests/qemu.py --interactive --gdb $(GDBPORT) $(QEMU_OPTS) $(if $(NAME),-- $(NAME) $(ARGS))

run-%: all
	$(Q)$(PYTHON) tests/qemu.py --timeout $(TIMEOUT) $(QEMU_OPTS) -- $* $(ARGS)

$(BUILD)/gdbinit: FORCE
	@mkdir -p $(@D)
	@sed -e 's|@KERNEL@|$(BUILD)/kernel.elf|' -e 's|@PORT@|$(GDBPORT)|' tests/gdbinit.in > $@

gdb: $(BUILD)/gdbinit
	@command -v gdb >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get install -y gdb || { apt-get update && apt-get install -y gdb; }; else echo "gdb not found: run  sudo apt-get install -y gdb"; exit 1; fi; }
	gdb -q -x $(BUILD)/gdbinit

# --- testing -------------------------------------------------------------
JOBS ?= 2
check: all test-lib
	$(Q)$(PYTHON) tests/readside.py $(BUILD)/kernel.elf
	$(Q)$(PYTHON) tests/run.py $(if $(STRESS),--stress) --jobs $(JOBS)

test-lib: $(BUILD)/test_lib
	$(Q)$(BUILD)/test_lib >/dev/null && echo "lib: host unit tests passed"
$(BUILD)/test_lib: lib/test_lib.cc lib/printf.cc lib/checksum.cc lib/printf.hh lib/checksum.hh lib/abi.hh
	@mkdir -p $(@D)
	$(Q)g++ -O2 -fno-builtin -Ilib lib/test_lib.cc lib/printf.cc lib/checksum.cc -o $@

clean:
	rm -rf build compile_commands.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- benchmarks (added for `make bench`; tests/bench.py, user/bench.cc) ----
#   make bench           non-debug kernel in build/bench-kernel, booted at
#                        NCPU=1,2 (FULL=1: 1,2,4 and 5 reps) with poison=0;
#                        table on the terminal, build/bench/results.json and
#                        build/bench/scaling.svg. BENCH_SECONDS=N per measurement.
#   make bench-linux     the same numbers (reused from build/bench/results.json
#                        when present) beside Linux's, from
#                        ../shared/tools/linux-peer/run.sh.
BENCH_BUILD := build/bench-kernel
BENCH_SECONDS ?= 1
ifeq ($(FULL),1)
BENCH_ARGS := --ncpus 1,2,4 --mode full
else
BENCH_ARGS := --ncpus 1,2 --mode quick
endif
BENCH_CMD = $(PYTHON) tests/bench.py --build $(BENCH_BUILD) $(BENCH_ARGS) --seconds $(BENCH_SECONDS) --opt poison=0

bench:
	$(MAKE) BUILD=$(BENCH_BUILD) DEBUG=0 all
	$(Q)$(BENCH_CMD)

bench-linux:
	$(MAKE) BUILD=$(BENCH_BUILD) DEBUG=0 all
	$(Q)$(BENCH_CMD) --linux --reuse
