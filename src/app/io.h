/*
 * Sources and sinks: where a migration stream comes from, and where the
 * translated one goes. The pipeline (pipeline.h) and the judge (judge.h)
 * see only these two small interfaces; the rules never see either, and
 * the commands only pick which ones to construct.
 *
 *   source                           sink
 *   a qcow2 snapshot's VM state      the copy-on-write splice of that
 *                                    snapshot (in place; plans dry runs)
 *   a raw stream file, stdin         a new file written beside the target
 *   bytes in memory                  and renamed into place; stdout
 *
 * A source opens the stream as a VmsSource: random access, because the
 * parser reads the tail of a stream first and the rules read page data
 * (a ROM's bytes) where they need it. It may be opened more than once,
 * and each open sees the container as it is now (after a write, the new
 * stream).
 *
 * A sink takes "the source's stream with this edit list applied"
 * (AppWrite) and makes that its content; it reads the unchanged bytes
 * from AppWrite.old, in order, once. It may plan instead (dry run) and
 * say what it would write (AppWriteStats.have_stats), and it may read
 * back what it wrote, so that the pipeline can verify it.
 *
 * Adding a container, e.g. a libvirt save file (libvirt's header, the
 * domain XML, the stream, maybe compressed):
 *   1. a source whose open() reads the header and returns a VmsSource over
 *      the stream bytes (a compressed stream spooled to an unlinked
 *      temporary file first, as vms_source_open_stdin() spools a pipe);
 *   2. a sink whose write() writes header, domain XML updated from
 *      AppWrite.recipe and the edited stream (compressed again) to a new
 *      file beside the old one, fsyncs and renames it into place (as
 *      app_sink_file() does, io_file.c), keeping the original when asked; and
 *      whose read_back() opens the new file's stream;
 *   3. the commands construct them when they recognise the file (its
 *      magic): nothing in src/translate, the pipeline or the rendering
 *      changes.
 * A stream in flight (translate IN -, relay) does not fit app_run(),
 * which analyses the whole stream before the sink writes: it has its own
 * run beside it (stream.h, src/live), which hands a write function each
 * part of the stream as soon as the rules on the head have decided it,
 * and has no read-back (the receiving QEMU is the verifier).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_IO_H
#define APP_IO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "outcome.h"
#include "record.h"
#include "libvirt/savefile.h"
#include "qcow2.h"
#include "stream/source.h"
#include "translate/translate.h"

/* ---- sources --------------------------------------------------------- */

typedef struct AppSource AppSource;

typedef struct AppSourceOps {
    /* The stream as the container holds it now. */
    VmsSource *(*open)(AppSource *source, GError **errp);
    void (*close)(AppSource *source); /* frees opaque; may be NULL */
} AppSourceOps;

struct AppSource {
    const AppSourceOps *ops;
    char *name; /* for messages */
    void *opaque;
};

AppSource *app_source_new(const AppSourceOps *ops, void *opaque,
                          const char *name);
VmsSource *app_source_open(AppSource *source, GError **errp);
void app_source_free(AppSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppSource, app_source_free)

/* ---- sinks ----------------------------------------------------------- */

typedef struct AppSink AppSink;

/* One write: the old stream with edits applied. */
typedef struct AppWrite {
    VmsSource *old;         /* the bytes between the edits (NULL: in-place
                               sinks that read them themselves) */
    const GArray *edits;    /* TrEdit, sorted, not overlapping */
    const TrRecipe *recipe; /* what the target needs; may be NULL */
    uint64_t new_size;      /* the size the edits give (checked by sinks
                               that count; 0: not checked) */
    bool dry_run;           /* plan: write nothing */
    /* non-zero: stop at the next safe point (a signal handler sets it) */
    const volatile sig_atomic_t *cancel;
    bool keep_original;             /* keep the old content as well */
    const char *keep_original_name; /* NULL: the sink's choice */
    bool want_sha256; /* hash the bytes written (sinks that stream) */
    /* What was done, for sinks that keep a record with the container
     * (the qcow2 snapshot's extra data, record.h); may be NULL. */
    const struct AppRecord *record;
    void (*progress)(uint64_t done, uint64_t total, void *opaque);
    void *progress_opaque;
} AppWrite;

typedef struct AppSinkOps {
    /* Write (or, dry run, plan) w; st says what was (would be) done, also
     * when a check after the write fails. */
    bool (*write)(AppSink *sink, const AppWrite *w, AppWriteStats *st,
                  GError **errp);
    /* The stream as written, for verification; NULL: cannot be read back. */
    VmsSource *(*read_back)(AppSink *sink, GError **errp);
    void (*close)(AppSink *sink); /* frees opaque; may be NULL */
} AppSinkOps;

struct AppSink {
    const AppSinkOps *ops;
    char *name; /* for messages */
    /*
     * The sink rewrites the source's own container: with no edits it
     * already holds the result (a new file must still be written).
     */
    bool in_place;
    /* What a write is made of, for estimates: the qcow2 cluster size
     * (0: bytes). */
    uint64_t write_unit;
    /* Units cannot be shared (qcow2 with 1-bit refcounts): a write
     * writes every unit of the new stream. */
    bool no_sharing;
    /*
     * The file the sink rewrites (in_place) or replaces, for the checks
     * before a write (preflight.h: permission, free space); NULL: none
     * (standard output) or not known. Owned.
     */
    char *path;
    void *opaque;
};

AppSink *app_sink_new(const AppSinkOps *ops, void *opaque, const char *name);
bool app_sink_write(AppSink *sink, const AppWrite *w, AppWriteStats *st,
                    GError **errp);
bool app_sink_can_read_back(const AppSink *sink);
VmsSource *app_sink_read_back(AppSink *sink, GError **errp);
void app_sink_free(AppSink *sink);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppSink, app_sink_free)

/* ---- qcow2 snapshots (io_qcow2.c) ------------------------------------- */

/*
 * The snapshot at this place of img's snapshot table (borrowed: it must
 * outlive them), got again at every open and write: a splice invalidates
 * snapshot handles but keeps every entry at its place, while IDs need not
 * be unique (looking an entry up by its ID again can find another). Named
 * 'IMAGE: snapshot ID "NAME"'. The source fails with QCOW2_ERROR_NOT_FOUND for
 * a snapshot without VM state. The sink splices copy-on-write
 * (qcow2_splice_vmstate()), plans dry runs exactly, keeps the original as
 * "NAME.orig" unless told another name, and checks that the VM state written
 * has the planned size.
 */
AppSource *app_source_qcow2(Qcow2Image *img, guint index);
AppSink *app_sink_qcow2(Qcow2Image *img, guint index);
/*
 * (Its write and its dry run check the whole image first, once: the
 * report is kept and handed to the splice while the image is unchanged,
 * so that a plan followed by the write reads the image's metadata once.)
 */
/* One snapshot's VM state as a byte source (sn must outlive it). */
VmsSource *app_qcow2_vmstate_source(Qcow2Image *img, const Qcow2Snapshot *sn,
                                    GError **errp);

/* ---- files (io_file.c) ------------------------------------------------ */

/* A raw stream file; "-" is standard input (a pipe is spooled). */
AppSource *app_source_file(const char *path);
/* Bytes in memory (small streams, tests). */
AppSource *app_source_bytes(GBytes *bytes, const char *name);
/*
 * A new file at path, complete or not at all: written beside it and
 * renamed into place (sync: fsync'd first). A path that exists and is not
 * a regular file (/dev/null, a FIFO) is written in place instead: renaming
 * over it would replace the device node; a directory is refused.
 */
AppSink *app_sink_file(const char *path, bool sync);
/* Standard output (cannot be read back). */
AppSink *app_sink_stdout(void);
/* A descriptor the caller owns, e.g. a pipe to a QEMU's -incoming fd:0
 * (cannot be read back; the writer blocks SIGPIPE). */
AppSink *app_sink_fd(int fd, const char *name);

/* For sinks that write files: w->old with w->edits applied into fd, in
 * bounded memory; all of buf into fd (path names both in errors). */
bool app_write_edited(int fd, const char *path, const AppWrite *w,
                      GError **errp);
bool app_write_all(int fd, const void *buf, size_t len, const char *path,
                   GError **errp);
/* "PATH: WHAT: strerror(e)" in G_FILE_ERROR. */
void app_file_error(GError **errp, int e, const char *path, const char *what);
/* Has w's caller asked to stop? If so, errp says so (QCOW2_ERROR_CANCELLED,
 * whatever the sink: the exit code of an interruption). */
bool app_write_cancelled(const AppWrite *w, const char *path, GError **errp);

/* ---- libvirt save images (io_savefile.c) ------------------------------ */

/*
 * Is path a libvirt save image (either magic)? Reads 16 bytes; false
 * when it cannot be read (the caller's open then says why).
 */
bool app_is_savefile(const char *path);
/*
 * The migration stream inside a save image (docs/savefile.md): the
 * header and domain XML checked (an unfinished "LibvirtQemudPart" image is
 * refused), a compressed stream decompressed by the program the header
 * names into an unlinked temporary file.
 */
AppSource *app_source_savefile(const char *path);
/* The header and domain XML of the save image at path, and where its
 * stream begins (for scan and inspect). */
LvSaveImage *app_savefile_header(const char *path, uint64_t *stream_offset,
                                 uint64_t *file_size, GError **errp);
/*
 * A new save image at path: the header with the domain XML updated from
 * the write's recipe (its libvirt fragments merged in, and an <emulator>
 * that names no file on this host replaced by emulator, NULL: the
 * qemu-system-x86_64 on PATH), then the stream, compressed again as it
 * was. Written beside path, fsync'd, the original kept as PATH.orig (or
 * AppWrite.keep_original_name) unless !keep_original, renamed into place,
 * the directory fsync'd: a crash leaves the old image or the new one.
 * Not in place: with no edits but a domain to update, it still writes.
 * AppWrite.record goes into the domain's <metadata> (APP_SAVEFILE_NS),
 * with the name the original was kept as.
 * changes (char *, may be NULL) gets what was changed in the domain.
 */
AppSink *app_sink_savefile(const char *path, const char *emulator,
                           GPtrArray *changes);

/* The namespace of the record in a fixed save image's domain XML:
 * <metadata><qsnapfix:record xmlns:qsnapfix=...>JSON</qsnapfix:record>. */
#define APP_SAVEFILE_NS "urn:qsnapfix:record:1"
/* The record of a fix in the save image at path (APP_RECORD_NONE, r
 * cleared, when it has none or cannot be read). */
AppRecordKind app_savefile_record(const char *path, AppRecord *r);
/*
 * Is path the original a fix of a save image kept (PATH.orig, PATH.orig.N
 * whose PATH's record says it was kept as that)? *of: that image's path
 * (may be NULL).
 */
bool app_savefile_is_original(const char *path, char **of);
/* SHA-256 (hex) of the whole file (a save image in a batch's journal). */
char *app_file_sha256(const char *path, GError **errp);
/* For oldify: the same write, the domain XML made an old host's (this
 * machine type and emulator), no recipe, no record, the original not
 * kept. */
AppSink *app_sink_savefile_reshaped(const char *path, const char *machine,
                                    const char *emulator);

#endif
