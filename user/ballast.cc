// user/ballast.cc: `ballast`: a process holding 4 MiB of memory until its
// parent exits (then it exits 0).
//
// The 4 MiB are zero-filled data (.bss): exec allocates and zeroes every
// page of a program before it runs (there is no demand paging), so each
// ballast process takes 1024 pages plus its page tables from the moment it
// starts. `hostile memhog` starts as many as memory holds, and releases
// them all by exiting: the kernel re-parents orphans to process 1, which
// is how a ballast notices (sys_getppid changes).
#include "ulib.hh"

namespace {
constexpr size_t BALLAST_BYTES = 4 << 20;
[[gnu::used]] char ballast[BALLAST_BYTES];
}

int main(int argc, char**) {
    if (argc != 1) {
        dprintf(2, "usage: ballast\n");
        return 2;
    }
    ballast[BALLAST_BYTES - 1] = 1;       // (the pages are there already)
    // Orphaned: the parent has exited (we now belong to process 1), or had
    // exited before we looked (then the parent is process 1 already).
    int parent = sys_getppid();
    while (parent != 1 && sys_getppid() == parent) sys_msleep(5);
    return 0;
}
