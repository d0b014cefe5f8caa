# Grace: a teaching kernel about RCU. README.md lists every target and knob.
#
#   make               build the kernel and every program
#   make run           boot to the shell (quit: Ctrl-a x)
#   make run-NAME      boot with program NAME as process 1 (ARGS="a b", NCPU=N)
#   make trace-NAME    the same, traced: build/trace/NAME.json and NAME.svg
#   make run-gdb[-NAME], make gdb   debug with GDB (two terminals)
#   make check         the test suite (TESTS=pattern, STRESS=1); with no
#                      TESTS, also host-test and a smoke run of host-bench
#   make model         spin checks the model of RCU's grace periods (model/)
#   make host-test     RCU and the schemes on host threads under TSan and ASan
#   make bench         benchmarks: table, build/bench/results.json, scaling.svg
#   make host-bench    the schemes beside liburcu and pthread_rwlock, natively
#   make grade         the autograder (PSET=N, GRADE_JSON=path, RUNS=R)
#   make grade-flakes  grade RUNS=N times (default 20): which tests lose points
#   make submit        hand in a pset (PSET=N): psets/README.md
#   make handout PSET=N  the student tree for pset N (HANDOUT=dir, HANDOUT_REPO=dir)

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
OBJDUMP := $(CROSS)objdump
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
KERNEL_SRCS := $(wildcard boot/*.S) $(wildcard kernel/*.S) $(wildcard kernel/*.cc kernel/*/*.cc) $(LIB_SRCS)
KERNEL_OBJS := $(patsubst %,$(BUILD)/k/%.o,$(KERNEL_SRCS))
# A program is any user/NAME.cc that defines main: no list to edit.
MAIN_RE := ^\s*int\s+main\s*[(]
PROGRAMS := $(sort $(patsubst user/%.cc,%,$(shell grep -lE '$(MAIN_RE)' user/*.cc)))
ULIB_SRCS := user/crt0.S $(filter-out $(addprefix user/,$(addsuffix .cc,$(PROGRAMS))),$(wildcard user/*.cc)) $(LIB_SRCS)
ULIB_OBJS := $(patsubst %,$(BUILD)/u/%.o,$(ULIB_SRCS))
USER_BINS := $(addprefix $(BUILD)/bin/,$(PROGRAMS))

all: deps $(BUILD)/kernel.bin $(BUILD)/kernel.sym $(BUILD)/kernel.asm compile_commands.json
.PHONY: all deps run run-gdb gdb gdbinit check check-host check-psets grade grade-flakes handout submit clean bench bench-linux test-lib model mutate FORCE

# deps: the host tools. Missing ones are installed with apt when we are
# root; otherwise the exact command to run is printed. (QEMU itself is
# checked by tools/qemu.py when it is first needed; liburcu, which only the
# host build's tests and benchmark need, is installed here as root, else by
# those targets: host/host.mk.)
DEPS := $(CXX):g++ $(LD):binutils $(OBJCOPY):binutils $(PYTHON):python3
deps:
	$(call install_missing,$(DEPS))
	$(call host_urcu_install,)

# install_missing(COMMAND:PACKAGE ...): the one recipe that installs host
# tools: each COMMAND not found installs its PACKAGE.
define install_missing
	@missing=""; for d in $(1); do command -v $${d%%:*} >/dev/null 2>&1 || missing="$$missing $${d##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "Grace: installing$$missing"; \
	    apt-get install -y $$missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y $$missing; }; \
	  else echo "Grace needs:$$missing. Run:  sudo apt-get install -y$$missing"; exit 1; fi; fi
endef

# compile(FLAGS, WHAT): the one compile recipe: build $@ from $< with
# FLAGS, say WHAT (unless V=1), and record the command for
# compile_commands.json (clangd).
define compile
	@mkdir -p $(@D)
	$(if $(Q),@echo "  $(2)")
	$(Q)$(CXX) $(1) -c $< -o $@
	$(Q)printf '{"directory": "%s", "file": "%s", "command": "%s"},\n' "$(CURDIR)" "$<" "$(subst ",\",$(CXX) $(1) -c $< -o $@)" > $@.json
endef

$(BUILD)/k/%.cc.o: %.cc $(BUILD)/flags.k
	$(call compile,$(KERNEL_FLAGS),CXX     $<)
$(BUILD)/k/%.S.o: %.S $(BUILD)/flags.k
	$(call compile,$(KERNEL_FLAGS),AS      $<)
$(BUILD)/u/%.cc.o: %.cc $(BUILD)/flags.k
	$(call compile,$(USER_FLAGS),CXX     $< (user))
$(BUILD)/u/%.S.o: %.S $(BUILD)/flags.k
	$(call compile,$(USER_FLAGS),AS      $< (user))

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
# The kernel's disassembly interleaved with its source, to read what the
# compiler made of a function (search for its name).
$(BUILD)/kernel.asm: $(BUILD)/kernel.elf
	$(if $(Q),@echo "  OBJDUMP $@")
	$(Q)$(OBJDUMP) -S -C --no-show-raw-insn $< > $@

compile_commands.json: $(KERNEL_OBJS) $(ULIB_OBJS) $(patsubst $(BUILD)/bin/%,$(BUILD)/u/user/%.cc.o,$(USER_BINS))
	$(Q){ echo '['; cat $(addsuffix .json,$^) | sed '$$ s/,$$//'; echo ']'; } > $@

# --- running -------------------------------------------------------------
QEMU_OPTS := --ncpu $(NCPU) $(foreach o,$(OPTS),--opt $(o)) --kernel $(BUILD)/kernel.bin --syms $(BUILD)/kernel.sym

run: all
	@echo "Grace: booting with NCPU=$(NCPU); quit QEMU with Ctrl-a x"
	$(Q)$(PYTHON) tools/qemu.py --interactive $(QEMU_OPTS)

run-%: all
	$(Q)$(PYTHON) tools/qemu.py --timeout $(TIMEOUT) $(QEMU_OPTS) -- $* $(ARGS)

# trace-NAME: run-NAME with the kernel's event tracing on (kernel/trace.hh;
# OPTS="trace=rcu" picks the classes); writes build/trace/NAME.json (open it
# in ui.perfetto.dev or chrome://tracing) and NAME.svg (tools/ktrace.py).
trace-%: all
	$(Q)$(PYTHON) tools/ktrace.py run --ncpu $(NCPU) --timeout $(TIMEOUT) \
	    $(foreach o,$(OPTS),--opt $(o)) --out $(BUILD)/trace/$* -- $* $(ARGS)

# --- debugging with GDB (docs/gdb.md) ------------------------------------
# run-gdb-NAME starts QEMU stopped, GDB stub on 127.0.0.1:GDBPORT (a port
# per user, so students sharing a machine do not collide), boot option
# gdb=1 (a panic halts instead of ending QEMU); it records NAME in
# $(BUILD)/gdb-program so that `make gdb` loads that program's symbols.
# (run-gdb-% wins over run-% for run-gdb-NAME: make picks the shorter stem.)
GDBPORT ?= $(shell expr 12000 + `id -u` % 5000)
GDBINIT ?= $(BUILD)/gdbinit
GDB_PROGRAM ?= $(shell cat $(BUILD)/gdb-program 2>/dev/null || echo sh)

# write_gdbinit: tools/gdb/gdbinit.in -> $(GDBINIT) for program $(1).
define write_gdbinit
	@mkdir -p $(dir $(GDBINIT))
	@sed -e 's|@KERNEL@|$(abspath $(BUILD))/kernel.elf|' -e 's|@PROGRAM@|$(abspath $(BUILD))/bin/$(1)|' \
	  -e 's|@GRACE_PY@|$(CURDIR)/tools/gdb/grace.py|' -e 's|@PORT@|$(GDBPORT)|' tools/gdb/gdbinit.in > $(GDBINIT)
endef

run-gdb: run-gdb-$(if $(NAME),$(NAME),sh)

run-gdb-%: all
	@test -f $(BUILD)/bin/$* || { echo "run-gdb-$*: no program '$*' (programs: $(PROGRAMS))"; exit 2; }
	@echo '$*' > $(BUILD)/gdb-program
	$(call write_gdbinit,$*)
	@echo "Grace: QEMU waits for GDB on 127.0.0.1:$(GDBPORT) ($* as process 1, NCPU=$(NCPU))."
	@echo "       In another terminal: make gdb   (or: gdb -x $(GDBINIT)). Quit QEMU: Ctrl-a x"
	$(Q)$(PYTHON) tools/qemu.py --interactive --gdb $(GDBPORT) $(QEMU_OPTS) -- $* $(ARGS)

# gdbinit: only write $(GDBINIT) (for GDB_PROGRAM; tests/tests_gdb.py).
gdbinit:
	$(call write_gdbinit,$(GDB_PROGRAM))

gdb:
	@command -v gdb >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get install -y gdb || { apt-get update && apt-get install -y gdb; }; else echo "gdb not found: run  sudo apt-get install -y gdb"; exit 1; fi; }
	@test -f $(BUILD)/kernel.elf || { echo "no $(BUILD)/kernel.elf: start QEMU with make run-gdb-NAME first"; exit 1; }
	$(call write_gdbinit,$(GDB_PROGRAM))
	gdb -q -x $(GDBINIT)

# --- testing -------------------------------------------------------------
JOBS ?= 2
check: all test-lib check-host
	$(if $(TESTS)$(REPEAT),,$(Q)$(MAKE) --no-print-directory -j$(JOBS) host-test host-bench-smoke)
	$(Q)$(PYTHON) tests/readside.py $(BUILD)/kernel.elf
	$(Q)$(PYTHON) tools/abi.py > /dev/null && echo "abi: lib/abi.hh's tables parse"
	$(if $(TESTS)$(REPEAT),,$(Q)$(MAKE) --no-print-directory model)
	$(Q)$(PYTHON) tests/test_trace.py
	$(Q)$(PYTHON) tests/run.py $(if $(STRESS),--stress) $(if $(REPEAT),--repeat $(REPEAT)) --jobs $(JOBS)

# mutate: mutation testing (tools/mutate.py): each deliberate bug of
# tests/mutations.py in turn, in scratch copies under $(BUILD)/mutate; every
# one must make a test fail. MUTANTS=pattern picks some. Not part of check.
MUTANTS ?=
export MUTANTS
mutate: all
	$(Q)$(PYTHON) tools/mutate.py --jobs $(JOBS)

# check-host: the host-side checks of the handouts (text only, seconds):
# markers and allow-list, no answer in any handout, every name the
# handout's text mentions exists, releases, pulls and submission refusals,
# and the grader's run scheduling and kernel-warning rule.
check-host:
	$(Q)$(PYTHON) tests/test_handout.py
	$(Q)$(PYTHON) tests/test_grade.py
	$(Q)$(PYTHON) tests/check_leaks.py
	$(Q)$(PYTHON) tests/check_names.py
	$(Q)$(PYTHON) tests/test_release.py
	$(Q)$(PYTHON) tools/mutate.py --check

# check-psets (minutes; CI runs it after check): each pset's handout
# builds, boots, keeps the earlier psets' marks and scores zero on its own,
# the solution scores full marks, a hand-in's patch applies to its release,
# grading with the course's tests ignores a student's edited tests, and
# every known-wrong solution of staff/wrong loses what it must
# (tests/check_wrong.py; WRONG=id picks entries).
WRONG ?=
check-psets: all
	$(Q)$(PYTHON) tests/check_handouts.py --jobs $(JOBS)
	$(Q)$(PYTHON) tests/check_grading.py --jobs $(JOBS)
	$(Q)$(PYTHON) tests/check_wrong.py --jobs $(JOBS) $(if $(WRONG),--only $(WRONG))

# model: the spin model checker explores every interleaving of the model of
# RCU's grace periods (model/rcu.pml, docs/model.md), and shows that each
# broken variant fails. A pset 1 or 2 handout has no model/: it would solve
# pset 2.
model:
	$(call install_missing,spin:spin gcc:gcc)
	$(Q)if [ -f model/check.py ]; then $(PYTHON) model/check.py --jobs $(JOBS); \
	else echo "model: no model/ in this tree (a pset handout leaves it out until pset 2 is over)"; fi

test-lib: $(BUILD)/test_lib
	$(Q)$(BUILD)/test_lib >/dev/null && echo "lib: host unit tests passed"
$(BUILD)/test_lib: lib/test_lib.cc lib/printf.cc lib/checksum.cc lib/printf.hh lib/checksum.hh lib/abi.hh
	@mkdir -p $(@D)
	$(Q)g++ -O2 -fno-builtin -Ilib lib/test_lib.cc lib/printf.cc lib/checksum.cc -o $@

# --- problem sets (psets/README.md; course staff: staff/README.md) --------
#   make grade [PSET=N] [RUNS=R] [GRADE_JSON=path] [GRADESCOPE=path]
#              [GRADE_TESTS=dir]     score sheet (+ JSON); with the tests of
#                                    the staff tree dir instead of these
#   make submit [PSET=N]             build/submit/pset-N.tar.gz to hand in
#   make handout PSET=N [HANDOUT=dir | HANDOUT_REPO=dir] [EARLIER=student|staff]
#                                    [SEED=n: pset 5, which planted bug]
#                                    the student tree, or a release commit
PSET ?=
RUNS ?=
GRADE_JSON ?=
grade: all
	$(Q)$(PYTHON) tools/grade.py $(foreach n,$(PSET),--pset $(n)) $(if $(RUNS),--runs $(RUNS)) \
	    --jobs $(JOBS) $(if $(GRADE_JSON),--json $(GRADE_JSON)) \
	    $(if $(GRADESCOPE),--gradescope $(GRADESCOPE)) $(if $(GRADE_TESTS),--tests $(GRADE_TESTS))

# grade-flakes: the solution tree graded RUNS times over (default 20; here
# RUNS counts gradings, each with psets.RUNS runs of a concurrency test):
# per test, how many gradings lost its points and why (staff/grading.md).
grade-flakes: all
	$(Q)$(PYTHON) tools/grade_flakes.py --gradings $(or $(RUNS),20) $(foreach n,$(PSET),--pset $(n)) \
	    --jobs $(JOBS)

submit:
	$(Q)$(PYTHON) tools/submit.py $(if $(PSET),--pset $(PSET))

handout:
	@test -n "$(PSET)" || { echo "usage: make handout PSET=N [HANDOUT=dir | HANDOUT_REPO=dir] [EARLIER=student|staff]   (staff/README.md)"; exit 2; }
	$(Q)$(if $(HANDOUT_REPO),$(PYTHON) tools/release.py $(PSET) $(HANDOUT_REPO),$(PYTHON) tools/handout.py $(PSET) $(or $(HANDOUT),$(BUILD)/handout-pset$(PSET))) $(if $(EARLIER),--earlier $(EARLIER)) $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(BUILD) compile_commands.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- the host build: kernel/rcu.cc and the schemes on Linux threads -------
include host/host.mk

# --- benchmarks (docs/benchmarks.md; tools/bench.py, user/bench.cc) -------
#   make bench           non-debug kernel in build/bench-kernel, booted at
#                        NCPU=1,2 (FULL=1: 1,2,4 and 5 reps) with poison=0;
#                        table on the terminal, build/bench/results.json and
#                        build/bench/scaling.svg. BENCH_SECONDS=N per measurement;
#                        OPTS="k=v" adds boot options (e.g. hazptr_asym=1);
#                        NCPU=N on the command line measures at N CPUs only.
#   make bench-linux     the same numbers (reused from build/bench/results.json
#                        when they cover the CPU counts) beside Linux's:
#                        tools/linux-peer boots Debian's kernel in the same
#                        QEMU machine and measures getpid/getppid there.
BENCH_BUILD := build/bench-kernel
BENCH_SECONDS ?= 1
ifeq ($(FULL),1)
BENCH_ARGS := --ncpus 1,2,4 --mode full
else
BENCH_ARGS := --ncpus 1,2 --mode quick
endif
ifeq ($(origin NCPU),command line)
BENCH_ARGS += --ncpus $(NCPU)
endif
BENCH_CMD = $(PYTHON) tools/bench.py --build $(BENCH_BUILD) $(BENCH_ARGS) --seconds $(BENCH_SECONDS) --opt poison=0 $(foreach o,$(OPTS),--opt $(o))

bench:
	$(MAKE) BUILD=$(BENCH_BUILD) DEBUG=0 all
	$(Q)$(BENCH_CMD)

bench-linux:
	$(MAKE) BUILD=$(BENCH_BUILD) DEBUG=0 all
	$(Q)$(BENCH_CMD) --linux --reuse
