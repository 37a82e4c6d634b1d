# SPDX-License-Identifier: GPL-2.0-or-later
"""Reading qsnapfix's JSON reports, shared by the collection's modules and
its filter.

qsnapfix's reports name their members as qemu-img does (kebab-case:
`exit-code`, `fix-blocked`); those of versions before 0.1.0 spell some in
snake_case (`exit_code`, `fix_blocked`). Everything here asks for a member
by its kebab-case name and accepts either spelling, so the collection works
with both generations of the program.
"""
import json

# Exit codes that are a report, not a failure, per command (qsnapfix(1),
# EXIT STATUS): scan's 17 (something is fixable) and 4 (something would be
# refused) describe the store; "nothing to do" is 0 (versions before 0.1.0
# gave 3 for it, still accepted).
OK_CODES = {
    "scan": (0, 4, 17),
    "fix": (0, 3),
    "undo": (0,),
    "drop-originals": (0,),
    "prove": (0, 20),  # 20: not proven here (no such QEMU): a warning
}


def member(obj, name, default=None):
    """obj[name] in kebab-case or snake_case; default when obj has neither
    (or is not a dict)."""
    if not isinstance(obj, dict):
        return default
    if name in obj:
        return obj[name]
    return obj.get(name.replace("-", "_"), default)


def parse_report(text):
    """The report on standard output: one JSON document, or JSON lines
    (`--output=jsonl`: one image a line, the totals last), which come back
    as one document {images, skipped, ...totals}. None when stdout holds no
    JSON (the program failed before it could say anything)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, dict) else {"value": doc}
    except ValueError:
        pass
    doc = {"images": [], "skipped": []}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if "summary" in obj:
            doc.update(obj)
        elif "reason" in obj and "path" in obj and "status" not in obj:
            doc["skipped"].append(obj)
        else:
            doc["images"].append(obj)
    return doc


def image_path(image):
    """The path of one image object (scan: `path`, fix/undo: `image`)."""
    return member(image, "image") or member(image, "path")


def error_of(report, stderr, rc):
    """The tool's error object, if it printed one ({message, exit-code}),
    else one made of its last line on standard error and its exit code."""
    err = member(report, "error")
    if isinstance(err, dict):
        return err
    lines = [x for x in (stderr or "").splitlines() if x.strip()]
    return {"message": lines[-1] if lines else "no message",
            "exit-code": rc}


def failures(report):
    """[{image, snapshot, status, message, exit-code}] for every image or
    snapshot of a report that failed, was refused or skipped."""
    out = []
    for image in member(report, "images") or []:
        path = image_path(image)
        err = member(image, "error")
        if isinstance(err, str):  # undo and drop-originals: the message
            err = {"message": err}
        if err is not None or member(image, "status") in (
                "error", "failed", "skipped"):
            out.append({"image": path, "snapshot": None,
                        "status": member(image, "status") or "error",
                        "message": member(err, "message"),
                        "exit-code": member(err, "exit-code",
                                            member(image, "exit-code"))})
        for snap in member(image, "snapshots") or []:
            status = member(snap, "status") or member(snap, "verdict")
            if status in ("refused", "error"):
                out.append({"image": path, "snapshot": member(snap, "name"),
                            "status": status,
                            "message": member(snap, "reason") or
                            member(member(snap, "error"), "message"),
                            "exit-code": member(snap, "exit-code")})
    return out


def changed(command, report, check_mode=False):
    """Whether the run wrote anything (or, in check mode, would have):
    fix: a snapshot `fixed` that an earlier, interrupted run had not
    already committed (`resumed`, `from-journal`); undo, drop-originals: a
    snapshot `done`. scan never changes anything. A dry run's report says
    what the real run would do, so check mode reports that."""
    if command == "scan" or not isinstance(report, dict):
        return False
    for image in member(report, "images") or []:
        if member(image, "from-journal"):
            continue
        for snap in member(image, "snapshots") or []:
            status = member(snap, "status")
            if command == "fix" and status == "fixed" and \
                    not member(snap, "resumed") and \
                    not member(snap, "from-journal"):
                return True
            if command != "fix" and status == "done":
                return True
    # a one-image fix report (not a batch): `snapshots` at the top
    if command == "fix":
        return any(member(s, "status") == "fixed"
                   for s in member(report, "snapshots") or [])
    return False


def recipes(report):
    """[{image, snapshot, id, status, recipe}] for every snapshot of a fix
    or scan report that carries a resume recipe."""
    out = []
    images = member(report, "images")
    if images is None and isinstance(report, dict) and "snapshots" in report:
        images = [report]  # a one-image fix report
    for image in images or []:
        for snap in member(image, "snapshots") or []:
            recipe = member(snap, "recipe")
            if isinstance(recipe, dict):
                out.append({"image": image_path(image),
                            "snapshot": member(snap, "name"),
                            "id": member(snap, "id"),
                            "status": member(snap, "status") or
                            member(snap, "verdict"),
                            "recipe": recipe})
    return out


def fixable(report):
    """[{image, snapshot, id}] for every snapshot a scan report calls
    fixable."""
    return [{"image": image_path(image), "snapshot": member(snap, "name"),
             "id": member(snap, "id")}
            for image in member(report, "images") or []
            for snap in member(image, "snapshots") or []
            if member(snap, "verdict") == "fixable"]
