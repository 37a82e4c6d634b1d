/*
 * The report of inspect (docs/json.md, "inspect"): per image qemu-img
 * info's object, with its names where the facts are the same, and
 * qsnapfix's own facts: the header, each snapshot's table entry, its
 * record and where its VM state lives; for a libvirt save image its
 * header, its domain and its stream ("inspect-save").
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "report.h"

static void report_format_specific(QjValue *o, const Qcow2Header *h)
{
    QjValue *specific = qj_set_object(o, "format-specific");
    QjValue *data;

    qj_set_str(specific, "type", "qcow2");
    data = qj_set_object(specific, "data");
    qj_set_str(data, "compat", app_qcow2_compat(h));
    qj_set_str(data, "compression-type", app_qcow2_compression(h));
    if (h->version >= 3) {
        /* qemu-img reports these for version 3 images only. */
        qj_set_bool(data, "lazy-refcounts",
                    h->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS);
    }
    qj_set_int(data, "refcount-bits", h->refcount_bits);
    if (h->version >= 3) {
        qj_set_bool(data, "corrupt",
                    h->incompatible_features & QCOW2_INCOMPAT_CORRUPT);
        qj_set_bool(data, "extended-l2", h->extended_l2);
    }
    if (h->data_file) {
        qj_set_str(data, "data-file", h->data_file);
        qj_set_bool(data, "data-file-raw",
                    h->autoclear_features & QCOW2_AUTOCLEAR_DATA_RAW);
    }
    qj_set_bool(data, "encrypted", h->crypt_method != 0);
}

static void report_header(QjValue *o, const Qcow2Image *img)
{
    const Qcow2Header *h = qcow2_header(img);
    const uint32_t *unknown;
    guint n_unknown = qcow2_unknown_extensions(img, &unknown);
    QjValue *header = qj_set_object(o, "header");
    QjValue *extensions;

    qj_set_int(header, "version", h->version);
    qj_set_int(header, "header-length", h->header_length);
    qj_set_uint(header, "incompatible-features", h->incompatible_features);
    qj_set_uint(header, "compatible-features", h->compatible_features);
    qj_set_uint(header, "autoclear-features", h->autoclear_features);
    qj_set_uint(header, "l1-table-offset", h->l1_table_offset);
    qj_set_int(header, "l1-size", h->l1_size);
    qj_set_uint(header, "refcount-table-offset", h->refcount_table_offset);
    qj_set_int(header, "refcount-table-clusters", h->refcount_table_clusters);
    qj_set_uint(header, "snapshots-offset", h->snapshots_offset);
    qj_set_int(header, "nb-snapshots", h->nb_snapshots);
    qj_set_int(header, "encryption-method", h->crypt_method);
    qj_set_int(header, "bitmaps", h->nb_bitmaps);
    extensions = qj_set_array(header, "unknown-extensions");
    for (guint i = 0; i < n_unknown; i++) {
        char type[16];
        g_snprintf(type, sizeof(type), "0x%08" PRIx32, unknown[i]);
        qj_append_str(extensions, type);
    }
}

static void report_layout(QjValue *o, const Qcow2Image *img,
                          const Qcow2Snapshot *sn, const Qcow2VmstateLayout *l)
{
    QjValue *vm_state = qj_set_object(o, "vm-state");

    qj_set_uint(vm_state, "offset", qcow2_vmstate_base(img, sn));
    qj_set_uint(vm_state, "clusters", l->clusters);
    qj_set_uint(vm_state, "normal", l->normal);
    qj_set_uint(vm_state, "compressed", l->compressed);
    qj_set_uint(vm_state, "zero", l->zero);
    qj_set_uint(vm_state, "unallocated", l->unallocated);
    qj_set_uint(vm_state, "past-l1", l->past_l1);
    qj_set_uint(vm_state, "shared", l->shared);
    qj_set_uint(vm_state, "l2-tables", l->l2_tables);
    qj_set_uint(vm_state, "l2-shared", l->l2_shared);
    qj_set_uint(vm_state, "first-host-offset", l->first_host_offset);
}

static void report_snapshot(QjValue *snapshots, const AppImageFacts *r, guint i)
{
    const Qcow2Snapshot *sn = qcow2_snapshot_get(r->img, i);
    QjValue *o = qj_append_object(snapshots);
    AppRecord record;

    qj_set_str(o, "id", sn->id);
    qj_set_str(o, "name", sn->name);
    /* qemu-img info's fields print as QAPI's int: signed 64-bit (an
     * impossible size of 2^64 - 1 reads -1 in both) */
    qj_set_int(o, "vm-state-size", (int64_t)sn->vm_state_size);
    qj_set_int(o, "date-sec", sn->date_sec);
    qj_set_int(o, "date-nsec", sn->date_nsec);
    qj_set_int(o, "vm-clock-sec", (int64_t)(sn->vm_clock_nsec / 1000000000));
    qj_set_int(o, "vm-clock-nsec", (int64_t)(sn->vm_clock_nsec % 1000000000));
    if (sn->icount != -1) {
        qj_set_int(o, "icount", sn->icount);
    }
    qj_set_uint(o, "disk-size", sn->disk_size);
    qj_set_uint(o, "l1-table-offset", sn->l1_table_offset);
    qj_set_int(o, "l1-size", sn->l1_size);
    qj_set_int(o, "extra-data-size", sn->extra_data_size);
    qj_set_int(o, "vm-state-size-32", sn->vm_state_size32);
    qj_set_uint(o, "table-offset", sn->table_offset);
    qj_set_bool(o, "has-vm-state", sn->vm_state_size != 0);
    if (app_record_read(sn, &record) != APP_RECORD_NONE) {
        app_report_record(o, &record);
        app_record_clear(&record);
    }
    if (r->layouts && sn->vm_state_size && !sn->error) {
        report_layout(o, r->img, sn, &r->layouts[i]);
    }
    if (sn->error) { /* this entry only: the others are fine */
        qj_set_str(o, "error", sn->error);
    }
}

QjValue *app_report_image(const AppImageFacts *r)
{
    QjValue *o = app_report_new();

    qj_set_str(o, "filename", r->path);
    qj_set_str(o, "format", "qcow2");
    if (r->img) {
        const Qcow2Header *h = qcow2_header(r->img);
        QjValue *snapshots;

        qj_set_int(o, "virtual-size", (int64_t)h->size); /* as qemu-img */
        qj_set_int(o, "cluster-size", (int64_t)h->cluster_size);
        qj_set_uint(o, "file-size", h->file_size);
        qj_set_bool(o, "dirty-flag",
                    h->incompatible_features & QCOW2_INCOMPAT_DIRTY);
        if (h->backing_file) {
            qj_set_str(o, "backing-filename", h->backing_file);
        }
        if (h->backing_format) {
            qj_set_str(o, "backing-filename-format", h->backing_format);
        }
        report_format_specific(o, h);
        report_header(o, r->img);
        snapshots = qj_set_array(o, "snapshots");
        for (guint i = 0; i < qcow2_snapshot_count(r->img); i++) {
            report_snapshot(snapshots, r, i);
        }
    }
    if (r->err) {
        app_report_error(o, r->err->message, app_exit_code(r->err));
    }
    return o;
}

QjValue *app_report_save(const AppSaveFacts *f)
{
    QjValue *o = app_report_new();

    qj_set_str(o, "filename", f->path);
    qj_set_str(o, "format", "libvirt-save");
    if (f->img) {
        const LvSaveHeader *h = &f->img->header;
        QjValue *header, *domain;

        qj_set_uint(o, "file-size", f->file_size);
        header = qj_set_object(o, "header");
        qj_set_int(header, "version", h->version);
        qj_set_str(header, "compression",
                   lvsave_format_name(lvsave_stream_format(h)));
        qj_set_bool(header, "was-running", h->was_running);
        qj_set_int(header, "data-length", h->data_len);
        qj_set_uint(header, "stream-offset", f->stream_offset);
        qj_set_bool(header, "big-endian", h->big_endian);
        qj_set_bool(header, "save-cookie", f->img->cookie != NULL);
        domain = qj_set_object(o, "domain");
        qj_set_str(domain, "name", f->domain);
        qj_set_str(domain, "uuid", f->uuid);
        qj_set_str(domain, "machine", f->machine);
        qj_set_str(domain, "emulator", f->emulator);
        qj_set_bool(domain, "emulator-exists", f->emulator_exists);
        qj_set_str(domain, "xml", f->img->xml);
        qj_set_uint(o, "vm-state-size", f->stream_size);
        app_report_writer(o, f->writer);
        if (f->record.kind != APP_RECORD_NONE) {
            app_report_record(o, &f->record);
        }
        qj_set_str(o, "original-of", f->original_of);
    }
    if (f->err) {
        app_report_error(o, f->err->message, app_exit_code(f->err));
    }
    return o;
}
