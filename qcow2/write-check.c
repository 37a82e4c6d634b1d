/*
 * What must be true of an image before the splice writes to it, and the
 * one header change the qcow2 specification asks of any writer: clearing
 * autoclear feature bits it does not understand.
 *
 * Each refusal names the bit and, where one exists, the qemu-img command
 * that clears it. A dry run checks the same things, so that it predicts
 * the refusal instead of a plan that could not be carried out.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "write-internal.h"

/* Autoclear bits whose meaning survives our writes. */
#define KNOWN_AUTOCLEAR (QCOW2_AUTOCLEAR_BITMAPS | QCOW2_AUTOCLEAR_DATA_RAW)

bool qcow2_check_needs_repair(Qcow2Image *img, GError **errp)
{
    const Qcow2Header *h = &img->header;

    if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY) {
        qcow2_error(errp, img, QCOW2_ERROR_NEEDS_REPAIR, "header",
                    QCOW2_HDR(incompatible_features),
                    "dirty bit (incompatible bit 0) set: QEMU stopped "
                    "without writing back its lazy refcounts, so they "
                    "cannot be trusted; run: qemu-img check -r all %s",
                    img->name);
        return false;
    }
    if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT) {
        qcow2_error(errp, img, QCOW2_ERROR_NEEDS_REPAIR, "header",
                    QCOW2_HDR(incompatible_features),
                    "corrupt bit (incompatible bit 1) set: QEMU found "
                    "inconsistent metadata; run: qemu-img check -r all %s",
                    img->name);
        return false;
    }
    return true;
}

bool qcow2_check_may_write(Qcow2Image *img, bool dry_run, const char *what,
                           GError **errp)
{
    const Qcow2Header *h = &img->header;
    uint64_t unknown = h->incompatible_features & ~QCOW2_KNOWN_INCOMPAT;

    if (!dry_run && !(img->flags & QCOW2_OPEN_WRITABLE)) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "opened read-only: cannot %s", what);
        return false;
    }
    if (!qcow2_check_needs_repair(img, errp)) {
        return false;
    }
    if (unknown) {
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, "header",
                    QCOW2_HDR(incompatible_features),
                    "unknown incompatible feature bits 0x%" PRIx64
                    ": cannot write safely",
                    unknown);
        return false;
    }
    return true;
}

bool qcow2_check_writable(Qcow2Image *img, const Qcow2Snapshot *snap,
                          bool dry_run, GError **errp)
{
    const Qcow2Header *h = &img->header;
    g_autofree char *what = g_strdup_printf("rewrite snapshot %s", snap->id);

    if (!qcow2_check_may_write(img, dry_run, what, errp)) {
        return false;
    }
    if (h->crypt_method) {
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, "header",
                    QCOW2_HDR(crypt_method),
                    "encrypted image (%s): writing encrypted VM state is "
                    "not supported",
                    h->crypt_method == 1 ? "AES" : "LUKS");
        return false;
    }
    if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE) {
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, "header",
                    QCOW2_HDR(incompatible_features),
                    "external data file (incompatible bit 2): QEMU keeps no "
                    "internal snapshots in such images, so there is no VM "
                    "state to rewrite");
        return false;
    }
    return true;
}

bool qcow2_clear_unknown_autoclear(Qcow2Image *img, Qcow2WriteIO *w,
                                   GError **errp)
{
    Qcow2Header *h = &img->header;
    uint64_t keep = h->autoclear_features & KNOWN_AUTOCLEAR;
    uint8_t b[sizeof(Qcow2DiskHeader)];

    if (h->version < 3 || keep == h->autoclear_features) {
        return true;
    }
    /*
     * The bits say "this extra data is consistent with the image"; a
     * writer that does not know the data cannot keep that promise.
     */
    QCOW2_PUT(b, Qcow2DiskHeader, autoclear_features, keep);
    if (!qcow2_wio_write(w, b + QCOW2_HDR(autoclear_features),
                         QCOW2_FIELD_SIZE(Qcow2DiskHeader, autoclear_features),
                         QCOW2_HDR(autoclear_features), errp) ||
        !qcow2_wio_flush(w, errp)) {
        return false;
    }
    if (!w->dry_run) {
        h->autoclear_features = keep;
    }
    return true;
}
