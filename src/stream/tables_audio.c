/*
 * Layouts: sound cards (AC97, ES1370, Intel HDA and its codecs, SB16,
 * CS4231A, GUS). Their vmstates have kept the same shape since 0.13.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* The audio subsystem's own vmstate: no fields. Registered with an audio
 * backend and never sent by QEMU (its .needed is false), only so that
 * streams of qemu-kvm and QEMU <= 1.x, which sent it, still load. */
const VmsLayout vms_audio = {
    .name = "audio",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){END_FIELDS},
};

static const VmsLayout ac97_bm_regs = {
    .name = "ac97_bm_regs",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("bdbar"),
            U8("civ"),
            U8("lvi"),
            U16("sr"),
            U16("picb"),
            U8("piv"),
            U8("cr"),
            U32("bd_valid"),
            U32("bd.addr"),
            U32("bd.ctl_len"),
            END_FIELDS,
        },
};
const VmsLayout vms_ac97 = {
    .name = "ac97",
    .min_version = 2,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            U32("glob_cnt"),
            U32("glob_sta"),
            U32("cas"),
            STRUCT_ARRAY("bm_regs", 3, ac97_bm_regs),
            BUFFER("mixer_data", 256),
            UNUSED(3, .since = 2, .until = 2),
            END_FIELDS,
        },
};

static const VmsLayout es1370_channel = {
    .name = "es1370_channel",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U32("shift"),
            U32("leftover"),
            U32("scount"),
            U32("frame_addr"),
            U32("frame_cnt"),
            END_FIELDS,
        },
};
const VmsLayout vms_es1370 = {
    .name = "es1370",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            STRUCT_ARRAY("chan", 3, es1370_channel),
            U32("ctl"),
            U32("status"),
            U32("mempage"),
            U32("codec"),
            U32("sctl"),
            END_FIELDS,
        },
};

static const VmsLayout hda_stream = {
    .name = "intel-hda-stream",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("ctl"),
            U32("lpib"),
            U32("cbl"),
            U32("lvi"),
            U32("fmt"),
            U32("bdlp_lbase"),
            U32("bdlp_ubase"),
            END_FIELDS,
        },
};
const VmsLayout vms_intel_hda = {
    .name = "intel-hda",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("pci", vms_pci_device),
            U32("g_ctl"),
            U32("wake_en"),
            U32("state_sts"),
            U32("int_ctl"),
            U32("int_sts"),
            U32("wall_clk"),
            U32("corb_lbase"),
            U32("corb_ubase"),
            U32("corb_rp"),
            U32("corb_wp"),
            U32("corb_ctl"),
            U32("corb_sts"),
            U32("corb_size"),
            U32("rirb_lbase"),
            U32("rirb_ubase"),
            U32("rirb_wp"),
            U32("rirb_cnt"),
            U32("rirb_ctl"),
            U32("rirb_sts"),
            U32("rirb_size"),
            U32("dp_lbase"),
            U32("dp_ubase"),
            U32("icw"),
            U32("irr"),
            U32("ics"),
            STRUCT_ARRAY("st", 8, hda_stream),
            U32("rirb_count"),
            I64("wall_base_ns"),
            END_FIELDS,
        },
};
static const VmsLayout hda_stream_buffer = {
    .name = "hda-audio-stream/buffer",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BUFFER("buf", 8192),
            I64("rpos"),
            I64("wpos"),
            TIMER("buft"),
            I64("buft_start"),
            END_FIELDS,
        },
};
static const VmsLayout hda_audio_stream = {
    .name = "hda-audio-stream",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("stream"),
            U32("channel"),
            U32("format"),
            U32("gain_left"),
            U32("gain_right"),
            BOOL("mute_left"),
            BOOL("mute_right"),
            U32("compat_bpos"),
            BUFFER("compat_buf", 256),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&hda_stream_buffer),
};
const VmsLayout vms_hda_audio = {
    .name = "hda-audio",
    .min_version = 0,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("st", 4, hda_audio_stream),
            U8_ARRAY("running_compat", 16),
            U8_ARRAY("running_real", 32, .since = 2),
            END_FIELDS,
        },
};

const VmsLayout vms_sb16 = {
    .name = "sb16",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("irq"),
            U32("dma"),
            U32("hdma"),
            U32("port"),
            U32("ver"),
            I32("in_index"),
            I32("out_data_len"),
            I32("fmt_stereo"),
            I32("fmt_signed"),
            I32("fmt_bits"),
            U32("fmt"),
            I32("dma_auto"),
            I32("block_size"),
            I32("fifo"),
            I32("freq"),
            I32("time_const"),
            I32("speaker"),
            I32("needed_bytes"),
            I32("cmd"),
            I32("use_hdma"),
            I32("highspeed"),
            I32("can_write"),
            I32("v2x6"),
            U8("csp_param"),
            U8("csp_value"),
            U8("csp_mode"),
            U8("csp_param2"),
            BUFFER("csp_regs", 256),
            U8("csp_index"),
            BUFFER("csp_reg83", 4),
            I32("csp_reg83r"),
            I32("csp_reg83w"),
            BUFFER("in2_data", 10),
            BUFFER("out_data", 50),
            U8("test_reg"),
            U8("last_read_byte"),
            I32("nzero"),
            I32("left_till_irq"),
            I32("dma_running"),
            I32("bytes_per_second"),
            I32("align"),
            I32("mixer_nreg"),
            BUFFER("mixer_regs", 256),
            END_FIELDS,
        },
};
const VmsLayout vms_cs4231a = {
    .name = "cs4231a",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32_ARRAY("regs", 16),
            BUFFER("dregs", 32),
            I32("dma_running"),
            I32("audio_free"),
            I32("transferred"),
            I32("aci_counter"),
            END_FIELDS,
        },
};
const VmsLayout vms_gus = {
    .name = "gus",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            I32("pos"),
            I32("left"),
            I32("shift"),
            I32("irqs"),
            I32("samples"),
            I64("last_ticks"),
            BUFFER("himem", 1024 * 1024 + 32 + 4096),
            END_FIELDS,
        },
};
