# SPDX-License-Identifier: GPL-2.0-or-later
"""The clock fields of an x86 migration stream: what the `cpu`, `kvmclock`
and `timer` sections say about time (docs/tsc-after-load.md).

A few lines of reading, not a parser: a device section header is
QEMU_VM_SECTION_FULL, a be32 section id, the idstr as a length byte plus
characters, be32 instance and be32 version, so the header of a known
section is found by its idstr/instance/version bytes. Field offsets come
from the vmdesc QEMU 7.2 writes (../shared/reference-streams/kvm14.json);
the cpu v12 layout is the same in qemu-kvm 0.15-1.2
(../shared/docs/vmstate-reference.md 3.3).
"""
import struct

CPU_V12_TSC = 1157               # env.tsc (u64)
CPU_V12_SYSTEM_TIME_MSR = 1529   # env.system_time_msr (kvmclock MSR)
CPU_V12_WALL_CLOCK_MSR = 1537


def section_payload(stream, idstr, version, instance=0):
    """Offset of the payload of section idstr/instance/version, or None."""
    name = idstr.encode()
    header = bytes([len(name)]) + name + struct.pack(">II", instance, version)
    at = stream.find(header)
    return None if at < 0 else at + len(header)


def clocks(stream):
    """{'cpu.tsc', 'cpu.system_time_msr', 'kvmclock.clock' (None without
    KVM), 'timer.cpu_ticks_offset', 'timer.cpu_clock_offset'}."""
    out = {}
    cpu = section_payload(stream, "cpu", 12)
    if cpu is None:
        raise ValueError("no cpu v12 section")
    out["cpu.tsc"], = struct.unpack_from(">Q", stream, cpu + CPU_V12_TSC)
    out["cpu.system_time_msr"], = struct.unpack_from(
        ">Q", stream, cpu + CPU_V12_SYSTEM_TIME_MSR)
    kvmclock = section_payload(stream, "kvmclock", 1)
    out["kvmclock.clock"] = (struct.unpack_from(">Q", stream, kvmclock)[0]
                             if kvmclock is not None else None)
    timer = section_payload(stream, "timer", 2)
    ticks, _unused, clock = struct.unpack_from(">qqq", stream, timer)
    out["timer.cpu_ticks_offset"] = ticks
    out["timer.cpu_clock_offset"] = clock
    return out
