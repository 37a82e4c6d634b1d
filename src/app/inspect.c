/*
 * inspect's reading (inspect.h): metadata only for an image; one stream
 * parsed for --snapshot / --stream.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <unistd.h>

#include "inspect.h"
#include "libvirt/domain.h"
#include "io.h"

void app_image_facts(AppImageFacts *f, const char *path, bool layouts)
{
    guint n;

    memset(f, 0, sizeof(*f));
    f->path = path;
    f->img = qcow2_open(path, QCOW2_OPEN_READ_ONLY, &f->err);
    if (!f->img || !layouts) {
        return;
    }
    n = qcow2_snapshot_count(f->img);
    f->layouts = g_new0(Qcow2VmstateLayout, MAX(n, 1));
    for (guint i = 0; i < n && !f->err; i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(f->img, i);
        if (sn->vm_state_size && !sn->error &&
            !qcow2_vmstate_layout(f->img, sn, &f->layouts[i], &f->err)) {
            break;
        }
    }
}

void app_image_facts_clear(AppImageFacts *f)
{
    qcow2_close(f->img);
    g_free(f->layouts);
    g_clear_error(&f->err);
    memset(f, 0, sizeof(*f));
}

void app_save_facts(AppSaveFacts *f, const char *path)
{
    AppStreamFacts s;
    g_autoptr(LvDomain) d = NULL;

    memset(f, 0, sizeof(*f));
    f->path = path;
    f->img =
        app_savefile_header(path, &f->stream_offset, &f->file_size, &f->err);
    if (!f->img) {
        return;
    }
    d = lvdom_parse(f->img->xml, NULL);
    if (d) {
        f->domain = lvdom_name(d);
        f->uuid = lvdom_uuid(d);
        f->machine = lvdom_machine(d);
        f->emulator = lvdom_emulator(d);
        f->emulator_exists = f->emulator && access(f->emulator, X_OK) == 0;
    }
    app_savefile_record(path, &f->record);
    app_savefile_is_original(path, &f->original_of);
    if (app_stream_facts(&s, NULL, NULL, path, true, &f->err)) {
        f->stream_size = s.s->size;
        f->writer = g_steal_pointer(&s.writer);
        app_stream_facts_clear(&s);
    }
}

void app_save_facts_clear(AppSaveFacts *f)
{
    lvsave_image_free(f->img);
    g_free(f->domain);
    g_free(f->uuid);
    g_free(f->machine);
    g_free(f->emulator);
    vms_writer_info_free(f->writer);
    app_record_clear(&f->record);
    g_free(f->original_of);
    g_clear_error(&f->err);
    memset(f, 0, sizeof(*f));
}

bool app_stream_facts(AppStreamFacts *f, const char *image,
                      const char *snapshot, const char *stream, bool tail,
                      GError **errp)
{
    VmsParseOptions popts = {.flags = tail ? VMS_PARSE_TAIL : 0};
    g_autoptr(AppSource) source = NULL;

    memset(f, 0, sizeof(*f));
    if (stream) {
        source = strcmp(stream, "-") && app_is_savefile(stream)
                     ? app_source_savefile(stream)
                     : app_source_file(stream);
    } else {
        const Qcow2Snapshot *sn;
        f->img = qcow2_open(image, QCOW2_OPEN_READ_ONLY, errp);
        sn = f->img ? qcow2_snapshot_find(f->img, snapshot, errp) : NULL;
        source = sn ? app_source_qcow2(f->img, sn->index) : NULL;
    }
    f->src = source ? app_source_open(source, errp) : NULL;
    f->s = f->src ? vms_stream_parse(f->src, &popts, errp) : NULL;
    if (!f->s) {
        app_stream_facts_clear(f);
        return false;
    }
    f->writer = vms_fingerprint(f->s);
    return true;
}

void app_stream_facts_clear(AppStreamFacts *f)
{
    vms_writer_info_free(f->writer);
    vms_stream_free(f->s);
    vms_source_free(f->src);
    qcow2_close(f->img);
    memset(f, 0, sizeof(*f));
}

const char *app_qcow2_compat(const Qcow2Header *h)
{
    return h->version == 2 ? "0.10" : "1.1";
}

const char *app_qcow2_compression(const Qcow2Header *h)
{
    return h->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib";
}

bool app_section_matches(const VmsSection *sec, const char *name)
{
    return sec->idstr && (!strcmp(sec->idstr, name) ||
                          !strcmp(vms_section_vmsd_name(sec), name));
}
