/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "source_qcow2.h"

typedef struct Qcow2SourceData {
    Qcow2Image *img;
    const Qcow2Snapshot *sn;
} Qcow2SourceData;

static bool qcow2_source_read(VmsSource *src, uint64_t offset, void *buf,
                              size_t len, GError **errp)
{
    Qcow2SourceData *d = src->opaque;
    return qcow2_read_vmstate(d->img, d->sn, offset, buf, len, errp);
}

static void qcow2_source_close(VmsSource *src)
{
    g_free(src->opaque);
}

static const VmsSourceOps qcow2_source_ops = {
    .read = qcow2_source_read,
    .close = qcow2_source_close,
};

VmsSource *qsnapfix_source_qcow2(Qcow2Image *img, const Qcow2Snapshot *sn,
                                 GError **errp)
{
    Qcow2SourceData *d;
    g_autofree char *name = NULL;
    VmsSource *src;

    if (!sn->vm_state_size) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                    "%s: snapshot %s \"%s\" has no VM state (disk-only "
                    "snapshot)",
                    qcow2_name(img), sn->id, sn->name);
        return NULL;
    }
    d = g_new0(Qcow2SourceData, 1);
    d->img = img;
    d->sn = sn;
    name = g_strdup_printf("%s: snapshot %s \"%s\"", qcow2_name(img), sn->id,
                           sn->name);
    src = vms_source_new(&qcow2_source_ops, d, sn->vm_state_size, name);
    return src;
}
