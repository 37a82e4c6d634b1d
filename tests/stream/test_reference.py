#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The QEMU 7.2 reference streams (../shared/reference-streams): every one
parses to EOF with its vmdesc's device list and field sizes, writes back
byte for byte, and the tail path and resync agree with the full walk."""
import json
import os

import streamlib
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

STREAMS = streamlib.reference_streams()


def vmdesc_devices(mig):
    with open(mig[:-len(".mig")] + ".json") as f:
        return json.load(f)["devices"]


def test_reference_streams_pass_every_invariant():
    for mig in STREAMS:
        r = streamlib.stream_check(mig, hide=("i8254", "piix4_pm", "cpu"))
        want = vmdesc_devices(mig)
        check_eq(r["vmdesc_devices"], len(want), f"{mig}: devices checked")
        check_eq(r["roundtrip_bytes"], os.path.getsize(mig),
                 f"{mig}: bytes written back")
        check(r["tail_bytes_read"] <= streamlib.TAIL_BUDGET,
              f"{mig}: tail path read {r['tail_bytes_read']} bytes")
        check_eq(r["resynced"], {"i8254": 1, "piix4_pm": 1,
                                 "cpu": sum(d["name"] == "cpu" for d in want)},
                 f"{mig}: sections located by resync")


def test_inspect_lists_the_vmdesc_devices_in_order():
    for mig in STREAMS:
        doc = streamlib.inspect_json("--stream", mig)
        want = [(d["name"], d["instance_id"], d.get("version"))
                for d in vmdesc_devices(mig)]
        got = [(i, n, v if w is not None else None)
               for (i, n, v), w in zip(streamlib.devices(doc),
                                       [x[2] for x in want])]
        check_eq(got, want, f"{mig}: device sections")
        check_eq(doc["vmdesc"]["offset"], doc["eof-offset"] + 1,
                 f"{mig}: vmdesc right after EOF")
        check_eq(doc["writer"]["program"], "qemu", f"{mig}: program")
        check(streamlib.version_in_range("7.2", doc["writer"]["version"]),
              f"{mig}: version {doc['writer']['version']} contains 7.2")
        want_accel = "kvm" if os.path.basename(mig).startswith("kvm") else "tcg"
        check_eq(doc["writer"]["accel"], want_accel, f"{mig}: accel")


def test_field_dump_matches_the_desc_dump():
    """--sections=cpu gives QEMU's field names and sizes (desc.txt)."""
    mig = STREAMS[0]
    doc = streamlib.inspect_json("--stream", mig, "--sections=cpu")
    cpu = [s for s in doc["sections"] if s["idstr"] == "cpu"][0]
    fields = {f["path"]: f for f in cpu["fields"]}
    check_eq(fields["env.eip"]["size"], 8, "cpu env.eip size")
    check_eq(fields["env.a20_mask"]["size"], 4, "cpu env.a20_mask size")
    check_eq(fields["env.mce_banks"]["size"], 40 * 8, "cpu mce_banks size")
    with open(mig[:-len(".mig")] + ".desc.txt") as f:
        desc = f.read()
    for name in ("env.eip", "env.a20_mask", "env.tsc", "env.xcr0"):
        check(f"  {name}: " in desc, f"desc.txt names {name}")
    tsc = fields["env.tsc"]
    check_eq(tsc["payload-offset"] + cpu["payload-offset"], tsc["offset"],
             "absolute = payload + relative offset")


if __name__ == "__main__":
    testlib.main([test_reference_streams_pass_every_invariant,
                  test_inspect_lists_the_vmdesc_devices_in_order,
                  test_field_dump_matches_the_desc_dump])
