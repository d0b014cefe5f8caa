// kernel/initfs.cc: look up a program in the boot image.
#include "initfs.hh"
#include "kernel.hh"

const initfs_file* initfs_find(const char* name) {
    for (int i = 0; i < initfs_nfiles; ++i) {
        if (strcmp(initfs_files[i].name, name) == 0) return &initfs_files[i];
    }
    return nullptr;
}
