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

const ls_scheme scheme = {LS_NONE, "none", init, read, write};
LS_SCHEME(scheme);
}
