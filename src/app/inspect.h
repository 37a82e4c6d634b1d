/*
 * What `inspect` reads: an image's header, snapshots and where their VM
 * state lives; or one migration stream (a snapshot's, or a file's),
 * parsed and fingerprinted.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_INSPECT_H
#define APP_INSPECT_H

#include "libvirt/savefile.h"
#include "record.h"
#include "qcow2.h"
#include "stream/fingerprint.h"
#include "stream/stream.h"

/* Facts gathered about one image. */
typedef struct AppImageFacts {
    const char *path;
    Qcow2Image *img;             /* NULL: could not be opened */
    Qcow2VmstateLayout *layouts; /* per snapshot; NULL without layouts */
    GError *err;                 /* the first failure, if any */
} AppImageFacts;

/* Open path read-only and, with layouts, map every VM state. */
void app_image_facts(AppImageFacts *f, const char *path, bool layouts);
void app_image_facts_clear(AppImageFacts *f);

/* A libvirt save image: its header, its domain, who wrote its stream
 * (read at its tail; a compressed stream is decompressed first). */
typedef struct AppSaveFacts {
    const char *path;
    LvSaveImage *img; /* header, domain XML, cookie; NULL: see err */
    uint64_t stream_offset, file_size;
    uint64_t stream_size; /* decompressed */
    char *domain, *uuid, *machine, *emulator;
    bool emulator_exists;
    VmsWriterInfo *writer; /* NULL: the stream did not parse (err) */
    AppRecord record;      /* a fix's (kind NONE: none) */
    char *original_of;     /* the original kept by a fix of this image */
    GError *err;
} AppSaveFacts;

void app_save_facts(AppSaveFacts *f, const char *path);
void app_save_facts_clear(AppSaveFacts *f);

/* One migration stream, parsed. */
typedef struct AppStreamFacts {
    Qcow2Image *img;
    VmsSource *src; /* src->bytes_read, read_calls: what it took */
    VmsStream *s;
    VmsWriterInfo *writer;
} AppStreamFacts;

/*
 * The stream of image's snapshot (ID or name), or of the file stream
 * ("-": standard input) when image is NULL; tail: read the device
 * sections from the tail.
 */
bool app_stream_facts(AppStreamFacts *f, const char *image,
                      const char *snapshot, const char *stream, bool tail,
                      GError **errp);
void app_stream_facts_clear(AppStreamFacts *f);

/* Format facts named as qemu-img names them: "0.10"/"1.1", "zlib"/"zstd". */
const char *app_qcow2_compat(const Qcow2Header *h);
const char *app_qcow2_compression(const Qcow2Header *h);

/* Does a section match NAME (its idstr or its vmsd name)? */
bool app_section_matches(const VmsSection *sec, const char *name);

#endif
