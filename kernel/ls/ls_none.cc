// kernel/ls/ls_none.cc: LS_NONE, no protection at all: the speed limit.
// One struct, written in place while others read it, so readers see torn
// structs. Unsafe; here only to measure what protection costs.
#include "ls.hh"

namespace {
largestruct the_ls;

void init() {}

long read(size_t len) { return long(ls_checksum(the_ls.c, len)); }

long write(const char* data, size_t len) {
    memcpy(the_ls.c, data, len);
    return 0;
}

constexpr ls_scheme scheme = {
    .id = LS_NONE,
    .name = "none",
    .init = init,
    .read = read,
    .write = write,
    .current = ls_current_in_place(the_ls),
};
LS_SCHEME(scheme);
}
