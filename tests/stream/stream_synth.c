/*
 * stream-synth: write a savevm-shaped stream of a guest with N MiB of RAM
 * whose every page is a full (incompressible) page, with the device
 * sections of a real stream. For scripts/bench-stream: a big stream to
 * parse, made by the project's own builder.
 *
 *   stream-synth OUT RAM_MIB DEVICES_FROM.mig
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include "stream/stream.h"
#include "stream/writer.h"

static bool file_sink(void *opaque, const void *data, size_t len, GError **errp)
{
    if (fwrite(data, 1, len, opaque) != len) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_IO, "short write");
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsSource) src = NULL;
    g_autoptr(VmsStream) dev = NULL;
    uint64_t ram;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    uint8_t page[VMS_PAGE_SIZE];
    GArray *blocks = g_array_new(FALSE, FALSE, sizeof(VmsBlockSpec));
    FILE *out;
    VmsBuilder *b;

    if (argc != 4) {
        fprintf(stderr, "usage: stream-synth OUT RAM_MIB DEVICES_FROM\n");
        return 2;
    }
    ram = g_ascii_strtoull(argv[2], NULL, 10) << 20;
    src = vms_source_open_file(argv[3], &err);
    dev = src ? vms_stream_parse(src, NULL, &err) : NULL;
    if (!dev) {
        fprintf(stderr, "stream-synth: %s\n", err->message);
        return 1;
    }
    for (guint i = 0; i < dev->ram_blocks->len; i++) {
        const VmsRamBlock *rb = vms_stream_block(dev, i);
        VmsBlockSpec spec = {rb->id,
                             !strcmp(rb->id, "pc.ram") ? ram : rb->length};
        g_array_append_val(blocks, spec);
    }
    out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    b = vms_builder_new(file_sink, out);
    vms_builder_header(b);
    vms_builder_section(b, VMS_SECTION_START, 2, "ram", 0, 4);
    vms_builder_ram_mem_size(b, (VmsBlockSpec *)(void *)blocks->data,
                             blocks->len);
    vms_builder_ram_eos(b);
    vms_builder_section(b, VMS_SECTION_PART, 2, NULL, 0, 0);
    for (guint i = 0; i < blocks->len; i++) {
        const VmsBlockSpec *spec = &g_array_index(blocks, VmsBlockSpec, i);
        for (uint64_t a = 0; a < spec->length; a += VMS_PAGE_SIZE) {
            if (strcmp(spec->id, "pc.ram")) {
                vms_builder_ram_fill(b, spec->id, a, 0);
                continue;
            }
            for (size_t k = 0; k < sizeof(page); k += 8) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                memcpy(page + k, &x, 8);
            }
            vms_builder_ram_page(b, spec->id, a, page);
        }
    }
    vms_builder_ram_eos(b);
    vms_builder_section(b, VMS_SECTION_END, 2, NULL, 0, 0);
    vms_builder_ram_eos(b);
    for (guint i = 0; i < dev->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(dev, i);
        gsize len = 0;
        const void *p;
        if (sec->type != VMS_SECTION_FULL) {
            continue;
        }
        p = g_bytes_get_data(sec->payload, &len);
        vms_builder_section(b, sec->type, sec->section_id, sec->idstr,
                            sec->instance_id, sec->version_id);
        vms_builder_bytes(b, p, len);
    }
    vms_builder_eof(b);
    if (!vms_builder_finish(b, &err) || fclose(out)) {
        fprintf(stderr, "stream-synth: %s\n", err ? err->message : "close");
        return 1;
    }
    vms_builder_free(b);
    g_array_free(blocks, TRUE);
    return 0;
}
