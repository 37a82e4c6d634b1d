# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the `qsnapfix scan` tests: run scan and `fix --dry-run`,
compare them, and prove that a tree of files was not written."""
import hashlib
import json
import os

from qsnapfix_tests.testlib import BIN, Failure, check, check_eq, run

# scan's exit codes (README "Exit codes")
OK, REFUSED, PARTIAL, NEEDS_FIX = 0, 4, 15, 17
FIX_STATUS_TO_VERDICT = {"fixed": "fixable", "compatible": "compatible",
                         "refused": "refused", "error": "error"}


def scan(*args, ok=(OK, REFUSED, PARTIAL, NEEDS_FIX)):
    """qsnapfix scan ARGS --output=json -> (exit code, report, stderr)."""
    p = run([BIN, "scan", *map(str, args), "--output=json"], ok_codes=ok)
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        raise Failure(f"scan {args}: no JSON ({e}): {p.stdout[-500:]!r} "
                      f"{p.stderr[-500:]!r}")
    check_eq(doc["exit-code"], p.returncode, f"scan {args}: exit_code field")
    return p.returncode, doc, p.stderr


def fix_dry_run(image, *args):
    """qsnapfix fix IMAGE --all --dry-run -> (exit code, report or None)."""
    p = run([BIN, "fix", image, "--all", "--dry-run", *args,
             "--output=json"], ok_codes=None)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        return p.returncode, None


def images_by_path(doc):
    return {i["path"]: i for i in doc["images"]}


def snapshots(doc):
    """{(image path, snapshot name): snapshot report} of scanned images."""
    out = {}
    for im in doc["images"]:
        for s in im.get("snapshots", []):
            out[(im["path"], s["name"])] = s
    return out


def rules(s):
    return [(r["id"], r["action"]) for r in s.get("rules", [])]


def writer(s):
    w = s.get("writer")
    return w and (w["program"], w["version"], w["accel"])


def recipe_line(s):
    return s.get("recipe") and s["recipe"]["command-line"]


def estimate_close(estimated, exact):
    """An estimated cluster count is within 2% (or 2 clusters) of the
    splice's own count."""
    return abs(estimated - exact) <= max(2, exact // 50)


def compare_modes(tail, full):
    """The default scan and --full judge every snapshot alike: verdict,
    rule ids and actions, writer, recipe; the write plan is the same when
    exact, close when estimated. Returns the number of snapshots checked."""
    a, b = snapshots(tail), snapshots(full)
    check_eq(sorted(a), sorted(b), "snapshots in both scans")
    for key, s in a.items():
        f = b[key]
        what = f"{key[0]} {key[1]}"
        check_eq(s["verdict"], f["verdict"], f"{what}: verdict")
        check_eq(rules(s), rules(f), f"{what}: rule ids")
        check_eq(writer(s), writer(f), f"{what}: writer")
        check_eq(recipe_line(s), recipe_line(f), f"{what}: recipe")
        if s["verdict"] == "fixable":
            check(f["fix"]["exact"] or s["fix"]["exact"] is False,
                  f"{what}: --full plans exactly unless the fix is blocked")
            if s["fix"]["exact"]:
                check_eq(s["fix"], f["fix"], f"{what}: exact write plan")
            else:
                check(estimate_close(s["fix"]["clusters-written"],
                                     f["fix"]["clusters-written"]),
                      f"{what}: estimated {s['fix']['clusters-written']} "
                      f"clusters, exact {f['fix']['clusters-written']}")
        if s["verdict"] != "disk-only":
            check_eq(f["analysis"]["path"], "full", f"{what}: --full path")
    return len(a)


def compare_with_fix(full, images=None, fix_args=()):
    """--full says what `fix --all --dry-run` says, image by image: the
    status, the rules with their evidence, the edits, the write plan and
    the recipe. An image a fix cannot write now (dirty, ...) is fixable
    for scan, with the code fix exits with in fix_blocked. Returns the
    number of snapshots compared."""
    n = 0
    for im in full["images"]:
        if im["status"] != "scanned" or (images and im["path"] not in images):
            continue
        if not any(s["vm-state-size"] for s in im["snapshots"]):
            continue
        rc, rep = fix_dry_run(im["path"], *fix_args)
        check(rep is not None, f"{im['path']}: fix --dry-run exit {rc}, "
                               f"no report")
        theirs = {s["name"]: s for s in rep["snapshots"]}
        ours = [s for s in im["snapshots"] if s["verdict"] != "disk-only"]
        check_eq(sorted(theirs), sorted(s["name"] for s in ours),
                 f"{im['path']}: snapshots fix looked at")
        for s in ours:
            t = theirs[s["name"]]
            what = f"{im['path']} {s['name']}"
            blocked = im["fix-blocked"]
            if (t["status"] == "error" and blocked and
                    t["exit-code"] == blocked["exit-code"]):
                check_eq(s["verdict"], "fixable", f"{what}: blocked verdict")
            else:
                check_eq(s["verdict"], FIX_STATUS_TO_VERDICT[t["status"]],
                         f"{what}: verdict vs fix status")
            check_eq([(r["id"], r["action"], r["subject"], r["evidence"])
                      for r in s["rules"]],
                     [(r["id"], r["action"], r["subject"], r["evidence"])
                      for r in t["rules"]], f"{what}: rules")
            if s["verdict"] == "error":
                check_eq(s["exit-code"], t["exit-code"], f"{what}: error code")
            if t["status"] == "fixed":
                check_eq(s["fix"]["edits"], len(t["edits"]), f"{what}: edits")
                check_eq(s["fix"]["vm-state-size-after"],
                         t["vm-state-size"]["new"], f"{what}: new size")
                for k in ("clusters-written", "clusters-shared",
                          "metadata-clusters", "bytes-written"):
                    check_eq(s["fix"][k], t["write"][k], f"{what}: {k}")
            if t["recipe"] or s["verdict"] != "fixable":  # (blocked: none)
                check_eq(s.get("recipe"), t["recipe"], f"{what}: recipe")
            check_eq(s.get("writer"), t["writer"], f"{what}: writer")
            n += 1
    return n


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def tree_fingerprint(root):
    """{path: what it is}: symlinks by target, files by sha256, mtime and
    size, directories by mtime (a file created or removed changes it)."""
    out = {}
    for d, dirs, files in os.walk(root):
        st = os.lstat(d)
        out[d] = ("dir", st.st_mtime_ns)
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            if os.path.islink(p):
                out[p] = ("link", os.readlink(p))
            elif os.path.isfile(p) and st.st_mode & 0o444:
                out[p] = ("file", sha256(p), st.st_mtime_ns, st.st_size)
            elif os.path.isfile(p):
                out[p] = ("unreadable", st.st_mtime_ns, st.st_size)
    return out


def check_unchanged(before, after, what):
    changed = sorted(p for p in set(before) | set(after)
                     if before.get(p) != after.get(p))
    check(not changed, f"{what}: changed: {changed[:5]}")
