/*
 * Layouts: storage controllers (PIIX IDE, ISA IDE, ICH9 AHCI, floppy, the
 * LSI53C895A SCSI HBA) and SCSI disks.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* ---- IDE ----------------------------------------------------------------- */

static const VmsLayout bmdma_current = {
    .name = "ide bmdma_current",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("cur_addr"),
            U32("cur_prd_last"),
            U32("cur_prd_addr"),
            U32("cur_prd_len"),
            END_FIELDS,
        },
};
static const VmsLayout bmdma_status = {
    .name = "ide bmdma/status",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("status"), END_FIELDS},
};
static const VmsLayout bmdma = {
    .name = "ide bmdma",
    .min_version = 0,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            U8("cmd"),
            U8("migration_compat_status"),
            U32("addr"),
            I64("migration_retry_sector_num"),
            U32("migration_retry_nsector"),
            U8("migration_retry_unit"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&bmdma_current, &bmdma_status),
};
static const VmsLayout ide_bus_error = {
    .name = "ide_bus/error",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            I32("error_status"),
            I64("retry_sector_num", .since = 2),
            U32("retry_nsector", .since = 2),
            U8("retry_unit", .since = 2),
            END_FIELDS,
        },
};
const VmsLayout vms_ide_bus = {
    .name = "ide_bus",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("cmd"), U8("unit"), END_FIELDS},
    .subsections = SUBSECTIONS(&ide_bus_error),
};
static const VmsLayout ide_pio_state = {
    .name = "ide_drive/pio_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            I32("req_nb_sectors"),
            /* io_buffer_total_len: IDE_DMA_BUF_SECTORS * 512 + 4 everywhere */
            BUFFER("io_buffer", 256 * 512 + 4),
            I32("cur_io_buffer_offset"),
            I32("cur_io_buffer_len"),
            U8("end_transfer_fn_idx"),
            I32("elementary_transfer_size"),
            I32("packet_transfer_size"),
            END_FIELDS,
        },
};
static const VmsLayout ide_tray_state = {
    .name = "ide_drive/tray_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BOOL("tray_open"),
            BOOL("tray_locked"),
            END_FIELDS,
        },
};
static const VmsLayout ide_gesn_state = {
    .name = "ide_drive/atapi/gesn_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BOOL("events.new_media"),
            BOOL("events.eject_request"),
            END_FIELDS,
        },
};
const VmsLayout vms_ide_drive = {
    .name = "ide_drive",
    .min_version = 0,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            I32("mult_sectors"),
            I32("identify_set"),
            BUFFER("identify_data", 512, .present_if = "identify_set"),
            U8("feature"),
            U8("error"),
            U32("nsector"),
            U8("sector"),
            U8("lcyl"),
            U8("hcyl"),
            U8("hob_feature"),
            U8("hob_sector"),
            U8("hob_nsector"),
            U8("hob_lcyl"),
            U8("hob_hcyl"),
            U8("select"),
            U8("status"),
            U8("lba48"),
            U8("sense_key"),
            U8("asc"),
            U8("cdrom_changed"),
            END_FIELDS,
        },
    .subsections =
        SUBSECTIONS(&ide_pio_state, &ide_tray_state, &ide_gesn_state),
};
/* PIIX3/PIIX4 IDE: version 3 in every era. */
const VmsLayout vms_ide = {
    .name = "ide",
    .min_version = 0,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            STRUCT_ARRAY("bmdma", 2, bmdma),
            STRUCT_ARRAY("bus", 2, vms_ide_bus),
            STRUCT_ARRAY("bus[0].ifs", 2, vms_ide_drive),
            STRUCT_ARRAY("bus[1].ifs", 2, vms_ide_drive),
            END_FIELDS,
        },
};

/* ISA IDE (-M isapc): one bus, two drives, no PCI device. */
const VmsLayout vms_isa_ide = {
    .name = "isa-ide",
    .min_version = 0,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("bus", vms_ide_bus),
            STRUCT_ARRAY("bus.ifs", 2, vms_ide_drive),
            END_FIELDS,
        },
};

/* ---- AHCI (ICH9) --------------------------------------------------------- */

static const VmsLayout ncq_state = {
    .name = "ncq state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("sector_count"),
            U64("lba"),
            U8("tag"),
            U8("cmd"),
            U8("slot"),
            BOOL("used"),
            BOOL("halt"),
            END_FIELDS,
        },
};
static const VmsLayout ahci_port = {
    .name = "ahci port",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("port", vms_ide_bus),
            STRUCT("port.ifs[0]", vms_ide_drive),
            U32("port_state"),
            U32("finished"),
            U32("port_regs.lst_addr"),
            U32("port_regs.lst_addr_hi"),
            U32("port_regs.fis_addr"),
            U32("port_regs.fis_addr_hi"),
            U32("port_regs.irq_stat"),
            U32("port_regs.irq_mask"),
            U32("port_regs.cmd"),
            U32("port_regs.tfdata"),
            U32("port_regs.sig"),
            U32("port_regs.scr_stat"),
            U32("port_regs.scr_ctl"),
            U32("port_regs.scr_err"),
            U32("port_regs.scr_act"),
            U32("port_regs.cmd_issue"),
            BOOL("done_first_drq"),
            I32("busy_slot"),
            BOOL("init_d2h_sent"),
            STRUCT_ARRAY("ncq_tfs", 32, ncq_state),
            END_FIELDS,
        },
};
/* The port count sits after the ports (an _EQUAL check): ICH9 has 6. */
static const VmsLayout ahci_state = {
    .name = "ahci",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("dev", 6, ahci_port),
            U32("control_regs.cap"),
            U32("control_regs.ghc"),
            U32("control_regs.irqstatus"),
            U32("control_regs.impl"),
            U32("control_regs.version"),
            U32("idp_index"),
            I32("ports", EQ(6)),
            END_FIELDS,
        },
};
const VmsLayout vms_ich9_ahci = {
    .name = "ich9_ahci",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            STRUCT("ahci", ahci_state),
            END_FIELDS,
        },
};

/* ---- SCSI ---------------------------------------------------------------- */

/*
 * LSI53C895A ("lsiscsi"): version 0 from 0.13 (qemu-kvm 0.15-1.2) to QEMU
 * 3.0; version 1 added the SCSI bus lines register (sbcl). Requests in
 * flight are not migrated (pre_save asserts there are none).
 */
const VmsLayout vms_lsiscsi = {
    .name = "lsiscsi",
    .min_version = 0,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            I32("carry"),
            I32("status"),
            I32("msg_action"),
            I32("msg_len"),
            BUFFER("msg", 8),
            I32("waiting"),
            U32("dsa"),
            U32("temp"),
            U32("dnad"),
            U32("dbc"),
            U8("istat0"),
            U8("istat1"),
            U8("dcmd"),
            U8("dstat"),
            U8("dien"),
            U8("sist0"),
            U8("sist1"),
            U8("sien0"),
            U8("sien1"),
            U8("mbox0"),
            U8("mbox1"),
            U8("dfifo"),
            U8("ctest2"),
            U8("ctest3"),
            U8("ctest4"),
            U8("ctest5"),
            U8("ccntl0"),
            U8("ccntl1"),
            U32("dsp"),
            U32("dsps"),
            U8("dmode"),
            U8("dcntl"),
            U8("scntl0"),
            U8("scntl1"),
            U8("scntl2"),
            U8("scntl3"),
            U8("sstat0"),
            U8("sstat1"),
            U8("scid"),
            U8("sxfer"),
            U8("socl"),
            U8("sdid"),
            U8("ssid"),
            U8("sfbr"),
            U8("stest1"),
            U8("stest2"),
            U8("stest3"),
            U8("sidl"),
            U8("stime0"),
            U8("respid0"),
            U8("respid1"),
            U8("sbcl", .since = 1),
            U32("mmrs"),
            U32("mmws"),
            U32("sfs"),
            U32("drs"),
            U32("sbms"),
            U32("dbms"),
            U32("dnad64"),
            U32("pmjad1"),
            U32("pmjad2"),
            U32("rbc"),
            U32("ua"),
            U32("ia"),
            U32("sbc"),
            U32("csbc"),
            BUFFER("scratch", 72),
            U8("sbr"),
            BUFFER("script_ram", 8192),
            END_FIELDS,
        },
};

/*
 * The requests queued on a SCSI device: a list ended by a 0 byte. savevm
 * drains the disks first, so a saved list is normally empty; an entry's
 * body depends on the host adapter (its save_request), which no table
 * describes, so a non-empty list does not parse (the section is then
 * located by resynchronisation and never edited).
 */
static bool scsi_requests(VmsWalk *w, const VmsField *f, GError **errp)
{
    uint64_t marker;

    (void)f;
    if (!vms_walk_int(w, "requests", 1, true, &marker, errp)) {
        return false;
    }
    if (marker != 0) {
        w->r->pos -= 1;
        return vms_walk_fail(w, errp,
                             "a queued SCSI request (marker %d): its "
                             "layout depends on the host adapter",
                             (int)(int8_t)marker);
    }
    return true;
}

static const VmsLayout scsi_device_sense = {
    .name = "SCSIDevice/sense",
    .min_version = 1,
    .max_version = 1,
    /* SCSI_SENSE_BUF_SIZE (252) beyond the 96 bytes of the fields */
    .fields = (const VmsField[]){U8_ARRAY("sense", 156), END_FIELDS},
};
static const VmsLayout scsi_device = {
    .name = "SCSIDevice",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("unit_attention.key"),
            U8("unit_attention.asc"),
            U8("unit_attention.ascq"),
            BOOL("sense_is_ua"),
            U8_ARRAY("sense", 96),
            U32("sense_len"),
            CUSTOM("requests", scsi_requests),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&scsi_device_sense),
};
/* scsi-hd and scsi-cd ("<hba path>/<channel>:<id>:<lun>/scsi-disk"):
 * version 1 since QEMU 1.1, the same in 7.2 and 10.0. */
const VmsLayout vms_scsi_disk = {
    .name = "scsi-disk",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("qdev", scsi_device),
            BOOL("media_changed"),
            BOOL("media_event"),
            BOOL("eject_request"),
            BOOL("tray_open"),
            BOOL("tray_locked"),
            END_FIELDS,
        },
};

/* ---- floppy -------------------------------------------------------------- */

static const VmsLayout fdrive_media_changed = {
    .name = "fdrive/media_changed",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("media_changed"), END_FIELDS},
};
static const VmsLayout fdrive_media_rate = {
    .name = "fdrive/media_rate",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("media_rate"), END_FIELDS},
};
static const VmsLayout fdrive_perpendicular = {
    .name = "fdrive/perpendicular",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("perpendicular"), END_FIELDS},
};
static const VmsLayout fdrive = {
    .name = "fdrive",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("head"),
            U8("track"),
            U8("sect"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&fdrive_media_changed, &fdrive_media_rate,
                               &fdrive_perpendicular),
};
static const VmsLayout fdc_reset_sensei = {
    .name = "fdc/reset_sensei",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){I32("reset_sensei"), END_FIELDS},
};
static const VmsLayout fdc_result_timer = {
    .name = "fdc/result_timer",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){TIMER("result_timer"), END_FIELDS},
};
static const VmsLayout fdc_phase = {
    .name = "fdc/phase",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("phase"), END_FIELDS},
};
static const VmsLayout fdc_state = {
    .name = "fdc",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U8("sra"),
            U8("srb"),
            U8("dor"),
            U8("tdr"),
            U8("dsr"),
            U8("msr"),
            U8("status0"),
            U8("status1"),
            U8("status2"),
            U8_ARRAY("fifo", 512),
            U32("data_pos"),
            U32("data_len"),
            U8("data_state"),
            U8("data_dir"),
            U8("eot"),
            U8("timer0"),
            U8("timer1"),
            U8("precomp_trk"),
            U8("config"),
            U8("lock"),
            U8("pwrd"),
            U8("num_floppies", EQ(2)),
            STRUCT_ARRAY("drives", 2, fdrive),
            END_FIELDS,
        },
    .subsections =
        SUBSECTIONS(&fdc_reset_sensei, &fdc_result_timer, &fdc_phase),
};
const VmsLayout vms_fdc = {
    .name = "fdc",
    .min_version = 2,
    .max_version = 2,
    .fields = (const VmsField[]){STRUCT("state", fdc_state), END_FIELDS},
};
