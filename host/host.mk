# host/host.mk: the host build, included by the Makefile. kernel/rcu.cc and
# the schemes of kernel/ls/ compile, unchanged, for Linux threads against
# the port layer in host/port/ (host/port/port.hh explains it; docs/host.md
# is the guide).
#
#   make host-test    the RCU core and every scheme on host threads, and the
#                     programs written to the liburcu interface, built and
#                     run under ThreadSanitizer and under AddressSanitizer;
#                     the deliberately broken variants must be flagged; the
#                     liburcu programs also run against liburcu itself
#   make host-bench   every scheme, liburcu's qsbr and memb flavors,
#                     pthread_rwlock, the unprotected read and an empty loop,
#                     natively: table, build/bench/host-results.json,
#                     build/bench/host-scaling.svg (HOST_BENCH_SECONDS=s,
#                     HOST_BENCH_REPS=n)
#   make host-urcu    libgrace-urcu-qsbr.so alone (build/host/bench/)
#
# Each variant has its own objects under $(BUILD)/host/VARIANT/, rebuilt
# only when a source or the flags change.

HOST := $(BUILD)/host
HOST_VARIANTS := tsan asan bench
# The kernel files the host build compiles: RCU, wait queues, the boot
# options' table, the lock checker, the event trace (compiled, never turned
# on), the largestruct registry and every scheme; and the port.
HOST_KERNEL_SRCS := kernel/rcu.cc kernel/waitqueue.cc kernel/options.cc kernel/lockdep.cc \
    kernel/trace.cc lib/checksum.cc $(wildcard host/port/*.cc)
HOST_LS_SRCS := $(wildcard kernel/ls/*.cc)
HOST_URCU_SRCS := host/urcu/grace_urcu.cc
HOST_URCU_TESTS := $(patsubst host/tests/%.c,%,$(wildcard host/tests/urcu_*.c))
HOST_CXXFLAGS := -std=c++20 -g1 -fPIC -fno-exceptions -fno-rtti -fcheck-new -fno-omit-frame-pointer \
    -Wall -Wextra -Wno-invalid-offsetof -Wno-tsan -MMD -MP \
    -DGRACE_HOST=1 -DGRACE_TARGET -Ihost/port -Ihost/urcu -Ikernel -Ilib
HOST_CFLAGS := -std=gnu11 -g1 -fPIC -fno-omit-frame-pointer -Wall -Wextra -Wno-tsan -MMD -MP -Ihost/urcu
HOST_LDFLAGS := -pthread -rdynamic -Wl,-T,host/port/sections.ld
# Per variant: optimization, sanitizer, the kernel's debug checks.
HOST_FLAGS_tsan := -O1 -fsanitize=thread -DGRACE_DEBUG=1
HOST_FLAGS_asan := -O1 -fsanitize=address -DGRACE_DEBUG=1
HOST_FLAGS_bench := -O2 -DGRACE_DEBUG=0
HOST_BENCH_SECONDS ?= 0.3
HOST_BENCH_REPS ?= 3

.PHONY: host-test host-bench host-bench-smoke host-urcu host-deps host-check

# host_objs(VARIANT, SOURCES): the variant's object files for SOURCES.
host_objs = $(patsubst %,$(HOST)/$(1)/%.o,$(2))

# host_variant(VARIANT): the rules for one variant.
define host_variant
$(HOST)/$(1)/flags: FORCE
	@mkdir -p $$(@D)
	@echo 'g++ $$(HOST_CXXFLAGS) $$(HOST_CFLAGS) $$(HOST_FLAGS_$(1))' | cmp -s - $$@ \
	  || echo 'g++ $$(HOST_CXXFLAGS) $$(HOST_CFLAGS) $$(HOST_FLAGS_$(1))' > $$@
$(HOST)/$(1)/%.cc.o: %.cc $(HOST)/$(1)/flags
	@mkdir -p $$(@D)
	$$(if $$(Q),@echo "  CXX     $$< (host $(1))")
	$$(Q)g++ $$(HOST_CXXFLAGS) $$(HOST_FLAGS_$(1)) -c $$< -o $$@
$(HOST)/$(1)/%.c.o: %.c $(HOST)/$(1)/flags
	@mkdir -p $$(@D)
	$$(if $$(Q),@echo "  CC      $$< (host $(1))")
	$$(Q)gcc $$(HOST_CFLAGS) $$(filter-out -DGRACE_DEBUG=%,$$(HOST_FLAGS_$(1))) -c $$< -o $$@
$(HOST)/$(1)/libgrace-urcu-qsbr.so: $(call host_objs,$(1),$(HOST_KERNEL_SRCS) $(HOST_URCU_SRCS))
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)g++ -shared $$(HOST_FLAGS_$(1)) -pthread -o $$@ $$^
$(HOST)/$(1)/host_test: $(call host_objs,$(1),$(HOST_KERNEL_SRCS) $(HOST_LS_SRCS) $(wildcard host/tests/*.cc)) host/port/sections.ld
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)g++ $$(HOST_FLAGS_$(1)) $$(HOST_LDFLAGS) -o $$@ $$(filter %.o,$$^)
$(HOST)/$(1)/urcu_%: $(HOST)/$(1)/host/tests/urcu_%.c.o $(HOST)/$(1)/libgrace-urcu-qsbr.so
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)gcc $$(HOST_FLAGS_$(1)) -pthread -o $$@ $$< -L$$(@D) -Wl,-rpath,$$(abspath $$(@D)) -lgrace-urcu-qsbr
endef
$(foreach v,$(HOST_VARIANTS),$(eval $(call host_variant,$(v))))

# Keep the C programs' objects (make would delete them as intermediates).
.SECONDARY: $(foreach v,$(HOST_VARIANTS),$(patsubst %,$(HOST)/$(v)/host/tests/%.c.o,$(HOST_URCU_TESTS)))

HOST_TEST_BINS := $(foreach v,tsan asan,$(HOST)/$(v)/host_test $(addprefix $(HOST)/$(v)/,$(HOST_URCU_TESTS))) \
    $(addprefix $(HOST)/liburcu/,$(HOST_URCU_TESTS))

# The same C programs built against liburcu itself (no -Ihost/urcu): they
# are written to its interface alone, and must pass there too.
$(HOST)/liburcu/urcu_%: host/tests/urcu_%.c | host-deps
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $< (against liburcu)")
	$(Q)gcc -std=gnu11 -O1 -g1 -Wall -Wextra -pthread -o $@ $< -lurcu-qsbr -lurcu-common

host-test: $(HOST_TEST_BINS)
	$(Q)$(PYTHON) host/tests/run.py --build $(HOST)

host-urcu: $(HOST)/bench/libgrace-urcu-qsbr.so

# host-check: what `make check` runs of the host build.
host-check: host-test host-bench-smoke

# --- host-bench -----------------------------------------------------------
# host_urcu_install(REQUIRED): liburcu (Debian's liburcu-dev, for the
# benchmark's liburcu flavors and the urcu programs' run against it) is
# installed when missing, as `make deps` does for the compiler: as root with
# apt-get; otherwise, if REQUIRED, the command is printed and it is an
# error. `make deps` runs it without REQUIRED: the kernel does not need
# liburcu, so a build by a user who is not root says nothing about it.
define host_urcu_install
	@if [ -z "$$(ls /usr/include/urcu/urcu-qsbr.h /usr/include/*/urcu/urcu-qsbr.h 2>/dev/null)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "Grace: installing liburcu-dev"; \
	    apt-get install -y liburcu-dev >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y liburcu-dev; }; \
	  $(if $(1),else echo "Grace's host tests and host-bench need liburcu. Run:  sudo apt-get install -y liburcu-dev"; exit 1;) \
	  fi; fi
endef
host-deps:
	$(call host_urcu_install,required)

HOST_BENCH_OBJS := $(call host_objs,bench,$(HOST_KERNEL_SRCS) $(HOST_LS_SRCS) host/bench/host_bench.cc) \
    $(HOST)/bench/urcu_qsbr.o $(HOST)/bench/urcu_memb.o
# urcu_flavor.cc, once per liburcu flavor.
$(HOST)/bench/urcu_%.o: host/bench/urcu_flavor.cc $(HOST)/bench/flags | host-deps
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CXX     $< (host bench, liburcu $*)")
	$(Q)g++ $(HOST_CXXFLAGS) $(HOST_FLAGS_bench) -Ihost/bench -DURCU_FLAVOR_$(shell echo $* | tr a-z A-Z) -c $< -o $@
$(HOST)/bench/host_bench: $(HOST_BENCH_OBJS) host/port/sections.ld
	$(if $(Q),@echo "  LD      $@")
	$(Q)g++ $(HOST_FLAGS_bench) $(HOST_LDFLAGS) -o $@ $(filter %.o,$^) -lurcu-qsbr -lurcu-memb -lurcu-common

HOST_BENCH_CMD = $(PYTHON) tools/host_bench.py --binary $(HOST)/bench/host_bench
host-bench: host-deps $(HOST)/bench/host_bench
	$(Q)$(HOST_BENCH_CMD) --seconds $(HOST_BENCH_SECONDS) --reps $(HOST_BENCH_REPS)
# The smoke run of `make check`: a few milliseconds per measurement, one
# rep; it checks the results' shape and that every implementation reported
# a rate, never how fast (build/host/bench-smoke/).
host-bench-smoke: host-deps $(HOST)/bench/host_bench
	$(Q)$(HOST_BENCH_CMD) --smoke --out $(HOST)/bench-smoke
