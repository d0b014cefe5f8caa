// kernel/proc.cc: processes: creation, fork, exec, exit and wait.
//
// The process tree (parent pointers and children lists) changes only under
// proc_tree_lock. sys_getppid reads `parent` without that lock, inside an
// RCU read section: a parent's `proc` is freed with rcu_free, so a child
// that loaded the pointer just before the parent was reaped still reads
// valid memory, and re-parenting publishes the new parent with a release
// store.
//
// THE PID TABLE. Every task with a pid is in pid_table, an rcu_hash_table
// (rculist.hh), from the moment it is fully set up (its name, parent and
// address space: proc_publish) until its parent reaps it. Lookups
// (pid_lookup, sys_procinfo) take no lock: they run in an RCU read
// section. fork, kernel-thread creation and reaping insert and remove under
// the table's own lock; proc_free removes a task before it queues the
// proc's rcu_free (the order matters: the rules at the top of rculist.hh).
#include "proc.hh"
#include "vm.hh"
#include "kalloc.hh"
#include "initfs.hh"
#include "apic.hh"
#include "trace.hh"
#include <new>

spinlock proc_tree_lock{"proc_tree_lock"};
static proc* init_proc;
static std::atomic<int> next_pid{1};
static std::atomic<int> nprocs{0};
static rcu_hash_table<proc, offsetof(proc, pid_node), 128> pid_table;
// Every process, for `ps`. A plain spinlock, not the rwlock: the rwlock is
// pset 1's, and the kernel must not depend on a student's lock to boot.
static list_head all_procs;
static spinlock all_procs_lock{"all_procs_lock"};
extern "C" void task_first_entry();
extern "C" void user_task_start();

int proc_count() { return nprocs.load(); }
int proc_last_pid() { return next_pid.load() - 1; }

// proc_set_name(p, name): change p's name (cut to fit). Only p itself (or
// whoever creates p, before it is published) calls this. The sequence count
// is odd while the bytes change; preemption stays off meanwhile, so that a
// reader spinning on another CPU waits for a few stores, never for a
// preempted writer.
static void proc_set_name(proc* p, const char* name) {
    preempt_guard g;
    uint32_t seq = p->name_seq.load(std::memory_order_relaxed);
    p->name_seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);   // the odd count before the bytes
    strncpy_safe(p->name, name, sizeof(p->name));
    p->name_seq.store(seq + 2, std::memory_order_release);
}

// proc_copy_name(p, out): a whole name of p's, never half of two (see
// proc_set_name): copy, and copy again if the count changed meanwhile.
static void proc_copy_name(const proc* p, char (&out)[sizeof(proc::name)]) {
    while (true) {
        uint32_t seq = p->name_seq.load(std::memory_order_acquire);
        if (seq & 1) {
            cpu_relax();
            continue;
        }
        memcpy(out, p->name, sizeof(out));
        std::atomic_thread_fence(std::memory_order_acquire);   // the bytes before the re-check
        if (p->name_seq.load(std::memory_order_relaxed) == seq) break;
    }
    out[sizeof(out) - 1] = 0;
}

// proc_publish(p): p is fully set up: put it in the pid table, where
// lookups find it from now on.
static void proc_publish(proc* p) { pid_table.insert(uint64_t(p->pid), p); }

proc* pid_lookup(int pid) { return pid > 0 ? pid_table.lookup(uint64_t(pid)) : nullptr; }

// ps_state(p): p's state as sys_procinfo reports it (PS_*, lib/abi.hh).
static int ps_state(const proc* p) {
    switch (p->state.load(std::memory_order_relaxed)) {
    case TASK_ZOMBIE: return PS_ZOMBIE;
    case TASK_BLOCKED:
    case TASK_SLEEPING: return PS_SLEEPING;
    default: return p->on_cpu.load(std::memory_order_relaxed) ? PS_RUNNING : PS_RUNNABLE;
    }
}

int proc_info(int pid, procinfo* out) {
    // BEGIN PSET 5 BUG: procinfo-unlock
    rcu_read_guard g;
    // STUB: rcu_read_lock();
    // END PSET 5 BUG
    const proc* p = pid_lookup(pid);
    if (!p) return -ESRCH;
    out->pid = p->pid;
    const proc* parent = p->parent.load();
    out->ppid = parent ? parent->pid : 0;
    out->state = ps_state(p);
    out->cpu = p->last_cpu.load(std::memory_order_relaxed);
    proc_copy_name(p, out->name);
    // BEGIN PSET 5 BUG: procinfo-unlock
    // STUB: rcu_read_unlock();
    // END PSET 5 BUG
    return 0;
}

// take_proc_slot(who): count one more task, unless a user task would make
// more than NPROC.
static bool take_proc_slot(alloc_for who) {
    int n = nprocs.load();
    do {
        if (who == alloc_for::user && n >= NPROC) return false;
    } while (!nprocs.compare_exchange_weak(n, n + 1));
    return true;
}

proc* proc_alloc(const char* name, alloc_for who, int* err) {
    int dummy;
    int& error = err ? *err : dummy;
    if (!take_proc_slot(who)) {
        error = -EAGAIN;
        return nullptr;
    }
    error = -ENOMEM;
    void* mem = kmalloc(sizeof(proc), who);
    void* kstack = mem ? kalloc_pages(KSTACK_PAGES, who) : nullptr;
    if (!kstack) {
        kfree(mem);
        nprocs.fetch_sub(1);
        return nullptr;
    }
    proc* p = new (mem) proc;
    p->kstack = kstack;
    p->pid = next_pid.fetch_add(1);
    proc_set_name(p, name);
    {
        spinlock_guard g(all_procs_lock);
        all_procs.push_back(&p->all_link);
    }
    return p;
}

// proc_unlist(p): p leaves the list of processes; its kernel stack is freed.
static void proc_unlist(proc* p) {
    {
        spinlock_guard g(all_procs_lock);
        list_head::erase(&p->all_link);
    }
    nprocs.fetch_sub(1);
    kfree_pages(p->kstack);
    p->kstack = nullptr;
}

void proc_dump() {
    static const char* const states[] = {"run", "block", "zombie", "sleep"};
    spinlock_guard g(all_procs_lock);
    console_printf("  PID  PPID  STATE   CPU  NAME\n");
    for (list_links* l = all_procs.front(); l && l != all_procs.end(); l = l->next) {
        proc* p = container_of(l, proc, all_link);
        rcu_read_guard rg;
        proc* parent = p->parent.load();
        int st = p->state.load();
        console_printf("%5d %5d  %-6s %4d%c %s%s\n", p->pid, parent ? parent->pid : 0,
                       st >= 0 && st < 4 ? states[st] : "?", p->home_cpu, p->on_cpu ? '*' : ' ',
                       p->name, p->is_kthread ? " [kernel]" : "");
    }
}

static void proc_free(proc* p) {
    // The task switched away for the last time; its stack can go now, the
    // proc itself after a grace period (children and pid lookups may be
    // reading it). It leaves the pid table before the rcu_free is queued
    // (see the top of rculist.hh).
    while (p->on_cpu.load(std::memory_order_acquire)) cpu_relax();
    proc_unlist(p);
    pid_table.remove(p);
    rcu_free(p);
}

// init_switch_frame(p, fn, arg): make p's first switch_stacks land in
// task_first_entry, which calls fn(arg).
static void init_switch_frame(proc* p, void (*fn)(), uintptr_t arg, uintptr_t below) {
    auto* frame = reinterpret_cast<uintptr_t*>(round_down<uintptr_t>(below, 16) - 56);
    frame[0] = 0;              // r15
    frame[1] = 0;              // r14
    frame[2] = arg;            // r13
    frame[3] = uintptr_t(fn);  // r12
    frame[4] = 0;              // rbx
    frame[5] = 0;              // rbp
    frame[6] = uintptr_t(task_first_entry);
    p->saved_rsp = uintptr_t(frame);
}

proc* kthread_create(const char* name, void (*fn)(void*), void* arg) {
    proc* p = proc_alloc(name);
    if (!p) return nullptr;
    p->is_kthread = true;
    p->pagetable = kernel_pagetable;
    init_switch_frame(p, reinterpret_cast<void (*)()>(fn), uintptr_t(arg), p->kstack_top());
    proc_publish(p);
    return p;
}

proc* kthread_spawn_on(int cpu, const char* name, void (*fn)(void*), void* arg) {
    proc* p = kthread_create(name, fn, arg);
    assert(p);
    p->pinned = p->home_cpu = cpu;
    enqueue_new(p);
    return p;
}

// link_child(parent, child): under proc_tree_lock.
static void link_child(proc* parent, proc* child) {
    child->parent.publish(parent);
    parent->children.push_back(&child->child_link);
}

// proc_fork(regs): a copy of the caller, every user page copied now.
// -EAGAIN when the process table is full, -ENOMEM when memory is short
// (then everything allocated so far is freed again).
int proc_fork(regstate* regs) {
    proc* parent = current();
    int err;
    proc* child = proc_alloc(parent->name, alloc_for::user, &err);
    if (!child) return err;
    child->pagetable = pt_clone(parent->pagetable);
    if (!child->pagetable) {
        proc_unlist(child);
        delete child;
        return -ENOMEM;
    }
    *child->regs() = *regs;
    child->regs()->reg_rax = 0;
    child->pinned = parent->pinned;
    child->home_cpu = parent->pinned >= 0 ? parent->pinned : parent->home_cpu;
    init_switch_frame(child, user_task_start, uintptr_t(child->regs()), uintptr_t(child->regs()));
    {
        spinlock_guard g(proc_tree_lock);
        link_child(parent, child);
    }
    proc_publish(child);
    int pid = child->pid;
    enqueue_new(child);
    return pid;
}

// load_elf(pt, image, size, &entry): map a program's PT_LOAD segments.
static bool load_elf(uint64_t* pt, const uint8_t* image, size_t size, uintptr_t* entry) {
    struct elf64_ehdr { uint8_t ident[16]; uint16_t type, machine; uint32_t version;
        uint64_t entry, phoff, shoff; uint32_t flags; uint16_t ehsize, phentsize, phnum,
        shentsize, shnum, shstrndx; };
    struct elf64_phdr { uint32_t type, flags; uint64_t offset, vaddr, paddr, filesz, memsz, align; };
    if (size < sizeof(elf64_ehdr)) return false;
    auto* eh = reinterpret_cast<const elf64_ehdr*>(image);
    if (memcmp(eh->ident, "\x7f" "ELF", 4) != 0 || eh->phoff + eh->phnum * sizeof(elf64_phdr) > size) {
        return false;
    }
    auto* ph = reinterpret_cast<const elf64_phdr*>(image + eh->phoff);
    for (int i = 0; i < eh->phnum; ++i) {
        if (ph[i].type != 1) continue;                 // PT_LOAD
        if (ph[i].vaddr >= USER_TOP || ph[i].memsz > USER_TOP - ph[i].vaddr
            || ph[i].offset + ph[i].filesz > size) {
            return false;
        }
        uint64_t perm = PTE_U | ((ph[i].flags & 2) ? PTE_W : 0) | ((ph[i].flags & 1) ? 0 : PTE_NX);
        for (uintptr_t va = round_down<uintptr_t>(ph[i].vaddr, PAGESIZE);
             va < ph[i].vaddr + ph[i].memsz; va += PAGESIZE) {
            uint64_t* pte = pt_lookup(pt, va);
            void* page;
            if (pte) {
                page = pa2kva(*pte & PTE_ADDR);
                *pte |= perm & PTE_W;
                if (!(perm & PTE_NX)) *pte &= ~PTE_NX;
            } else {
                page = kalloc_zeroed_page(alloc_for::user);
                if (!page || !pt_map(pt, va, kva2pa(page), perm)) {
                    kfree_page(page);
                    return false;
                }
            }
            // Copy the part of the file that falls in this page.
            uintptr_t seg_file_end = ph[i].vaddr + ph[i].filesz;
            uintptr_t lo = max<uintptr_t>(va, ph[i].vaddr), hi = min<uintptr_t>(va + PAGESIZE, seg_file_end);
            if (lo < hi) {
                memcpy(static_cast<char*>(page) + (lo - va), image + ph[i].offset + (lo - ph[i].vaddr), hi - lo);
            }
        }
    }
    *entry = eh->entry;
    return true;
}

// proc_exec(p, name, argc, argv): replace p's image with program `name`.
// argv strings are kernel copies. Builds the whole new address space
// before touching the old one, so a failure leaves p as it was.
int proc_exec(proc* p, const char* name, int argc, const char* const* argv) {
    const initfs_file* f = initfs_find(name);
    if (!f) return -ENOENT;
    uint64_t* pt = pt_create();
    if (!pt) return -ENOMEM;
    uintptr_t entry;
    if (!load_elf(pt, f->data, f->size, &entry)) {
        pt_destroy(pt);
        return -ENOMEM;
    }
    // Stack: argv strings at the top, then the argv array.
    char* stack_pages[USER_STACK_PAGES];
    for (size_t i = 0; i < USER_STACK_PAGES; ++i) {
        stack_pages[i] = static_cast<char*>(kalloc_zeroed_page(alloc_for::user));
        uintptr_t va = USER_STACK_TOP - (USER_STACK_PAGES - i) * PAGESIZE;
        if (!stack_pages[i] || !pt_map(pt, va, kva2pa(stack_pages[i]), PTE_U | PTE_W | PTE_NX)) {
            kfree_page(stack_pages[i]);
            pt_destroy(pt);
            return -ENOMEM;
        }
    }
    char* top_page = stack_pages[USER_STACK_PAGES - 1];   // the last page: args fit in it
    size_t off = PAGESIZE;
    uintptr_t uargv[33];
    argc = min(argc, 32);
    for (int i = 0; i < argc; ++i) {
        size_t n = strlen(argv[i]) + 1;
        if (off < n + 8 * 40) break;
        off -= n;
        memcpy(top_page + off, argv[i], n);
        uargv[i] = USER_STACK_TOP - PAGESIZE + off;
    }
    uargv[argc] = 0;
    off = round_down<size_t>(off, 16) - 8 * (argc + 1);
    off = round_down<size_t>(off, 16);
    memcpy(top_page + off, uargv, 8 * (argc + 1));
    uintptr_t uargv_va = USER_STACK_TOP - PAGESIZE + off;

    proc_set_name(p, name);
    uint64_t* old = p->pagetable;
    p->pagetable = pt;
    if (p == current()) wrcr3(kva2pa(pt));
    if (old) pt_destroy(old);
    regstate* r = p->regs();
    memset(r, 0, sizeof(*r));
    r->reg_rip = entry;
    r->reg_cs = SEG_UCODE;
    r->reg_ss = SEG_UDATA;
    r->reg_rflags = EFLAGS_IF;
    r->reg_rsp = uargv_va - 8;     // as if called: rsp+8 is 16-aligned
    r->reg_rdi = argc;
    r->reg_rsi = uargv_va;
    return 0;
}

void proc_start_init(const char* name, int argc, const char* const* argv) {
    proc* p = proc_alloc(name);
    assert(p && p->pid == 1);
    int r = proc_exec(p, name, argc, argv);
    if (r < 0) panic("cannot start init program '%s': %s", name,
                     r == -ENOENT ? "no such program in the boot image (see `ls` in sh)" : "out of memory");
    init_switch_frame(p, user_task_start, uintptr_t(p->regs()), uintptr_t(p->regs()));
    init_proc = p;
    proc_publish(p);
    enqueue_new(p);
}

void proc_exit(int status) {
    proc* p = current();
    if (p == init_proc) {
        trace_dump("exit", true);
        console_printf("grace: power off: init exited with status %d\n", status);
        power_off(status == 0 ? 0 : 1);
    }
    if (!p->is_kthread) {
        // Leave the address space before freeing it. Interrupts stay off
        // until p->pagetable no longer names it: a preemption between the
        // wrcr3 and the store would resume p on the old page table, which
        // pt_destroy then frees under this CPU's feet (forktree at NCPU=4
        // died with a triple fault that way).
        uint64_t* pt;
        {
            irq_guard g;
            pt = p->pagetable;
            p->pagetable = kernel_pagetable;
            p->is_kthread = true;
            wrcr3(kva2pa(kernel_pagetable));
        }
        pt_destroy(pt);
    }
    proc* parent;
    {
        spinlock_guard g(proc_tree_lock);
        // Orphans go to init.
        bool zombie_child = false;
        while (list_links* l = p->children.pop_front()) {
            proc* c = container_of(l, proc, child_link);
            link_child(init_proc, c);
            zombie_child |= c->state.load() == TASK_ZOMBIE;
        }
        if (zombie_child) wake_proc_tree(init_proc);
        p->exit_status = status;
        parent = p->parent.load_locked(proc_tree_lock);
        p->state.store(TASK_ZOMBIE);
        wake_proc_tree(parent);
    }
    // A zombie is never put back on a run queue: this switch is the last.
    cli();
    this_cpu()->schedule();
    panic("zombie %d ran again", p->pid);
}

// Parents wait for children on this queue (one for all: waits are rare).
static wait_queue child_exit_wq;
void wake_proc_tree(proc*) { child_exit_wq.wake_all(); }

int proc_waitpid(int pid, int* status_out) {
    proc* me = current();
    proc* found = nullptr;
    int result = 0;
    wait_until(child_exit_wq, [&] {
        spinlock_guard g(proc_tree_lock);
        bool any = false;
        for (list_links* l = me->children.front(); l && l != me->children.end(); l = l->next) {
            proc* c = container_of(l, proc, child_link);
            if (pid != 0 && c->pid != pid) continue;
            any = true;
            if (c->state.load() == TASK_ZOMBIE) {
                list_head::erase(l);
                found = c;
                return true;
            }
        }
        if (!any) {
            result = -ECHILD;
            return true;
        }
        return false;
    });
    if (!found) return result;
    int cpid = found->pid;
    if (status_out) *status_out = found->exit_status;
    proc_free(found);
    return cpid;
}

// kthread_join(p): wait for kernel thread p (from kthread_create, no
// parent) to exit, then free it.
void kthread_join(proc* p) {
    assert(p->is_kthread && !p->parent.peek());
    wait_until(child_exit_wq, [&] { return p->state.load() == TASK_ZOMBIE; });
    proc_free(p);
}

// proc_kill_current(r, what): a fault in user code ends only that process.
void proc_kill_current(regstate* r, const char* what) {
    proc* p = current();
    log_printf("proc %d (%s): %s at rip %#lx, address %#lx: killed", p->pid, p->name, what,
               r->reg_rip, r->reg_intno == INT_PF ? rdcr2() : 0);
    proc_exit(256 + int(r->reg_intno));
}
