// kernel/apic.cc: ACPI's MADT, the local and I/O APICs, IPIs and the clock.
#include "kernel.hh"
#include "apic.hh"
#include "cpu.hh"

namespace {
constexpr uintptr_t LAPIC_PA = 0xfee00000;
uintptr_t ioapic_pa = 0xfec00000;
uint32_t irq_gsi[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
uint32_t lapic_timer_per_sec;
uint64_t tsc_at_boot;
uint64_t ns_mult;                   // ns = tsc_delta * ns_mult >> 32

enum : uint32_t {
    LAPIC_ID = 0x20, LAPIC_TPR = 0x80, LAPIC_EOI = 0xb0, LAPIC_SVR = 0xf0,
    LAPIC_ICR_LO = 0x300, LAPIC_ICR_HI = 0x310, LAPIC_LVT_TIMER = 0x320,
    LAPIC_LVT_LINT0 = 0x350, LAPIC_LVT_LINT1 = 0x360, LAPIC_LVT_ERROR = 0x370,
    LAPIC_TIMER_INIT = 0x380, LAPIC_TIMER_CUR = 0x390, LAPIC_TIMER_DIV = 0x3e0,
};

inline volatile uint32_t& lapic_reg(uint32_t off) { return *pa2kva<volatile uint32_t>(LAPIC_PA + off); }

struct __attribute__((packed)) sdt_header {
    char sig[4]; uint32_t length; uint8_t rev, checksum; char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
};
struct __attribute__((packed)) rsdp {
    char sig[8]; uint8_t checksum; char oem[6]; uint8_t rev; uint32_t rsdt;
    uint32_t length; uint64_t xsdt; uint8_t xchecksum, reserved[3];
};

bool checksum_ok(const void* p, size_t n) {
    uint8_t sum = 0;
    for (size_t i = 0; i < n; ++i) sum += static_cast<const uint8_t*>(p)[i];
    return sum == 0;
}

const rsdp* find_rsdp() {
    // The BIOS puts the RSDP on a 16-byte boundary in its ROM area or the EBDA.
    uintptr_t ebda = uintptr_t(*pa2kva<uint16_t>(0x40e)) << 4;
    uintptr_t areas[2][2] = {{ebda, ebda + 1024}, {0xe0000, 0x100000}};
    for (auto& a : areas) {
        for (uintptr_t pa = a[0]; pa && pa < a[1]; pa += 16) {
            auto* r = pa2kva<const rsdp>(pa);
            if (memcmp(r->sig, "RSD PTR ", 8) == 0 && checksum_ok(r, 20)) return r;
        }
    }
    return nullptr;
}

const sdt_header* find_table(const char* sig) {
    const rsdp* r = find_rsdp();
    if (!r) return nullptr;
    bool x = r->rev >= 2 && r->xsdt;
    auto* root = pa2kva<const sdt_header>(x ? r->xsdt : r->rsdt);
    size_t n = (root->length - sizeof(sdt_header)) / (x ? 8 : 4);
    auto* entries = reinterpret_cast<const uint8_t*>(root + 1);
    for (size_t i = 0; i < n; ++i) {
        uint64_t pa = 0;
        memcpy(&pa, entries + i * (x ? 8 : 4), x ? 8 : 4);
        auto* t = pa2kva<const sdt_header>(pa);
        if (memcmp(t->sig, sig, 4) == 0 && checksum_ok(t, t->length)) return t;
    }
    return nullptr;
}

void ioapic_write(uint32_t reg, uint32_t v) {
    *pa2kva<volatile uint32_t>(ioapic_pa) = reg;
    *pa2kva<volatile uint32_t>(ioapic_pa + 0x10) = v;
}
uint32_t ioapic_read(uint32_t reg) {
    *pa2kva<volatile uint32_t>(ioapic_pa) = reg;
    return *pa2kva<volatile uint32_t>(ioapic_pa + 0x10);
}

// PIT channel 2, gated through port 0x61, counts down at 1193182 Hz.
void pit_wait_ms(unsigned ms) {
    uint32_t count = 1193182 * ms / 1000;
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);     // gate on, speaker off
    outb(0x43, 0xb0);                            // channel 2, lo/hi, mode 0
    outb(0x42, count & 0xff);
    outb(0x42, (count >> 8) & 0xff);
    while (!(inb(0x61) & 0x20)) cpu_relax();         // OUT2 goes high at zero
}
}

uint64_t tsc_per_sec;

int acpi_find_cpus() {
    auto* madt = find_table("APIC");
    if (!madt) {
        cpus[0].apic_id = lapic_id();
        return 1;
    }
    int n = 0;
    auto* p = reinterpret_cast<const uint8_t*>(madt) + sizeof(sdt_header) + 8;
    auto* end = reinterpret_cast<const uint8_t*>(madt) + madt->length;
    uint32_t bsp = lapic_id();
    for (; p < end && p[1] >= 2; p += p[1]) {
        if (p[0] == 0 && (p[4] & 1) && n >= MAXCPU) {
            console_printf("grace: ignoring CPU with APIC id %u: MAXCPU is %d\n", p[3], MAXCPU);
        } else if (p[0] == 0 && (p[4] & 1)) {               // enabled local APIC
            cpus[n++].apic_id = p[3];
        } else if (p[0] == 1) {                              // I/O APIC
            uint32_t a;
            memcpy(&a, p + 4, 4);
            ioapic_pa = a;
        } else if (p[0] == 2 && p[3] < 16) {                 // ISA IRQ override
            memcpy(&irq_gsi[p[3]], p + 4, 4);
        }
    }
    // The bootstrap CPU is cpu 0.
    for (int i = 1; i < n; ++i) {
        if (cpus[i].apic_id == bsp) {
            cpus[i].apic_id = cpus[0].apic_id;
            cpus[0].apic_id = bsp;
        }
    }
    return n ? n : 1;
}

uint32_t lapic_id() { return lapic_reg(LAPIC_ID) >> 24; }

void lapic_init() {
    // Mask the old 8259 PICs first: the BIOS left the PIT's IRQ 0 running
    // through LINT0, and QEMU keeps such a request pending until the APIC
    // is re-evaluated (the TPR write below does that). Left alone, it is
    // delivered as a bogus vector the moment interrupts are enabled.
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1 << 11));   // enable
    lapic_reg(LAPIC_SVR) = 0x100 | INT_SPURIOUS;
    lapic_reg(LAPIC_LVT_TIMER) = 0x10000;                       // masked
    lapic_reg(LAPIC_LVT_LINT0) = 0x10000;
    lapic_reg(LAPIC_LVT_LINT1) = 0x10000;
    lapic_reg(LAPIC_LVT_ERROR) = 0x10000;
    lapic_reg(LAPIC_TPR) = 0;
    lapic_reg(LAPIC_EOI) = 0;
}

void lapic_eoi() { lapic_reg(LAPIC_EOI) = 0; }

void lapic_timer_start(unsigned hz) {
    lapic_reg(LAPIC_TIMER_DIV) = 0x3;                           // divide by 16
    lapic_reg(LAPIC_LVT_TIMER) = 0x20000 | INT_TIMER;           // periodic
    lapic_reg(LAPIC_TIMER_INIT) = max<uint32_t>(lapic_timer_per_sec / hz, 1);
}

static void ipi_wait_idle() {
    while (lapic_reg(LAPIC_ICR_LO) & (1 << 12)) cpu_relax();
}

void lapic_send_ipi(int cpu_index, int vector) {
    irq_guard g;
    ipi_wait_idle();
    lapic_reg(LAPIC_ICR_HI) = cpus[cpu_index].apic_id << 24;
    lapic_reg(LAPIC_ICR_LO) = vector;
}

void lapic_broadcast_ipi(int vector) {
    irq_guard g;
    ipi_wait_idle();
    lapic_reg(LAPIC_ICR_HI) = 0;
    lapic_reg(LAPIC_ICR_LO) = (3 << 18) | vector;               // all but self
}

void membarrier_all() {
    uint64_t seen[MAXCPU];
    preempt_guard g;
    int me = this_cpu()->index;
    for (int i = 0; i < ncpu; ++i) {
        if (i == me) continue;
        seen[i] = cpus[i].barrier_acks.load(std::memory_order_acquire);
        lapic_send_ipi(i, INT_IPI_BARRIER);
    }
    // The handler's locked add drains that CPU's store buffer; seeing the
    // count move means its earlier stores are visible to us.
    for (int i = 0; i < ncpu; ++i) {
        if (i == me) continue;
        while (cpus[i].barrier_acks.load(std::memory_order_acquire) == seen[i]) cpu_relax();
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

#if GRACE_DEBUG
std::atomic<int> store_buffer_armed{-1};
std::atomic<int> store_buffer_holder{-1};
static void* held_where;
static uintptr_t held_value;

void store_buffer_arm(int cpu) { store_buffer_armed.store(cpu); }

bool store_buffer_hold_word(void* where, uintptr_t value) {
    irq_guard g;
    int me = this_cpu()->index;
    if (store_buffer_holder.load() == me && held_where == where) {
        held_value = value;          // a later store to the held word waits behind it
        return true;
    }
    int armed = me;
    if (!store_buffer_armed.compare_exchange_strong(armed, -1)) return false;
    held_where = where;
    held_value = value;
    store_buffer_holder.store(me);
    return true;
}

// store_buffer_drain_slow(): on the CPU that holds the store, make it.
void store_buffer_drain_slow() {
    irq_guard g;
    if (store_buffer_holder.load() != this_cpu()->index) return;
    __atomic_store_n(static_cast<uintptr_t*>(held_where), held_value, __ATOMIC_RELEASE);
    store_buffer_holder.store(-1);
}
#endif

void lapic_stop_ap(uint32_t apic_id) {
    irq_guard g;
    ipi_wait_idle();
    lapic_reg(LAPIC_ICR_HI) = apic_id << 24;
    lapic_reg(LAPIC_ICR_LO) = 0x4500;                           // INIT
    ipi_wait_idle();
}

// lapic_start_ap(): the INIT, startup, startup sequence.
void lapic_start_ap(uint32_t apic_id, uint32_t trampoline_pa) {
    lapic_reg(LAPIC_ICR_HI) = apic_id << 24;
    lapic_reg(LAPIC_ICR_LO) = 0x4500;                           // INIT
    ipi_wait_idle();
    delay_us(10000);
    for (int i = 0; i < 2; ++i) {
        lapic_reg(LAPIC_ICR_HI) = apic_id << 24;
        lapic_reg(LAPIC_ICR_LO) = 0x4600 | (trampoline_pa >> 12);   // SIPI
        ipi_wait_idle();
        delay_us(200);
    }
}

void ioapic_init() {
    uint32_t n = ((ioapic_read(1) >> 16) & 0xff) + 1;
    for (uint32_t i = 0; i < n; ++i) ioapic_write(0x10 + 2 * i, 0x10000);
}

void ioapic_route(int irq, int vector, int cpu_index) {
    uint32_t gsi = irq_gsi[irq];
    ioapic_write(0x10 + 2 * gsi + 1, cpus[cpu_index].apic_id << 24);
    ioapic_write(0x10 + 2 * gsi, vector);                       // edge, high, fixed
}

// clock_calibrate(): measure the TSC and the APIC timer against 50 ms
// of the PIT. Runs once, on the bootstrap CPU.
void clock_calibrate() {
    lapic_reg(LAPIC_TIMER_DIV) = 0x3;
    lapic_reg(LAPIC_LVT_TIMER) = 0x10000;
    lapic_reg(LAPIC_TIMER_INIT) = 0xffffffff;
    uint64_t t0 = rdtsc();
    pit_wait_ms(50);
    uint64_t t1 = rdtsc();
    uint32_t lapic_elapsed = 0xffffffff - lapic_reg(LAPIC_TIMER_CUR);
    lapic_reg(LAPIC_TIMER_INIT) = 0;
    tsc_per_sec = (t1 - t0) * 20;
    lapic_timer_per_sec = lapic_elapsed * 20;
    ns_mult = (uint64_t(1000000000) << 32) / tsc_per_sec;
    tsc_at_boot = t0;
}

uint64_t clock_ns() {
    uint64_t d = rdtsc() - tsc_at_boot;
    return uint64_t((unsigned __int128) d * ns_mult >> 32);
}

void delay_us(uint64_t us) {
    uint64_t end = rdtsc() + tsc_per_sec / 1000000 * us;
    while (rdtsc() < end) cpu_relax();
}

void delay_ns(uint64_t ns) {
    uint64_t end = clock_ns() + ns;
    while (clock_ns() < end) cpu_relax();
}
