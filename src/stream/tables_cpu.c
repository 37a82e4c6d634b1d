/*
 * Layouts: timer, cpu_common and the x86_64 CPU with its subsections.
 * Field names follow QEMU's vmstate; sizes were checked against the vmdesc
 * of QEMU 7.2 streams and, for qemu-kvm, against vmstate-reference §3.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* ---- timer (qemu-timer.c / cpus.c): the same 24 bytes in every era ------- */
const VmsLayout vms_timer = {
    .name = "timer",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            I64("cpu_ticks_offset"),
            UNUSED(8),
            I64("cpu_clock_offset", .since = 2),
            END_FIELDS,
        },
};

/* ---- cpu_common ---------------------------------------------------------- */
static const VmsLayout cpu_common_exception_index = {
    .name = "cpu_common/exception_index",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){I32("exception_index"), END_FIELDS},
};
static const VmsLayout cpu_common_crash_occurred = {
    .name = "cpu_common/crash_occurred",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("crash_occurred"), END_FIELDS},
};
const VmsLayout vms_cpu_common = {
    .name = "cpu_common",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("halted"),
            U32("interrupt_request"),
            END_FIELDS,
        },
    .subsections =
        SUBSECTIONS(&cpu_common_exception_index, &cpu_common_crash_occurred),
};

/* ---- cpu (x86_64, CPU_SAVE_VERSION 12 in every era) ---------------------- */
static const VmsLayout segment = {
    .name = "segment",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("selector"),
            U64("base"),
            U32("limit"),
            U32("flags"),
            END_FIELDS,
        },
};
static const VmsLayout fpreg = {
    .name = "fpreg",
    .min_version = 0,
    .max_version = 0,
    .fields = (const VmsField[]){U64("mant"), U16("exp"), END_FIELDS},
};
static const VmsLayout xmm_reg = {
    .name = "xmm_reg",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64_ARRAY("q", 2), END_FIELDS},
};
static const VmsLayout mtrr_var = {
    .name = "mtrr_var",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64("base"), U64("mask"), END_FIELDS},
};

#define CPU_SUB_U64(var, sub, field)                                           \
    static const VmsLayout var = {                                             \
        .name = "cpu/" sub,                                                    \
        .min_version = 1,                                                      \
        .max_version = 1,                                                      \
        .fields = (const VmsField[]){U64(field), END_FIELDS},                  \
    }
CPU_SUB_U64(cpu_async_pf, "async_pf_msr", "env.async_pf_en_msr");
CPU_SUB_U64(cpu_pv_eoi, "async_pv_eoi_msr", "env.pv_eoi_en_msr");
CPU_SUB_U64(cpu_steal_time, "steal_time_msr", "env.steal_time_msr");
CPU_SUB_U64(cpu_poll_control, "poll_control_msr", "env.poll_control_msr");
CPU_SUB_U64(cpu_tsc_adjust, "msr_tsc_adjust", "env.tsc_adjust");
CPU_SUB_U64(cpu_smi_count, "msr_smi_count", "env.msr_smi_count");
CPU_SUB_U64(cpu_tscdeadline, "msr_tscdeadline", "env.tsc_deadline");
CPU_SUB_U64(cpu_misc_enable, "msr_ia32_misc_enable",
            "env.msr_ia32_misc_enable");
CPU_SUB_U64(cpu_feature_control, "msr_ia32_feature_control",
            "env.msr_ia32_feature_control");
CPU_SUB_U64(cpu_hv_vapic, "msr_hyperv_vapic", "env.msr_hv_vapic");
CPU_SUB_U64(cpu_hv_time, "msr_hyperv_time", "env.msr_hv_tsc");
CPU_SUB_U64(cpu_hv_runtime, "msr_hyperv_runtime", "env.msr_hv_runtime");
CPU_SUB_U64(cpu_xss, "xss", "env.xss");
CPU_SUB_U64(cpu_spec_ctrl, "spec_ctrl", "env.spec_ctrl");
CPU_SUB_U64(cpu_mcg_ext_ctl, "mcg_ext_ctl", "env.mcg_ext_ctl");
CPU_SUB_U64(cpu_virt_ssbd, "virt_ssbd", "env.virt_ssbd");
CPU_SUB_U64(cpu_tsx_ctrl, "msr_tsx_ctrl", "env.tsx_ctrl");

static const VmsLayout cpu_exception_info = {
    .name = "cpu/exception_info",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("env.exception_pending"),
            U8("env.exception_injected"),
            U8("env.exception_has_payload"),
            U64("env.exception_payload"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_fpop_ip_dp = {
    .name = "cpu/fpop_ip_dp",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("env.fpop"),
            U64("env.fpip"),
            U64("env.fpdp"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_pmu = {
    .name = "cpu/msr_architectural_pmu",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.msr_fixed_ctr_ctrl"),
            U64("env.msr_global_ctrl"),
            U64("env.msr_global_status"),
            U64("env.msr_global_ovf_ctrl"),
            U64_ARRAY("env.msr_fixed_counters", 3),
            U64_ARRAY("env.msr_gp_counters", 18),
            U64_ARRAY("env.msr_gp_evtsel", 18),
            END_FIELDS,
        },
};
static const VmsLayout bnd_reg = {
    .name = "bnd_regs",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64("lb"), U64("ub"), END_FIELDS},
};
static const VmsLayout cpu_mpx = {
    .name = "cpu/mpx",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("env.bnd_regs", 4, bnd_reg),
            U64("env.bndcs_regs.cfgu"),
            U64("env.bndcs_regs.sts"),
            U64("env.msr_bndcfgs"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_hv_hypercall = {
    .name = "cpu/msr_hyperv_hypercall",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.msr_hv_guest_os_id"),
            U64("env.msr_hv_hypercall"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_hv_crash = {
    .name = "cpu/msr_hyperv_crash",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64_ARRAY("env.msr_hv_crash_params", 5),
            END_FIELDS,
        },
};
static const VmsLayout cpu_hv_synic = {
    .name = "cpu/msr_hyperv_synic",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.msr_hv_synic_control"),
            U64("env.msr_hv_synic_evt_page"),
            U64("env.msr_hv_synic_msg_page"),
            U64_ARRAY("env.msr_hv_synic_sint", 16),
            END_FIELDS,
        },
};
static const VmsLayout cpu_hv_stimer = {
    .name = "cpu/msr_hyperv_stimer",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64_ARRAY("env.msr_hv_stimer_config", 4),
            U64_ARRAY("env.msr_hv_stimer_count", 4),
            END_FIELDS,
        },
};
static const VmsLayout cpu_hv_reenlightenment = {
    .name = "cpu/msr_hyperv_reenlightenment",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.msr_hv_reenlightenment_control"),
            U64("env.msr_hv_tsc_emulation_control"),
            U64("env.msr_hv_tsc_emulation_status"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_avx512 = {
    .name = "cpu/avx512",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64_ARRAY("env.opmask_regs", 8),
            U64_ARRAY("env.zmmh_regs", 16 * 4),
            U64_ARRAY("env.hi16_zmm_regs", 16 * 8),
            END_FIELDS,
        },
};
static const VmsLayout cpu_umwait = {
    .name = "cpu/umwait",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("env.umwait"), END_FIELDS},
};
static const VmsLayout cpu_pkru = {
    .name = "cpu/pkru",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("env.pkru"), END_FIELDS},
};
static const VmsLayout cpu_pkrs = {
    .name = "cpu/pkrs",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("env.pkrs"), END_FIELDS},
};
static const VmsLayout cpu_tsc_khz = {
    .name = "cpu/tsc_khz",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){I64("env.tsc_khz"), END_FIELDS},
};
static const VmsLayout cpu_intel_pt = {
    .name = "cpu/intel_pt",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.msr_rtit_ctrl"),
            U64("env.msr_rtit_status"),
            U64("env.msr_rtit_output_base"),
            U64("env.msr_rtit_output_mask"),
            U64("env.msr_rtit_cr3_match"),
            U64_ARRAY("env.msr_rtit_addrs", 8),
            END_FIELDS,
        },
};
static const VmsLayout cpu_svm_npt = {
    .name = "cpu/svn_npt",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.nested_cr3"),
            U32("env.nested_pg_mode"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_svm_guest = {
    .name = "cpu/svm_guest",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("env.int_ctl"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_pdptrs = {
    .name = "cpu/pdptrs",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64_ARRAY("pdptrs", 4), END_FIELDS},
};
static const VmsLayout cpu_xfd = {
    .name = "cpu/xfd",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.xfd"),
            U64("env.xfd_err"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_triple_fault = {
    .name = "cpu/triple_fault",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("env.triple_fault_pending"), END_FIELDS},
};
static const VmsLayout lbr_records = {
    .name = "lbr_records",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("from"),
            U64("to"),
            U64("info"),
            END_FIELDS,
        },
};
static const VmsLayout cpu_arch_lbr = {
    .name = "cpu/arch_lbr",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("env.msr_lbr_ctl"),
            U64("env.msr_lbr_depth"),
            STRUCT_ARRAY("env.lbr_records", 32, lbr_records),
            END_FIELDS,
        },
};
static const VmsLayout cpu_amx_xtile = {
    .name = "cpu/intel_amx",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8_ARRAY("env.xtilecfg", 64),
            U8_ARRAY("env.xtiledata", 8192),
            END_FIELDS,
        },
};
/* KVM nested virtualisation state (a struct with its own subsections). */
static const VmsLayout nested_vmcs12 = {
    .name = "cpu/kvm_nested_state/vmx/vmcs12",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BUFFER("vmcs12", 0x1000), END_FIELDS},
};
static const VmsLayout nested_shadow_vmcs12 = {
    .name = "cpu/kvm_nested_state/vmx/shadow_vmcs12",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BUFFER("shadow_vmcs12", 0x1000), END_FIELDS},
};
static const VmsLayout nested_vmx = {
    .name = "cpu/kvm_nested_state/vmx",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("hdr.vmx.vmxon_pa"),
            U64("hdr.vmx.vmcs12_pa"),
            U16("hdr.vmx.smm.flags"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&nested_vmcs12, &nested_shadow_vmcs12),
};
static const VmsLayout nested_svm_vmcb12 = {
    .name = "cpu/kvm_nested_state/svm/vmcb12",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BUFFER("vmcb12", 0x1000), END_FIELDS},
};
static const VmsLayout nested_svm = {
    .name = "cpu/kvm_nested_state/svm",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64("hdr.svm.vmcb_pa"), END_FIELDS},
    .subsections = SUBSECTIONS(&nested_svm_vmcb12),
};
static const VmsLayout kvm_nested_state = {
    .name = "cpu/kvm_nested_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("flags"),
            U16("format"),
            U32("size"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&nested_vmx, &nested_svm),
};
static const VmsLayout cpu_nested_state = {
    .name = "cpu/nested_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("env.nested_state", kvm_nested_state),
            END_FIELDS,
        },
};

const VmsLayout vms_cpu = {
    .name = "cpu",
    .min_version = 11,
    .max_version = 12,
    .note = "x86_64 CPU; qemu-kvm 0.15/1.0 save it old-style with the same "
            "bytes",
    .fields =
        (const VmsField[]){
            U64_ARRAY("env.regs", 16),
            U64("env.eip"),
            U64("env.eflags"),
            U32("env.hflags"),
            U16("env.fpuc"),
            U16("env.fpus"),
            U16("env.fptag"),
            U16("env.fpregs_format", EQ(0)),
            STRUCT_ARRAY("env.fpregs", 8, fpreg),
            STRUCT_ARRAY("env.segs", 6, segment),
            STRUCT("env.ldt", segment),
            STRUCT("env.tr", segment),
            STRUCT("env.gdt", segment),
            STRUCT("env.idt", segment),
            U32("env.sysenter_cs"),
            U64("env.sysenter_esp"),
            U64("env.sysenter_eip"),
            U64("env.cr[0]"),
            U64("env.cr[2]"),
            U64("env.cr[3]"),
            U64("env.cr[4]"),
            U64_ARRAY("env.dr", 8),
            I32("env.a20_mask"),
            U32("env.mxcsr"),
            STRUCT_ARRAY("env.xmm_regs", 16, xmm_reg),
            U64("env.efer"),
            U64("env.star"),
            U64("env.lstar"),
            U64("env.cstar"),
            U64("env.fmask"),
            U64("env.kernelgsbase"),
            U32("env.smbase"),
            U64("env.pat"),
            U32("env.hflags2"),
            U64("env.vm_hsave"),
            U64("env.vm_vmcb"),
            U64("env.tsc_offset"),
            U64("env.intercept"),
            U16("env.intercept_cr_read"),
            U16("env.intercept_cr_write"),
            U16("env.intercept_dr_read"),
            U16("env.intercept_dr_write"),
            U32("env.intercept_exceptions"),
            U8("env.v_tpr"),
            U64_ARRAY("env.mtrr_fixed", 11),
            U64("env.mtrr_deftype"),
            STRUCT_ARRAY("env.mtrr_var", 8, mtrr_var),
            I32("env.interrupt_injected"),
            U32("env.mp_state"),
            U64("env.tsc"),
            I32("env.exception_nr"),
            U8("env.soft_interrupt"),
            U8("env.nmi_injected"),
            U8("env.nmi_pending"),
            U8("env.has_error_code"),
            U32("env.sipi_vector"),
            U64("env.mcg_cap"),
            U64("env.mcg_status"),
            U64("env.mcg_ctl"),
            U64_ARRAY("env.mce_banks", 40),
            U64("env.tsc_aux"),
            U64("env.system_time_msr"),
            U64("env.wall_clock_msr"),
            U64("env.xcr0", .since = 12),
            U64("env.xstate_bv", .since = 12),
            STRUCT_ARRAY("env.ymmh_regs", 16, xmm_reg, .since = 12),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(
        &cpu_exception_info, &cpu_async_pf, &cpu_pv_eoi, &cpu_steal_time,
        &cpu_poll_control, &cpu_fpop_ip_dp, &cpu_tsc_adjust, &cpu_tscdeadline,
        &cpu_misc_enable, &cpu_feature_control, &cpu_pmu, &cpu_mpx,
        &cpu_hv_hypercall, &cpu_hv_vapic, &cpu_hv_time, &cpu_hv_crash,
        &cpu_hv_runtime, &cpu_hv_synic, &cpu_hv_stimer, &cpu_hv_reenlightenment,
        &cpu_avx512, &cpu_xss, &cpu_umwait, &cpu_tsc_khz, &cpu_smi_count,
        &cpu_pkru, &cpu_pkrs, &cpu_spec_ctrl, &cpu_mcg_ext_ctl, &cpu_intel_pt,
        &cpu_virt_ssbd, &cpu_svm_npt, &cpu_svm_guest, &cpu_nested_state,
        &cpu_tsx_ctrl, &cpu_pdptrs, &cpu_xfd, &cpu_arch_lbr, &cpu_triple_fault,
        &cpu_amx_xtile),
};
