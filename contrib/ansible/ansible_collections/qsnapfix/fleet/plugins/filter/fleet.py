# SPDX-License-Identifier: GPL-2.0-or-later
"""Filters of the qsnapfix fleet workflow: which domains a host's scan
asks to fix, which snapshot each is to resume from, and the fleet's
report on the controller."""
import posixpath

from ansible_collections.qsnapfix.fleet.plugins.module_utils import \
    qsnapfix_report as rep


def _norm(path):
    return posixpath.normpath(path) if path else path


def fix_plan(domains, scan_report, revert_to=None):
    """One entry per domain with a fixable snapshot on one of its disks:
    {domain, state, managed_save, images, fixable [{image, snapshot}],
    revert_to, revert_image (the disk holding it), serial_files}, in the
    order of `domains`.

    revert_to (a dict domain -> snapshot) names the snapshot to resume;
    else the domain's current libvirt snapshot when it is fixable, else the
    last fixable one libvirt knows with its memory (libvirt's topological
    order), else null: a snapshot libvirt does not know cannot be
    reverted to with virsh."""
    by_image = {}
    for item in rep.fixable(scan_report):
        by_image.setdefault(_norm(item["image"]), []).append(item)
    plan = []
    for dom in domains or []:
        disks = [_norm(d["path"]) for d in dom.get("disks", [])]
        fixable = [f for d in disks for f in by_image.get(d, [])]
        if not fixable:
            continue
        names = {f["snapshot"] for f in fixable}
        known = [s["name"] for s in dom.get("snapshots", [])
                 if s.get("memory") == "internal" and s["name"] in names]
        chosen = (revert_to or {}).get(dom["name"])
        if chosen is None:
            current = dom.get("current_snapshot")
            chosen = current if current in known else \
                (known[-1] if known else None)
        plan.append({"domain": dom["name"], "state": dom.get("state"),
                     "managed_save": bool(dom.get("managed_save")),
                     "images": sorted({f["image"] for f in fixable},
                                      key=[f["image"] for f in
                                           fixable].index),
                     "fixable": fixable, "revert_to": chosen,
                     "revert_image": next((f["image"] for f in fixable
                                           if f["snapshot"] == chosen),
                                          None),
                     "serial_files": dom.get("serial_files", [])})
    return plan


def scan_paths(domains):
    """The qcow2 disks of the domains (each once), to scan."""
    out = []
    for dom in domains or []:
        for disk in dom.get("disks", []):
            if disk.get("format") in (None, "qcow2") and \
                    disk["path"] not in out:
                out.append(disk["path"])
    return out


def images_of(report, paths):
    """The image objects of a fix report that are these paths."""
    wanted = {_norm(p) for p in paths or []}
    return [im for im in rep.member(report, "images") or []
            if _norm(rep.image_path(im)) in wanted]


def images_to_write(reports):
    """The images a dry run of undo or drop-originals (one report per
    journal) would write: those with a snapshot `done`."""
    out = []
    for report in reports or []:
        for image in rep.member(report, "images") or []:
            if any(rep.member(s, "status") == "done"
                   for s in rep.member(image, "snapshots") or []) and \
                    rep.image_path(image) not in out:
                out.append(rep.image_path(image))
    return out


def domains_using(domains, images):
    """[{domain, state}] of the domains with one of these images as a
    disk."""
    wanted = {_norm(p) for p in images or []}
    return [{"domain": d["name"], "state": d.get("state")}
            for d in domains or []
            if any(_norm(x["path"]) in wanted for x in d.get("disks", []))]


def fleet_report(hosts):
    """hosts: {host: {scan, plan, domains}} -> one document: per host its
    scan's summary, fixable snapshots, domains to fix and, after a fix, what
    happened; and totals over the fleet."""
    out = {"hosts": {}, "summary": {"hosts": 0, "images": 0,
                                    "fixable": 0, "compatible": 0,
                                    "refused": 0, "errors": 0,
                                    "domains-to-fix": 0}}
    total = out["summary"]
    for host, data in sorted((hosts or {}).items()):
        data = data or {}
        scan = data.get("scan") or {}
        summary = rep.member(scan, "summary") or {}
        entry = {"summary": summary,
                 "fixable": rep.fixable(scan),
                 "refused": [f for f in rep.failures(scan)
                             if f["status"] == "refused"],
                 "errors": [f for f in rep.failures(scan)
                            if f["status"] != "refused"],
                 "domains-to-fix": [p["domain"] for p in
                                    data.get("plan") or []],
                 "scan": scan}
        for key in ("result", "journal"):
            if data.get(key) is not None:
                entry[key] = data[key]
        out["hosts"][host] = entry
        total["hosts"] += 1
        total["images"] += rep.member(summary, "images", 0) or 0
        for key in ("fixable", "compatible", "refused", "errors"):
            total[key] += rep.member(summary, key, 0) or 0
        total["domains-to-fix"] += len(entry["domains-to-fix"])
    return out


class FilterModule:
    def filters(self):
        return {"fix_plan": fix_plan, "scan_paths": scan_paths,
                "images_of": images_of, "images_to_write": images_to_write,
                "domains_using": domains_using,
                "fleet_report": fleet_report}
