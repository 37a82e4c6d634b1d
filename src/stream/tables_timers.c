/*
 * Layouts: interrupt controllers (i8259, IOAPIC), timers (i8254 PIT,
 * HPET), the MC146818 RTC and ISA DMA.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* ---- interrupt controllers ----------------------------------------------- */

static const VmsLayout i8259_ltim = {
    .name = "i8259/ltim",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("ltim"), END_FIELDS},
};
const VmsLayout vms_i8259 = {
    .name = "i8259",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("last_irr"),
            U8("irr"),
            U8("imr"),
            U8("isr"),
            U8("priority_add"),
            U8("irq_base"),
            U8("read_reg_select"),
            U8("poll"),
            U8("special_mask"),
            U8("init_state"),
            U8("auto_eoi"),
            U8("rotate_on_auto_eoi"),
            U8("special_fully_nested_mode"),
            U8("init4"),
            U8("single_mode"),
            U8("elcr"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&i8259_ltim),
};

const VmsLayout vms_ioapic = {
    .name = "ioapic",
    .min_version = 1,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            U8("id"),
            U8("ioregsel"),
            UNUSED(8, .since = 2),
            U32("irr", .since = 2),
            U64_ARRAY("ioredtbl", 24),
            END_FIELDS,
        },
};

/* ---- i8254 PIT ----------------------------------------------------------- */

static const VmsLayout pit_channel = {
    .name = "pit channel",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            I32("count"),
            U16("latched_count"),
            U8("count_latched"),
            U8("status_latched"),
            U8("status"),
            U8("read_state"),
            U8("write_state"),
            U8("write_latch"),
            U8("rw_mode"),
            U8("mode"),
            U8("bcd"),
            U8("gate"),
            I64("count_load_time"),
            I64("next_transition_time"),
            END_FIELDS,
        },
};
/* R2: qemu-kvm < 1.1 writes a u32 "flags" first under version 2 (108
 * bytes); upstream v2 has no such field (104 bytes). */
const VmsLayout vms_i8254_v2_qemu_kvm = {
    .name = "i8254",
    .variant = "qemu-kvm",
    .min_version = 2,
    .max_version = 2,
    .note = "R2: qemu-kvm <= 1.0 writes the v3 layout under version 2",
    .fields =
        (const VmsField[]){
            U32("flags"),
            STRUCT_ARRAY("channels", 3, pit_channel),
            TIMER("irq_timer"),
            END_FIELDS,
        },
};
const VmsLayout vms_i8254_v2_upstream = {
    .name = "i8254",
    .variant = "upstream",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("channels", 3, pit_channel),
            TIMER("irq_timer"),
            END_FIELDS,
        },
};
const VmsLayout vms_i8254_v3 = {
    .name = "i8254",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            U32("irq_disabled"),
            STRUCT_ARRAY("channels", 3, pit_channel),
            I64("next_transition_time"),
            END_FIELDS,
        },
};

/* ---- HPET ---------------------------------------------------------------- */

static const VmsLayout hpet_timer = {
    .name = "hpet_timer",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("tn"),
            U64("config"),
            U64("cmp"),
            U64("fsb"),
            U64("period"),
            U8("wrap_flag"),
            TIMER("qemu_timer"),
            END_FIELDS,
        },
};
static const VmsLayout hpet_rtc_irq_level = {
    .name = "hpet/rtc_irq_level",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("rtc_irq_level"), END_FIELDS},
};
static const VmsLayout hpet_offset = {
    .name = "hpet/offset",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64("hpet_offset"), END_FIELDS},
};
const VmsLayout vms_hpet_v2 = {
    .name = "hpet",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U64("config"),
            U64("isr"),
            U64("hpet_counter"),
            U8("num_timers"),
            STRUCT_ARRAY("timer", 0, hpet_timer, .count_from = "num_timers"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&hpet_rtc_irq_level, &hpet_offset),
};
const VmsLayout vms_hpet_v1 = {
    .name = "hpet",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("config"),
            U64("isr"),
            U64("hpet_counter"),
            STRUCT_ARRAY("timer", 3, hpet_timer),
            END_FIELDS,
        },
};

/* ---- MC146818 RTC
 * ------------------------------------------------------------ */

static const VmsLayout rtc_reinject = {
    .name = "mc146818rtc/irq_reinject_on_ack_count",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U16("irq_reinject_on_ack_count"), END_FIELDS},
};
/* Up to 1.2 (qemu-kvm included): version 2, 205 bytes. */
const VmsLayout vms_rtc_v2 = {
    .name = "mc146818rtc",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            BUFFER("cmos_data", 128),
            U8("cmos_index"),
            I32_ARRAY("current_tm", 7),
            TIMER("periodic_timer"),
            I64("next_periodic_time"),
            I64("next_second_time"),
            TIMER("second_timer"),
            TIMER("second_timer2"),
            U32("irq_coalesced", .since = 2),
            U32("period", .since = 2),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&rtc_reinject),
};
/* 1.3+: the clock is computed from base_rtc/last_update/offset. */
const VmsLayout vms_rtc_v3 = {
    .name = "mc146818rtc",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            BUFFER("cmos_data", 128),
            U8("cmos_index"),
            UNUSED(28),
            TIMER("periodic_timer"),
            I64("next_periodic_time"),
            UNUSED(24),
            U32("irq_coalesced"),
            U32("period"),
            U64("base_rtc"),
            U64("last_update"),
            I64("offset"),
            TIMER("update_timer"),
            U64("next_alarm_time"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&rtc_reinject),
};

/* ---- ISA DMA ------------------------------------------------------------- */

static const VmsLayout dma_regs = {
    .name = "dma_regs",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            I32_ARRAY("now", 2),
            U16_ARRAY("base", 2),
            U8("mode"),
            U8("page"),
            U8("pageh"),
            U8("dack"),
            U8("eop"),
            END_FIELDS,
        },
};
const VmsLayout vms_dma = {
    .name = "dma",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("command"),
            U8("mask"),
            U8("flip_flop"),
            I32("dshift"),
            STRUCT_ARRAY("regs", 4, dma_regs),
            END_FIELDS,
        },
};
