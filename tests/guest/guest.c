/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The qsnapfix test guest: a multiboot program that proves a snapshot
 * resumed instead of rebooting. On COM1 it prints "QSF-BOOT" once, then
 * "QSF n=<counter> up=<seconds>" every 200 ms with the counter starting at 1,
 * as the guests of the real qemu-kvm images print theirs under the marker
 * "CEO" (fixed when they were recorded; ours is the project's own, and the
 * checks accept both). A resumed snapshot continues the counter; a reboot
 * starts over with QSF-BOOT and n=1.
 *
 * Time comes from PIT channel 0 (square wave, 20 periods per second): the
 * interrupt handler counts periods, the counter and the output level give
 * the offset inside the current one. Mode 3 rather than the rate generator
 * (mode 2): QEMU's mode 2 output pulse lasts one PIT clock and its interrupt
 * is occasionally lost under TCG (measured: one 50 ms period in the first
 * second), the square wave's edges are 25 ms apart. The PIT is the clock that
 * stops with the VM and is restored by the stream under both accelerators:
 * QEMU's PIT counts on the virtual clock (TCG), KVM's in-kernel PIT is saved
 * relative to the same clock, and both are in every pc machine's vmstate
 * (i8254, i8259). The TSC is not trustworthy across loadvm under KVM
 * (docs/tsc-after-load.md); the RTC ticks once a second unless we take its
 * interrupt too. Between interrupts the guest sleeps in HLT instead of
 * spinning, and because the count depends on IRQ 0 being delivered, a restored
 * PIT or PIC that no longer interrupts (say, a wrong i8254 irq_disabled) stops
 * the counter, so a resume test notices it.
 *
 * Multiboot command line (after the kernel name): "tsc" adds
 * " tsc=<seconds>" to each line, the TSC's idea of the time since up=0
 * (calibrated against the PIT at boot), and a line
 * "QSF-READY tsc_hz=<Hz> tsc_at_zero=<raw TSC when up was 0>".
 *
 * "dirty" makes the guest rewrite one word in each page of DIRTY_PAGES
 * pages at every report, after checking that the words of the previous
 * report are still there: a live migration then never runs out of dirty
 * pages (it passes over RAM again and again until it is told to stop),
 * and a page that reached the target with stale content makes the guest
 * print "QSF-FAULT stale page" instead of counting on.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1_PORT             0x3f8
#define COM1_LINE_STATUS      (COM1_PORT + 5)
#define LINE_STATUS_THR_EMPTY 0x20

#define PIT_HZ                        1193182u
#define PIT_CHANNEL0_PORT             0x40
#define PIT_COMMAND_PORT              0x43
#define PIT_CHANNEL0_SQUARE_WAVE      0x36 /* channel 0, lo/hi byte, mode 3 */
#define PIT_CHANNEL0_LATCH_COUNT      0x00
#define PIT_CHANNEL0_READ_BACK_STATUS 0xe2
#define PIT_STATUS_OUTPUT_HIGH        0x80
/* Even, and about PIT_HZ / 20: a period is 50 ms. */
#define PIT_RELOAD          59660u
#define PERIODS_PER_REPORT  4u /* 200 ms */
#define CALIBRATION_PERIODS 2u

#define PIC_MASTER_COMMAND 0x20
#define PIC_MASTER_DATA    0x21
#define PIC_READ_IRR       0x0a
#define PIC_SLAVE_COMMAND  0xa0
#define PIC_SLAVE_DATA     0xa1
#define TIMER_VECTOR       0x20
#define IDT_ENTRIES        256
#define CODE_SELECTOR      0x08
#define INTERRUPT_GATE_32  0x8e

#define MULTIBOOT_INFO_HAS_CMDLINE (1u << 2)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;
    uint32_t mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
};

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attributes;
    uint16_t offset_high;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

struct clock {
    uint64_t ticks; /* PIT input clocks since the reference point */
    uint64_t ticks_at_reference; /* since the PIT was programmed */
    uint64_t tsc_at_reference;
    uint32_t tsc_per_centisecond;
};

struct line {
    char text[96];
    size_t length;
};

void guest_main(uint32_t magic, const struct multiboot_info *info);
/* 8 MiB of pages from 16 MiB up: above the guest, inside any -m >= 32. */
#define DIRTY_BASE  0x1000000u
#define DIRTY_PAGES 2048u

static uint32_t dirty_word(uint32_t counter, uint32_t page)
{
    return (counter * 2654435761u) ^ page;
}

static volatile uint32_t *dirty_slot(uint32_t counter, uint32_t page)
{
    uintptr_t at = DIRTY_BASE + page * 4096u + (counter % 1024u) * 4u;
    return (volatile uint32_t *)at;
}

/* Check the words of report `counter - 1`, then write those of `counter`. */
static bool dirty_pages(uint32_t counter)
{
    bool intact = true;

    for (uint32_t page = 0; page < DIRTY_PAGES; page++) {
        if (counter > 1 &&
            *dirty_slot(counter - 1, page) != dirty_word(counter - 1, page))
            intact = false;
        *dirty_slot(counter, page) = dirty_word(counter, page);
    }
    return intact;
}

void guest_unexpected_interrupt(void);
extern char timer_interrupt_entry[];
extern char unexpected_interrupt_entry[];

/* Incremented by timer_interrupt_entry; read with interrupts off. */
volatile uint32_t pit_periods;

/* The CPU reads the IDT from memory for as long as the guest runs. */
static struct idt_gate idt[IDT_ENTRIES];

static inline void outb(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline uint64_t rdtsc(void)
{
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

/* Divide in place, return the remainder: 32-bit code has no 64-bit divide
 * instruction and we link without libgcc, so chain two DIVLs. */
static uint32_t divide_in_place(uint64_t *value, uint32_t divisor)
{
    uint32_t high = (uint32_t)(*value >> 32);
    uint32_t low = (uint32_t)*value;
    uint32_t quotient_high = high / divisor;
    uint32_t remainder = high % divisor;
    uint32_t quotient_low;

    __asm__("divl %[divisor]"
            : "=a"(quotient_low), "=d"(remainder)
            : "a"(low), "d"(remainder), [divisor] "rm"(divisor));
    *value = ((uint64_t)quotient_high << 32) | quotient_low;
    return remainder;
}

static void serial_init(void)
{
    outb(COM1_PORT + 1, 0x00); /* no UART interrupts: we poll */
    outb(COM1_PORT + 3, 0x80); /* divisor latch access */
    outb(COM1_PORT + 0, 0x01); /* 115200 baud */
    outb(COM1_PORT + 1, 0x00);
    outb(COM1_PORT + 3, 0x03); /* 8N1 */
    outb(COM1_PORT + 2, 0x07); /* FIFO on, cleared */
    outb(COM1_PORT + 4, 0x03); /* DTR, RTS */
}

static void serial_write(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        while (!(inb(COM1_LINE_STATUS) & LINE_STATUS_THR_EMPTY))
            ;
        outb(COM1_PORT, (uint8_t)text[i]);
    }
}

static void line_add_text(struct line *line, const char *text)
{
    while (*text && line->length < sizeof(line->text))
        line->text[line->length++] = *text++;
}

static void line_add_unsigned(struct line *line, uint64_t value)
{
    char digits[20];
    size_t count = 0;

    do {
        digits[count++] = (char)('0' + divide_in_place(&value, 10));
    } while (value);
    while (count && line->length < sizeof(line->text))
        line->text[line->length++] = digits[--count];
}

/* Centiseconds as "<s>.<cc>", the format of the real images' guests. */
static void line_add_seconds(struct line *line, int64_t centiseconds)
{
    uint64_t magnitude;
    uint32_t fraction;

    if (centiseconds < 0) {
        line_add_text(line, "-");
        magnitude = (uint64_t)-centiseconds;
    } else {
        magnitude = (uint64_t)centiseconds;
    }
    fraction = divide_in_place(&magnitude, 100);
    line_add_unsigned(line, magnitude);
    line_add_text(line, fraction < 10 ? ".0" : ".");
    line_add_unsigned(line, fraction);
}

static void line_send(struct line *line)
{
    line_add_text(line, "\n");
    serial_write(line->text, line->length);
    line->length = 0;
}

static void say(const char *text)
{
    struct line line = {.length = 0};

    line_add_text(&line, text);
    line_send(&line);
}

static void set_gate(unsigned vector, const void *handler)
{
    uint32_t address = (uint32_t)(uintptr_t)handler;

    idt[vector] = (struct idt_gate){
        .offset_low = (uint16_t)address,
        .selector = CODE_SELECTOR,
        .type_attributes = INTERRUPT_GATE_32,
        .offset_high = (uint16_t)(address >> 16),
    };
}

static void interrupts_init(void)
{
    struct idt_pointer pointer = {.limit = sizeof(idt) - 1,
                                  .base = (uint32_t)(uintptr_t)idt};

    for (unsigned vector = 0; vector < IDT_ENTRIES; vector++)
        set_gate(vector, unexpected_interrupt_entry);
    set_gate(TIMER_VECTOR, timer_interrupt_entry);
    __asm__ volatile("lidt %0" : : "m"(pointer));

    /* The BIOS leaves IRQ 0-7 on vectors 8-15, which are CPU exceptions in
     * protected mode: move them to 0x20-0x2f and let only IRQ 0 through. */
    outb(PIC_MASTER_COMMAND, 0x11);
    outb(PIC_SLAVE_COMMAND, 0x11);
    outb(PIC_MASTER_DATA, TIMER_VECTOR);
    outb(PIC_SLAVE_DATA, TIMER_VECTOR + 8);
    outb(PIC_MASTER_DATA, 0x04); /* slave on IRQ 2 */
    outb(PIC_SLAVE_DATA, 0x02);
    outb(PIC_MASTER_DATA, 0x01); /* 8086 mode */
    outb(PIC_SLAVE_DATA, 0x01);
    outb(PIC_MASTER_DATA, 0xfe);
    outb(PIC_SLAVE_DATA, 0xff);
}

static uint32_t pit_latched_count(void)
{
    uint32_t low, high;

    outb(PIT_COMMAND_PORT, PIT_CHANNEL0_LATCH_COUNT);
    low = inb(PIT_CHANNEL0_PORT);
    high = inb(PIT_CHANNEL0_PORT);
    return low | high << 8;
}

static bool pit_output_high(void)
{
    outb(PIT_COMMAND_PORT, PIT_CHANNEL0_READ_BACK_STATUS);
    return inb(PIT_CHANNEL0_PORT) & PIT_STATUS_OUTPUT_HIGH;
}

static bool timer_interrupt_pending(void)
{
    outb(PIC_MASTER_COMMAND, PIC_READ_IRR);
    return inb(PIC_MASTER_COMMAND) & 0x01;
}

/* PIT clocks since programming, with interrupts off.
 *
 * In mode 3 the counter runs down by two from PIT_RELOAD in each half of
 * the period; the output is high in the first half, and its rising edge (the
 * period start) raises IRQ 0. So: periods counted by the handler, plus one
 * if that edge's interrupt is still pending in the PIC, plus the offset from
 * the counter and the output level. The reads are repeated until they are
 * consistent: no half-period reload between the two counter reads (the
 * output read between them belongs to the same half) and the same pending
 * bit before and after. */
static uint64_t pit_ticks_since_start(void)
{
    bool pending_before, pending_after, output_high;
    uint32_t first, second, offset, periods = pit_periods;

    do {
        pending_before = timer_interrupt_pending();
        first = pit_latched_count();
        output_high = pit_output_high();
        second = pit_latched_count();
        pending_after = timer_interrupt_pending();
    } while (second > first || pending_before != pending_after);
    if (pending_after)
        periods++;
    if (second == 0 || second > PIT_RELOAD)
        second = PIT_RELOAD;
    offset = (PIT_RELOAD - second) / 2 + (output_high ? 0 : PIT_RELOAD / 2);
    return (uint64_t)periods * PIT_RELOAD + offset;
}

static void clock_init(struct clock *clock)
{
    outb(PIT_COMMAND_PORT, PIT_CHANNEL0_SQUARE_WAVE);
    outb(PIT_CHANNEL0_PORT, PIT_RELOAD & 0xff);
    outb(PIT_CHANNEL0_PORT, PIT_RELOAD >> 8);
    clock->ticks_at_reference = 0;
    clock->ticks = 0;
}

/* Monotonic: a sample that raced with a reload never moves time back. */
static void clock_update(struct clock *clock)
{
    uint64_t now = pit_ticks_since_start() - clock->ticks_at_reference;

    if (now > clock->ticks)
        clock->ticks = now;
}

/* Sleep until the next interrupt: STI's one-instruction shadow makes
 * "sti; hlt" race-free against an interrupt arriving in between. */
static void wait_for_interrupt(void)
{
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void clock_calibrate_tsc(struct clock *clock)
{
    uint64_t start_ticks, start_tsc, tsc_delta;

    clock_update(clock);
    start_ticks = clock->ticks;
    start_tsc = rdtsc();
    while (clock->ticks - start_ticks < CALIBRATION_PERIODS * PIT_RELOAD) {
        wait_for_interrupt();
        clock_update(clock);
    }
    tsc_delta = (rdtsc() - start_tsc) * PIT_HZ;
    divide_in_place(&tsc_delta, (uint32_t)(clock->ticks - start_ticks));
    divide_in_place(&tsc_delta, 100);
    clock->tsc_per_centisecond = tsc_delta ? (uint32_t)tsc_delta : 1;
}

/* Start "up" (and "tsc") at zero, just after a PIT reload so that the
 * 200 ms report deadlines fall on reloads, where the interrupt wakes us. */
static void clock_start(struct clock *clock)
{
    wait_for_interrupt();
    clock->ticks_at_reference = pit_ticks_since_start();
    clock->tsc_at_reference = rdtsc();
    clock->ticks = 0;
}

static int64_t clock_pit_centiseconds(const struct clock *clock)
{
    uint64_t value = clock->ticks * 100 + PIT_HZ / 2; /* rounded */

    divide_in_place(&value, PIT_HZ);
    return (int64_t)value;
}

static int64_t clock_tsc_centiseconds(const struct clock *clock)
{
    uint64_t now = rdtsc();
    bool behind = now < clock->tsc_at_reference;
    uint64_t delta =
        behind ? clock->tsc_at_reference - now : now - clock->tsc_at_reference;

    divide_in_place(&delta, clock->tsc_per_centisecond);
    return behind ? -(int64_t)delta : (int64_t)delta;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether the multiboot command line has `word` among the arguments that
 * follow the kernel's own name. */
static bool cmdline_has(const struct multiboot_info *info, const char *word)
{
    const char *p;

    if (!(info->flags & MULTIBOOT_INFO_HAS_CMDLINE) || !info->cmdline)
        return false;
    p = (const char *)(uintptr_t)info->cmdline;
    while (*p && !is_space(*p))
        p++;
    while (*p) {
        const char *w = word;

        while (is_space(*p))
            p++;
        while (*w && *p == *w) {
            p++;
            w++;
        }
        if (!*w && (!*p || is_space(*p)))
            return true;
        while (*p && !is_space(*p))
            p++;
    }
    return false;
}

void guest_unexpected_interrupt(void)
{
    say("QSF-FAULT unexpected interrupt or exception; guest stopped");
}

void guest_main(uint32_t magic, const struct multiboot_info *info)
{
    struct clock clock = {0};
    struct line line = {.length = 0};
    bool show_tsc, dirty;
    uint32_t counter = 1;
    uint64_t next_report_ticks = 0;

    serial_init();
    say("QSF-BOOT qsnapfix test guest");
    if (magic != 0x2badb002) {
        say("QSF-FAULT not started by a multiboot loader");
        return;
    }
    show_tsc = cmdline_has(info, "tsc");
    dirty = cmdline_has(info, "dirty");
    interrupts_init();
    clock_init(&clock);
    if (show_tsc)
        clock_calibrate_tsc(&clock);
    clock_start(&clock);
    if (show_tsc) {
        line_add_text(&line, "QSF-READY tsc_hz=");
        line_add_unsigned(&line, (uint64_t)clock.tsc_per_centisecond * 100);
        line_add_text(&line, " tsc_at_zero=");
        line_add_unsigned(&line, clock.tsc_at_reference);
        line_send(&line);
    }

    for (;;) {
        clock_update(&clock);
        /* Wake-ups come a few PIT clocks after each reload: accept
         * them even if a sample lands just before the deadline. */
        if (clock.ticks + PIT_RELOAD / 2 >= next_report_ticks) {
            line_add_text(&line, "QSF n=");
            line_add_unsigned(&line, counter);
            line_add_text(&line, " up=");
            line_add_seconds(&line, clock_pit_centiseconds(&clock));
            if (show_tsc) {
                line_add_text(&line, " tsc=");
                line_add_seconds(&line, clock_tsc_centiseconds(&clock));
            }
            line_send(&line);
            if (dirty && !dirty_pages(counter))
                say("QSF-FAULT stale page: a word of the previous report "
                    "is gone");
            counter++;
            next_report_ticks += PERIODS_PER_REPORT * PIT_RELOAD;
        }
        wait_for_interrupt();
    }
}
