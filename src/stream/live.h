/*
 * Reading a migration stream as it flows: from a pipe or a socket, once,
 * forward only, in bounded memory (what `migrate "exec:..."`, `-incoming
 * "exec:..."` and a relay between two QEMUs see).
 *
 * The batch parser (stream.h) wants random access: it reads the tail
 * first, resynchronises past unknown devices by parsing on to EOF, and
 * keeps a copy of the stream's device state. Here the stream is cut in
 * three, each read the way it can be:
 *
 *   head   the file header, a CONFIGURATION record and the START records
 *          of the live sections ("ram" with its RAM block list, "block"),
 *          up to the first RAM page record: parsed by the batch parser
 *          from memory (it is small: the block list, a few KiB);
 *   pages  the live sections' records (PART/END, and the rest of a START
 *          that carries pages, as qemu-kvm <= 1.1 wrote it): decoded
 *          record by record, page by page, nothing kept;
 *   tail   everything from the first other record (the device sections,
 *          EOF, the VM description) to the end: kept in memory (a few
 *          hundred KiB; at most VMS_LIVE_TAIL_MAX) and handed over whole.
 *
 * Each call to vms_live_next() returns one event with its bytes exactly as
 * they came, so that a caller that changes nothing writes the input back.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_LIVE_H
#define VMS_LIVE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream.h"

G_BEGIN_DECLS

/* ---- a buffered forward-only byte channel ------------------------------ */

/* Read up to len bytes; 0 at the end of the input; -1 with errp set. */
typedef gssize (*VmsChannelReadFn)(void *opaque, void *buf, size_t len,
                                   GError **errp);

typedef struct VmsChannel VmsChannel;

VmsChannel *vms_channel_new(VmsChannelReadFn read, void *opaque,
                            const char *name);
/* A file descriptor (not closed by the channel). */
VmsChannel *vms_channel_new_fd(int fd, const char *name);
/*
 * len bytes in memory (borrowed: they must outlive the channel), given out
 * at most chunk bytes a read, as a socket's short reads would (0: all).
 */
VmsChannel *vms_channel_new_memory(const void *data, size_t len, size_t chunk,
                                   const char *name);
void vms_channel_free(VmsChannel *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmsChannel, vms_channel_free)
/* Bytes consumed so far (the offset of the next byte in the stream). */
uint64_t vms_channel_offset(const VmsChannel *c);

/* ---- the decoder -----------------------------------------------------------
 */

#define VMS_LIVE_HEAD_MAX ((size_t)64 << 20)
#define VMS_LIVE_TAIL_MAX ((size_t)64 << 20)

typedef enum {
    VMS_LIVE_HEAD,       /* the head: bytes, and `head` parsed */
    VMS_LIVE_RECORD,     /* a PART/END record of a live section begins:
                            its type byte and section id */
    VMS_LIVE_CONTINUE,   /* the START record the head cut goes on (no
                            bytes): its page records follow */
    VMS_LIVE_PAGE,       /* one RAM page record, header and data */
    VMS_LIVE_DATA,       /* one record of a "block" section that is not
                            its end (disk data, progress) */
    VMS_LIVE_RECORD_END, /* the record's EOS word, and its footer */
    VMS_LIVE_TAIL,       /* every byte from the first other record on */
    VMS_LIVE_DONE,
} VmsLiveEventKind;

typedef struct VmsLiveEvent {
    VmsLiveEventKind kind;
    uint64_t offset;     /* of the first byte, in the input stream */
    const uint8_t *data; /* the bytes; valid until the next call */
    size_t len;
    /* RECORD, CONTINUE, PAGE, DATA, RECORD_END: the live section */
    VmsRecordType type; /* START (continued), PART or END */
    uint32_t section_id;
    VmsSectionKind section_kind;
    guint start_index; /* its START in head->sections */
    /* PAGE: block is an index into head->ram_blocks; offset = the be64 */
    VmsPage page;
    const uint8_t *page_data; /* the 4096 bytes (PAGE) or the fill byte */
    /* HEAD */
    const VmsStream *head; /* owned by the decoder */
    bool head_open;     /* the head ends inside its last record, a START "ram"
                           that carries pages (CONTINUE events follow) */
    bool footers_known; /* head->has_footers is decided */
    /* TAIL: the bytes (data/len point into it) */
    GBytes *tail;
} VmsLiveEvent;

typedef struct VmsLive VmsLive;

VmsLive *vms_live_new(VmsChannel *in, const VmsParseOptions *opts);
void vms_live_free(VmsLive *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmsLive, vms_live_free)
/*
 * The next event (HEAD first, TAIL last, then DONE). Errors name the
 * offset in the stream: a malformed record, a record kind that cannot be
 * read forward only (an unknown live section, XBZRLE or compressed
 * pages), a head or tail larger than the limits, the input ending early.
 */
bool vms_live_next(VmsLive *l, VmsLiveEvent *ev, GError **errp);
/* Does the stream put a footer after every section? (after the head's
 * first complete section, or the first EOS of an open head) */
bool vms_live_has_footers(const VmsLive *l);

G_END_DECLS

#endif
