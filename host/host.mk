# host/host.mk: the host build, included by the Makefile. kernel/rcu.cc and
# the schemes of kernel/ls/ compile, unchanged, for Linux threads against
# the port layer in host/port/ (host/port/port.hh explains it; docs/host.md
# is the guide).
#
#   make host-test    the RCU core and every scheme on host threads, and the
#                     programs written to the liburcu interface, built and
#                     run under ThreadSanitizer and under AddressSanitizer;
#                     the deliberately broken variants must be flagged
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
# options' table, the largestruct registry and every scheme.
HOST_KERNEL_SRCS := kernel/rcu.cc kernel/waitqueue.cc kernel/options.cc lib/checksum.cc \
    $(wildcard host/port/*.cc)
HOST_LS_SRCS := $(wildcard kernel/ls/*.cc)
HOST_URCU_SRCS := host/urcu/grace_urcu.cc
HOST_URCU_TESTS := $(patsubst host/tests/%.c,%,$(wildcard host/tests/urcu_*.c))
HOST_CXXFLAGS := -std=c++20 -g -fPIC -fno-exceptions -fno-rtti -fcheck-new -fno-omit-frame-pointer \
    -Wall -Wextra -Wno-invalid-offsetof -Wno-tsan -MMD -MP \
    -DGRACE_HOST=1 -DGRACE_TARGET -Ihost/port -Ihost/urcu -Ikernel -Ilib
HOST_CFLAGS := -std=gnu11 -g -fPIC -fno-omit-frame-pointer -Wall -Wextra -Wno-tsan -MMD -MP -Ihost/urcu
HOST_LDFLAGS := -pthread -Wl,-T,host/port/sections.ld
# Per variant: optimization, sanitizer, the kernel's debug checks.
HOST_FLAGS_tsan := -O1 -fsanitize=thread -DGRACE_DEBUG=1
HOST_FLAGS_asan := -O1 -fsanitize=address -DGRACE_DEBUG=1
HOST_FLAGS_bench := -O2 -DGRACE_DEBUG=0
HOST_BENCH_SECONDS ?= 0.3
HOST_BENCH_REPS ?= 3

.PHONY: host-test host-bench host-bench-smoke host-urcu

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

HOST_TEST_BINS := $(foreach v,tsan asan,$(HOST)/$(v)/host_test $(addprefix $(HOST)/$(v)/,$(HOST_URCU_TESTS)))

host-test: $(HOST_TEST_BINS)
	$(Q)$(PYTHON) host/tests/run.py --build $(HOST)

host-urcu: $(HOST)/bench/libgrace-urcu-qsbr.so
