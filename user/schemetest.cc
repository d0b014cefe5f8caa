// user/schemetest.cc: `schemetest mem SCHEME [SECONDS]`: after a hammer run
// on SCHEME (user/hammer.cc, default 1 second) every page comes back.
//
// A short warm-up hammer run first lets the kernel heap and the scheme
// reach their working size (one current struct stays allocated). Before
// each count of free pages, `ktest scheme-settle SCHEME` reclaims what the
// scheme defers by design (hazptr: its retire list; refcount: the eraser's
// list, after its delay) and rcu-barrier frees the exited processes.
// Prints "schemetest: SCHEME: free pages before B after A" and
// "schemetest: PASS" (exit 0) or "schemetest: FAIL ..." (exit 1).
#include "ulib.hh"

namespace {
[[noreturn]] void usage() {
    dprintf(2, "usage: schemetest mem SCHEME [SECONDS]\n");
    sys_exit(2);
}

// hammer(name, seconds): run `hammer name seconds` and return its status.
int hammer(const char* name, const char* seconds) {
    const char* argv[] = {"hammer", name, seconds, nullptr};
    int pid = spawn("hammer", argv);
    if (pid < 0) die("cannot start hammer: %d", pid);
    int status = -1;
    if (sys_waitpid(pid, &status) != pid) die("waitpid(%d) failed", pid);
    return status;
}

// settled_free_pages(scheme): free pages once nothing is left deferred.
long settled_free_pages(int scheme) {
    if (sys_ktest("scheme-settle", scheme) < 0) die("scheme-settle %d failed", scheme);
    if (sys_ktest("rcu-barrier") < 0) die("rcu-barrier failed");
    return sys_kstat(KSTAT_FREE_PAGES);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4 || strcmp(argv[1], "mem") != 0) usage();
    int scheme = ls_scheme_parse(argv[2]);
    if (scheme < 0) usage();
    const char* seconds = argc > 3 ? argv[3] : "1";
    const char* name = ls_scheme_name(scheme);
    if (int st = hammer(name, "300ms"); st != 0) {
        printf("schemetest: FAIL (warm-up hammer exited %d)\n", st);
        return 1;
    }
    long before = settled_free_pages(scheme);
    int st = hammer(name, seconds);
    long after = settled_free_pages(scheme);
    printf("schemetest: %s: free pages before %ld after %ld\n", name, before, after);
    if (st != 0) {
        printf("schemetest: FAIL (hammer exited %d)\n", st);
        return 1;
    }
    if (after != before) {
        printf("schemetest: FAIL (%ld pages not returned)\n", before - after);
        return 1;
    }
    printf("schemetest: PASS\n");
    return 0;
}
