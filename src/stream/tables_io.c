/*
 * Layouts: serial and parallel ports, PS/2 keyboard and mouse, vmmouse,
 * USB host controllers and USB devices.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* ---- serial / parallel --------------------------------------------------- */

static const VmsLayout fifo8 = {
    .name = "Fifo8",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BUFFER("data", 16),
            U32("head"),
            U32("num"),
            END_FIELDS,
        },
};
static const VmsLayout serial_thr_ipending = {
    .name = "serial/thr_ipending",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){I32("thr_ipending"), END_FIELDS},
};
static const VmsLayout serial_tsr = {
    .name = "serial/tsr",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("tsr_retry"),
            U8("thr"),
            U8("tsr"),
            END_FIELDS,
        },
};
static const VmsLayout serial_recv_fifo = {
    .name = "serial/recv_fifo",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){STRUCT("recv_fifo", fifo8), END_FIELDS},
};
static const VmsLayout serial_xmit_fifo = {
    .name = "serial/xmit_fifo",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){STRUCT("xmit_fifo", fifo8), END_FIELDS},
};
static const VmsLayout serial_fifo_timeout = {
    .name = "serial/fifo_timeout_timer",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){TIMER("fifo_timeout_timer"), END_FIELDS},
};
static const VmsLayout serial_timeout_ipending = {
    .name = "serial/timeout_ipending",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){I32("timeout_ipending"), END_FIELDS},
};
static const VmsLayout serial_poll = {
    .name = "serial/poll",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            I32("poll_msl"),
            TIMER("modem_status_poll"),
            END_FIELDS,
        },
};
static const VmsLayout serial_state = {
    .name = "serial",
    .min_version = 2,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            U16("divider"),
            U8("rbr"),
            U8("ier"),
            U8("iir"),
            U8("lcr"),
            U8("mcr"),
            U8("lsr"),
            U8("msr"),
            U8("scr"),
            U8("fcr", .since = 3),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(
        &serial_thr_ipending, &serial_tsr, &serial_recv_fifo, &serial_xmit_fifo,
        &serial_fifo_timeout, &serial_timeout_ipending, &serial_poll),
};
/* 7.2 wraps the fields in a struct; qemu-kvm writes them directly: the
 * bytes are the same. */
const VmsLayout vms_serial = {
    .name = "serial",
    .min_version = 2,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            U16("divider"),
            U8("rbr"),
            U8("ier"),
            U8("iir"),
            U8("lcr"),
            U8("mcr"),
            U8("lsr"),
            U8("msr"),
            U8("scr"),
            U8("fcr", .since = 3),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(
        &serial_thr_ipending, &serial_tsr, &serial_recv_fifo, &serial_xmit_fifo,
        &serial_fifo_timeout, &serial_timeout_ipending, &serial_poll),
};
const VmsLayout vms_serial_pci = {
    .name = "pci-serial",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            STRUCT("state", serial_state),
            END_FIELDS,
        },
};
const VmsLayout vms_parallel_isa = {
    .name = "parallel_isa",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("state.dataw"),
            U8("state.datar"),
            U8("state.status"),
            U8("state.control"),
            I32("state.irq_pending"),
            I32("state.epp_timeout"),
            END_FIELDS,
        },
};

/* ---- PS/2, i8042, vmmouse ------------------------------------------------ */

static const VmsLayout ps2_common = {
    .name = "PS2 Common State",
    .min_version = 2,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            I32("write_cmd"),
            I32("queue.rptr"),
            I32("queue.wptr"),
            I32("queue.count"),
            BUFFER("queue.data", 256),
            END_FIELDS,
        },
};
static const VmsLayout ps2kbd_ledstate = {
    .name = "ps2kbd/ledstate",
    .min_version = 2,
    .max_version = 3,
    .fields = (const VmsField[]){I32("ledstate"), END_FIELDS},
};
static const VmsLayout ps2kbd_need_high_bit = {
    .name = "ps2kbd/need_high_bit",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("need_high_bit"), END_FIELDS},
};
static const VmsLayout ps2kbd_cqueue = {
    .name = "ps2kbd/command_reply_queue",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){I32("queue.cwptr"), END_FIELDS},
};
const VmsLayout vms_ps2kbd = {
    .name = "ps2kbd",
    .min_version = 2,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", ps2_common),
            I32("scan_enabled"),
            I32("translate"),
            I32("scancode_set", .since = 3),
            END_FIELDS,
        },
    .subsections =
        SUBSECTIONS(&ps2kbd_ledstate, &ps2kbd_need_high_bit, &ps2kbd_cqueue),
};
static const VmsLayout ps2mouse_cqueue = {
    .name = "ps2mouse/command_reply_queue",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){I32("queue.cwptr"), END_FIELDS},
};
const VmsLayout vms_ps2mouse = {
    .name = "ps2mouse",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", ps2_common),
            U8("mouse_status"),
            U8("mouse_resolution"),
            U8("mouse_sample_rate"),
            U8("mouse_wrap"),
            U8("mouse_type"),
            U8("mouse_detect_state"),
            I32("mouse_dx"),
            I32("mouse_dy"),
            I32("mouse_dz"),
            U8("mouse_buttons"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&ps2mouse_cqueue),
};
static const VmsLayout pckbd_outport = {
    .name = "pckbd_outport",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("outport"), END_FIELDS},
};
static const VmsLayout pckbd_extended = {
    .name = "pckbd/extended_state",
    .min_version = 0,
    .max_version = 0,
    .fields =
        (const VmsField[]){
            U32("migration_flags"),
            U32("obsrc"),
            U8("obdata"),
            U8("cbdata"),
            END_FIELDS,
        },
};
static const VmsLayout pckbd_state = {
    .name = "pckbd",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            U8("write_cmd"),
            U8("status"),
            U8("mode"),
            U8("pending"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&pckbd_outport, &pckbd_extended),
};
const VmsLayout vms_pckbd = {
    .name = "pckbd",
    .min_version = 3,
    .max_version = 3,
    .fields = (const VmsField[]){STRUCT("kbd", pckbd_state), END_FIELDS},
};
const VmsLayout vms_vmmouse = {
    .name = "vmmouse",
    .min_version = 0,
    .max_version = 0,
    .fields =
        (const VmsField[]){
            I32("queue_size", EQ(1024)),
            U32_ARRAY("queue", 1024),
            U16("nb_queue"),
            U16("status"),
            U8("absolute"),
            END_FIELDS,
        },
};

/* ---- USB host controllers ------------------------------------------------ */

static const VmsLayout uhci_port = {
    .name = "uhci port",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U16("ctrl"), END_FIELDS},
};
/* qemu-kvm writes v2; 7.2 v3 adds pending_int_mask. */
const VmsLayout vms_uhci = {
    .name = "uhci",
    .min_version = 1,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            U8("num_ports", EQ(2)),
            STRUCT_ARRAY("ports", 2, uhci_port),
            U16("cmd"),
            U16("status"),
            U16("intr"),
            U16("frnum"),
            U32("fl_base_addr"),
            U8("sof_timing"),
            U8("status2"),
            TIMER("frame_timer"),
            I64("expire_time", .since = 2),
            U32("pending_int_mask", .since = 3),
            END_FIELDS,
        },
};
static const VmsLayout ehci_core = {
    .name = "ehci-core",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U32("usbcmd"),
            U32("usbsts"),
            U32("usbsts_pending", .since = 2),
            U32("usbsts_frindex", .since = 2),
            U32("usbintr"),
            U32("frindex"),
            U32("ctrldssegment"),
            U32("periodiclistbase"),
            U32("asynclistaddr"),
            U32("configflag"),
            U32_ARRAY("portsc", 6),
            TIMER("frame_timer"),
            U64("last_run_ns"),
            U32("async_stepdown"),
            U32("astate"),
            U32("pstate"),
            U32("a_fetch_addr"),
            U32("p_fetch_addr"),
            END_FIELDS,
        },
};
const VmsLayout vms_ehci = {
    .name = "ehci",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT("pcidev", vms_pci_device),
            STRUCT("ehci", ehci_core),
            END_FIELDS,
        },
};
/* qemu 1.1-1.2: PCI device and core registers in one version-1 vmsd. */
const VmsLayout vms_ehci_v1 = {
    .name = "ehci",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            U32("usbcmd"),
            U32("usbsts"),
            U32("usbintr"),
            U32("frindex"),
            U32("ctrldssegment"),
            U32("periodiclistbase"),
            U32("asynclistaddr"),
            U32("configflag"),
            U32_ARRAY("portsc", 6),
            TIMER("frame_timer"),
            U64("last_run_ns"),
            U32("async_stepdown"),
            U32("astate"),
            U32("pstate"),
            U32("a_fetch_addr"),
            U32("p_fetch_addr"),
            END_FIELDS,
        },
};

/* ---- USB devices --------------------------------------------------------- */

const VmsLayout vms_usb_device = {
    .name = "USBDevice",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("addr"),
            I32("state"),
            I32("remote_wakeup"),
            I32("setup_state"),
            I32("setup_len"),
            I32("setup_index"),
            U8_ARRAY("setup_buf", 8),
            END_FIELDS,
        },
};
static const VmsLayout hid_pointer_event = {
    .name = "HIDPointerEventQueue",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            I32("xdx"),
            I32("ydy"),
            I32("dz"),
            I32("buttons_state"),
            END_FIELDS,
        },
};
static const VmsLayout hid_pointer = {
    .name = "HIDPointerDevice",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("ptr.queue", 16, hid_pointer_event),
            U32("head"),
            U32("n"),
            I32("protocol"),
            U8("idle"),
            END_FIELDS,
        },
};
/* usb-tablet and usb-mouse. qemu-kvm 0.15/1.0 name the section by the
 * port only ("1/usb-ptr", R3); the payload is the same. */
const VmsLayout vms_usb_ptr = {
    .name = "usb-ptr",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_usb_device),
            STRUCT("hid", hid_pointer),
            END_FIELDS,
        },
};
static const VmsLayout hid_keyboard = {
    .name = "HIDKeyboardDevice",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32_ARRAY("kbd.keycodes", 16),
            U32("head"),
            U32("n"),
            U16("kbd.modifiers"),
            U8("kbd.leds"),
            U8_ARRAY("kbd.key", 16),
            I32("kbd.keys"),
            I32("protocol"),
            U8("idle"),
            END_FIELDS,
        },
};
const VmsLayout vms_usb_kbd = {
    .name = "usb-kbd",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_usb_device),
            STRUCT("hid", hid_keyboard),
            END_FIELDS,
        },
};
static const VmsLayout usb_hub_port = {
    .name = "usb-hub-port",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("wPortStatus"),
            U16("wPortChange"),
            END_FIELDS,
        },
};
const VmsLayout vms_usb_hub = {
    .name = "usb-hub",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_usb_device),
            STRUCT_ARRAY("ports", 8, usb_hub_port),
            END_FIELDS,
        },
};

/* usb-storage: version 1 since QEMU 1.1 (the bulk-only transport's state;
 * its SCSI disk has a section of its own), the same in 7.2 and 10.0. */
const VmsLayout vms_usb_storage = {
    .name = "usb-storage",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_usb_device),
            U32("mode"),
            U32("scsi_len"),
            U32("scsi_off"),
            U32("data_len"),
            U32("csw.sig"),
            U32("csw.tag"),
            U32("csw.residue"),
            U8("csw.status"),
            END_FIELDS,
        },
};
