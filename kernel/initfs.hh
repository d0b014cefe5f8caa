// kernel/initfs.hh: the programs linked into the kernel image.
// build/initfs.S (made by the Makefile from every user/NAME.cc with a
// main) defines the table; there is no list to edit.
#pragma once
#include <stddef.h>
#include <stdint.h>

struct initfs_file {
    const char* name;
    const uint8_t* data;
    size_t size;
};
extern "C" const initfs_file initfs_files[];
extern "C" const int initfs_nfiles;
const initfs_file* initfs_find(const char* name);
