/*
 * Layouts: e1000, rtl8139, NE2000 (PCI and ISA), PCnet, the eepro100
 * family with its EEPROM, and slirp.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* ---- e1000 (v2 in every era, 67608 bytes) -------------------------------- */

static const VmsLayout e1000_mit_state = {
    .name = "e1000/mit_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("mac_reg[RDTR]"),
            U32("mac_reg[RADV]"),
            U32("mac_reg[TADV]"),
            U32("mac_reg[ITR]"),
            BOOL("mit_irq_level"),
            END_FIELDS,
        },
};
static const VmsLayout e1000_full_mac_state = {
    .name = "e1000/full_mac_state",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32_ARRAY("mac_reg", 0x8000), END_FIELDS},
};
static const VmsLayout e1000_tx_tso_state = {
    .name = "e1000/tx_tso_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("tx.tso_props.ipcss"),
            U8("tx.tso_props.ipcso"),
            U16("tx.tso_props.ipcse"),
            U8("tx.tso_props.tucss"),
            U8("tx.tso_props.tucso"),
            U16("tx.tso_props.tucse"),
            U32("tx.tso_props.paylen"),
            U8("tx.tso_props.hdr_len"),
            U16("tx.tso_props.mss"),
            I8("tx.tso_props.ip"),
            I8("tx.tso_props.tcp"),
            END_FIELDS,
        },
};
const VmsLayout vms_e1000 = {
    .name = "e1000",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            UNUSED(4),
            U32("rxbuf_size"),
            U32("rxbuf_min_shift"),
            U32("eecd_state.val_in"),
            U16("eecd_state.bitnum_in"),
            U16("eecd_state.bitnum_out"),
            U16("eecd_state.reading"),
            U32("eecd_state.old_eecd"),
            U8("tx.ipcss"),
            U8("tx.ipcso"),
            U16("tx.ipcse"),
            U8("tx.tucss"),
            U8("tx.tucso"),
            U16("tx.tucse"),
            U32("tx.paylen"),
            U8("tx.hdr_len"),
            U16("tx.mss"),
            U16("tx.size"),
            U16("tx.tso_frames"),
            U8("tx.sum_needed"),
            I8("tx.ip"),
            I8("tx.tcp"),
            BUFFER("tx.header", 256),
            BUFFER("tx.data", 0x10000),
            U16_ARRAY("eeprom_data", 64),
            U16_ARRAY("phy_reg", 32),
            /* CTRL EECD EERD GPRC GPTC ICR ICS IMC IMS LEDCTL MANC MDIC MPC PBA
             * RCTL RDBAH RDBAL RDH RDLEN RDT STATUS SWSM TCTL TDBAH TDBAL TDH
             * TDLEN TDT TORH TORL TOTH TOTL TPR TPT TXDCTL WUFC VET */
            U32_ARRAY("mac_reg[selected]", 37),
            U32_ARRAY("mac_reg[RA]", 32),
            U32_ARRAY("mac_reg[MTA]", 128),
            U32_ARRAY("mac_reg[VFTA]", 128),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&e1000_mit_state, &e1000_full_mac_state,
                               &e1000_tx_tso_state),
};

/* ---- rtl8139: qemu-kvm v4, 7.2 v5 (RxOkMul added) ------------------------ */

static const VmsLayout rtl8139_hotplug_ready = {
    .name = "rtl8139/hotplug_ready",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){END_FIELDS},
};
const VmsLayout vms_rtl8139 = {
    .name = "rtl8139",
    .min_version = 3,
    .max_version = 5,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            BUFFER("phys", 6),
            BUFFER("mult", 8),
            U32_ARRAY("TxStatus", 4),
            U32_ARRAY("TxAddr", 4),
            U32("RxBuf"),
            U32("RxBufferSize"),
            U32("RxBufPtr"),
            U32("RxBufAddr"),
            U16("IntrStatus"),
            U16("IntrMask"),
            U32("TxConfig"),
            U32("RxConfig"),
            U32("RxMissed"),
            U16("CSCR"),
            U8("Cfg9346"),
            U8("Config0"),
            U8("Config1"),
            U8("Config3"),
            U8("Config4"),
            U8("Config5"),
            U8("clock_enabled"),
            U8("bChipCmdState"),
            U16("MultiIntr"),
            U16("BasicModeCtrl"),
            U16("BasicModeStatus"),
            U16("NWayAdvert"),
            U16("NWayLPAR"),
            U16("NWayExpansion"),
            U16("CpCmd"),
            U8("TxThresh"),
            UNUSED(4),
            BUFFER("conf.macaddr", 6),
            I32("rtl8139_mmio_io_addr_dummy"),
            U32("currTxDesc"),
            U32("currCPlusRxDesc"),
            U32("currCPlusTxDesc"),
            U32("RxRingAddrLO"),
            U32("RxRingAddrHI"),
            U16_ARRAY("eeprom.contents", 64),
            I32("eeprom.mode"),
            U32("eeprom.tick"),
            U8("eeprom.address"),
            U16("eeprom.input"),
            U16("eeprom.output"),
            U8("eeprom.eecs"),
            U8("eeprom.eesk"),
            U8("eeprom.eedi"),
            U8("eeprom.eedo"),
            U32("TCTR"),
            U32("TimerInt"),
            I64("TCTR_base"),
            U64("tally_counters.TxOk"),
            U64("tally_counters.RxOk"),
            U64("tally_counters.TxERR"),
            U32("tally_counters.RxERR"),
            U16("tally_counters.MissPkt"),
            U16("tally_counters.FAE"),
            U32("tally_counters.Tx1Col"),
            U32("tally_counters.TxMCol"),
            U64("tally_counters.RxOkPhy"),
            U64("tally_counters.RxOkBrd"),
            U32("tally_counters.RxOkMul", .since = 5),
            U16("tally_counters.TxAbt"),
            U16("tally_counters.TxUndrn"),
            U32("cplus_enabled", .since = 4),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&rtl8139_hotplug_ready),
};

/* ---- NE2000 -------------------------------------------------------------- */

static const VmsLayout ne2000_core = {
    .name = "ne2000",
    .min_version = 0,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U8("rxcr", .since = 2),
            U8("cmd"),
            U32("start"),
            U32("stop"),
            U8("boundary"),
            U8("tsr"),
            U8("tpsr"),
            U16("tcnt"),
            U16("rcnt"),
            U32("rsar"),
            U8("rsr"),
            U8("isr"),
            U8("dcfg"),
            U8("imr"),
            BUFFER("phys", 6),
            U8("curpag"),
            BUFFER("mult", 8),
            UNUSED(4),
            BUFFER("mem", 49152),
            END_FIELDS,
        },
};
/* PCI ne2k: version 3 (PCIDevice + core); ISA: version 2, core only. */
const VmsLayout vms_ne2000_pci = {
    .name = "ne2000",
    .variant = "PCI",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            STRUCT("ne2000", ne2000_core),
            END_FIELDS,
        },
};
const VmsLayout vms_ne2000_isa = {
    .name = "ne2000",
    .variant = "ISA",
    .min_version = 0,
    .max_version = 2,
    .fields = (const VmsField[]){STRUCT("ne2000", ne2000_core), END_FIELDS},
};

/* ---- PCnet --------------------------------------------------------------- */

static const VmsLayout pcnet_core = {
    .name = "pcnet",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            I32("rap"),
            I32("isr"),
            I32("lnkst"),
            U32("rdra"),
            U32("tdra"),
            BUFFER("prom", 16),
            U16_ARRAY("csr", 128),
            U16_ARRAY("bcr", 32),
            U64("timer"),
            I32("xmit_pos"),
            BUFFER("buffer", 4096),
            I32("tx_busy"),
            TIMER("poll_timer"),
            END_FIELDS,
        },
};
const VmsLayout vms_pcnet = {
    .name = "pcnet",
    .min_version = 2,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            STRUCT("state", pcnet_core),
            END_FIELDS,
        },
};

/*
 * ---- eepro100 (i82551, i82557b, i82559er, ...) -----------------------------
 * One vmsd for the whole family, named after the device model at realize
 * (so -dump-vmstate lists none of them): version 3 in qemu-kvm 0.15-1.2 and
 * QEMU 7.2/10.0 alike (0.13 dropped a u32 'pointer' after 'device'; 7.2
 * keeps 'device' as 4 unused bytes). 4698 bytes.
 */
static const VmsField eepro100_fields[] = {
    STRUCT("dev", vms_pci_device),
    UNUSED(32),
    BUFFER("mult", 8),
    BUFFER("mem", 4096),
    U8("scb_stat"),
    U8("int_stat"),
    UNUSED(12),
    BUFFER("conf.macaddr", 6),
    UNUSED(76),
    U16_ARRAY("mdimem", 32),
    U32("device"),
    U32("cu_base"),
    U32("cu_offset"),
    U32("ru_base"),
    U32("ru_offset"),
    U32("statsaddr"),
    U32("statistics.tx_good_frames"),
    U32("statistics.tx_max_collisions"),
    U32("statistics.tx_late_collisions"),
    U32("statistics.tx_underruns"),
    U32("statistics.tx_lost_crs"),
    U32("statistics.tx_deferred"),
    U32("statistics.tx_single_collisions"),
    U32("statistics.tx_multiple_collisions"),
    U32("statistics.tx_total_collisions"),
    U32("statistics.rx_good_frames"),
    U32("statistics.rx_crc_errors"),
    U32("statistics.rx_alignment_errors"),
    U32("statistics.rx_resource_errors"),
    U32("statistics.rx_overrun_errors"),
    U32("statistics.rx_cdt_errors"),
    U32("statistics.rx_short_frame_errors"),
    U32("statistics.fc_xmt_pause"),
    U32("statistics.fc_rcv_pause"),
    U32("statistics.fc_rcv_unsupported"),
    U16("statistics.xmt_tco_frames"),
    U16("statistics.rcv_tco_frames"),
    BUFFER("configuration", 22),
    END_FIELDS,
};
#define EEPRO100(var, model)                                                   \
    const VmsLayout var = {                                                    \
        .name = model,                                                         \
        .min_version = 2,                                                      \
        .max_version = 3,                                                      \
        .fields = eepro100_fields,                                             \
    }
EEPRO100(vms_i82550, "i82550");
EEPRO100(vms_i82551, "i82551");
EEPRO100(vms_i82557a, "i82557a");
EEPRO100(vms_i82557b, "i82557b");
EEPRO100(vms_i82557c, "i82557c");
EEPRO100(vms_i82558a, "i82558a");
EEPRO100(vms_i82558b, "i82558b");
EEPRO100(vms_i82559a, "i82559a");
EEPRO100(vms_i82559b, "i82559b");
EEPRO100(vms_i82559c, "i82559c");
EEPRO100(vms_i82559er, "i82559er");
EEPRO100(vms_i82562, "i82562");
EEPRO100(vms_i82801, "i82801");

/* The 93xx EEPROM of the eepro100 NICs ("<pci path>/eeprom"): version
 * 20061113 in every era (20061112 stored the word count as one byte and a
 * pad byte). */
const VmsLayout vms_eeprom93xx = {
    .name = "eeprom",
    .min_version = 20061112,
    .max_version = 20061113,
    .fields =
        (const VmsField[]){
            U8("tick"),
            U8("address"),
            U8("command"),
            U8("writable"),
            U8("eecs"),
            U8("eesk"),
            U8("eedo"),
            U8("addrbits"),
            U8("size", .until = 20061112),
            UNUSED(1, .until = 20061112),
            U16("size", .since = 20061113),
            U16("data"),
            U16_ARRAY("contents", 0, .count_from = "size"),
            END_FIELDS,
        },
};

/*
 * ---- slirp (old-style, -net user) -----------------------------------------
 * A list of guestfwd sockets (each announced by a 42 byte, ended by 0),
 * then ip_id (v >= 2) and 16 BOOTP client slots (v >= 3). Version 4 (QEMU
 * 7.2, libslirp) tags socket addresses with their family.
 */
static bool slirp_sbuf(VmsWalk *w, const char *name, GError **errp)
{
    uint64_t datalen;
    (void)name;
    return vms_walk_int(w, "sb_cc", 4, false, NULL, errp) &&
           vms_walk_int(w, "sb_datalen", 4, false, &datalen, errp) &&
           vms_walk_int(w, "woff", 4, false, NULL, errp) &&
           vms_walk_int(w, "roff", 4, false, NULL, errp) &&
           (datalen <= (1u << 24) ||
            vms_walk_fail(w, errp, "socket buffer of %" PRIu64 " bytes",
                          datalen)) &&
           vms_walk_buffer(w, "data", datalen, NULL, errp);
}

static bool slirp_addr(VmsWalk *w, const char *name, GError **errp)
{
    uint64_t family;
    char *f = g_strdup_printf("%s.family", name);
    char *a = g_strdup_printf("%s.addr", name);
    char *p = g_strdup_printf("%s.port", name);
    bool ok = vms_walk_int(w, f, 2, false, &family, errp) &&
              (family != 2 || (vms_walk_int(w, a, 4, false, NULL, errp) &&
                               vms_walk_int(w, p, 2, false, NULL, errp)));
    g_free(f);
    g_free(a);
    g_free(p);
    return ok;
}

static const VmsLayout slirp_tcpcb = {
    .name = "slirp-tcp",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            I16("t_state"),
            VF_SINT("t_timer", 2, .count = 4),
            I16("t_rxtshift"),
            I16("t_rxtcur"),
            I16("t_dupacks"),
            U16("t_maxseg"),
            I8("t_force"),
            U16("t_flags"),
            U32("snd_una"),
            U32("snd_nxt"),
            U32("snd_up"),
            U32("snd_wl1"),
            U32("snd_wl2"),
            U32("iss"),
            U32("snd_wnd"),
            U32("rcv_wnd"),
            U32("rcv_nxt"),
            U32("rcv_up"),
            U32("irs"),
            U32("rcv_adv"),
            U32("snd_max"),
            U32("snd_cwnd"),
            U32("snd_ssthresh"),
            I16("t_idle"),
            I16("t_rtt"),
            U32("t_rtseq"),
            I16("t_srtt"),
            I16("t_rttvar"),
            U16("t_rttmin"),
            U32("max_sndwnd"),
            U8("t_oobflags"),
            U8("t_iobc"),
            I16("t_softerror"),
            U8("snd_scale"),
            U8("rcv_scale"),
            U8("request_r_scale"),
            U8("requested_s_scale"),
            U32("ts_recent"),
            U32("ts_recent_age"),
            U32("last_ack_sent"),
            END_FIELDS,
        },
};

static bool slirp_socket(VmsWalk *w, uint32_t version, GError **errp)
{
    if (!vms_walk_int(w, "so_urgc", 4, false, NULL, errp)) {
        return false;
    }
    if (version < 4) {
        if (!vms_walk_int(w, "so_faddr", 4, false, NULL, errp) ||
            !vms_walk_int(w, "so_laddr", 4, false, NULL, errp) ||
            !vms_walk_int(w, "so_fport", 2, false, NULL, errp) ||
            !vms_walk_int(w, "so_lport", 2, false, NULL, errp)) {
            return false;
        }
    } else if (!slirp_addr(w, "fhost", errp) || !slirp_addr(w, "lhost", errp)) {
        return false;
    }
    return vms_walk_int(w, "so_iptos", 1, false, NULL, errp) &&
           vms_walk_int(w, "so_emu", 1, false, NULL, errp) &&
           vms_walk_int(w, "so_type", 1, false, NULL, errp) &&
           vms_walk_int(w, "so_state", 4, true, NULL, errp) &&
           slirp_sbuf(w, "so_rcv", errp) && slirp_sbuf(w, "so_snd", errp) &&
           vms_walk_struct(w, "so_tcpcb", &slirp_tcpcb, errp);
}

static const VmsLayout bootp_client = {
    .name = "slirp_bootpclient",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("allocated"),
            BUFFER("macaddr", 6),
            END_FIELDS,
        },
};

static bool slirp_state(VmsWalk *w, const VmsField *f, GError **errp)
{
    (void)f;
    for (unsigned n = 0;; n++) {
        uint64_t marker;
        if (!vms_walk_int(w, "socket_follows", 1, false, &marker, errp)) {
            return false;
        }
        if (marker == 0) {
            break;
        }
        if (marker != 42 || n >= 4096) {
            w->r->pos -= 1;
            return vms_walk_fail(
                w, errp, "socket marker is %" PRIu64 ", expected 42 or 0",
                marker);
        }
        if (!slirp_socket(w, w->version, errp)) {
            return false;
        }
    }
    if (w->version >= 2 && !vms_walk_int(w, "ip_id", 2, false, NULL, errp)) {
        return false;
    }
    for (unsigned i = 0; w->version >= 3 && i < 16; i++) {
        char name[32];
        g_snprintf(name, sizeof(name), "bootp_clients[%u]", i);
        if (!vms_walk_struct(w, name, &bootp_client, errp)) {
            return false;
        }
    }
    return true;
}

const VmsLayout vms_slirp = {
    .name = "slirp",
    .min_version = 1,
    .max_version = 4,
    .note = "old-style (register_savevm) in every era; v4 is libslirp's",
    .fields = (const VmsField[]){CUSTOM("slirp", slirp_state), END_FIELDS},
};
