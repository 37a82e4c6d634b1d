/*
 * A stream translated as it flows (src/live): the streaming run beside
 * app_run(), for `translate IN -` (a pipe) and `relay` (two sockets).
 *
 * The source is forward-only (a VmsChannel), the sink a write function;
 * nothing is read back: the receiving QEMU is the verifier. What the app
 * adds to src/live's translation is the recipe's publication: once the
 * head decided it, its ROM/BIOS/flash files are written at their size
 * (the target reads them when it starts; their bytes follow from the
 * pages) and the front end is told, before the first byte goes out; at
 * the end the files get their bytes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_STREAM_H
#define APP_STREAM_H

#include "live/pipe.h"
#include "options.h"

typedef struct AppStream {
    const AppOptions *o;                 /* dry_run: write no byte, no file */
    const AppRecipeNames *names;         /* where the recipe's files go */
    const char *const *also;             /* settings the head cannot show */
    const TrBackwardsOptions *backwards; /* reshape instead (tests) */
    /* the sink */
    LiveWriteFn write;
    void *write_opaque;
    /*
     * The recipe is decided and its files exist: publish it (and, for a
     * relay, connect to the target). May be NULL.
     */
    bool (*on_recipe)(void *opaque, const TrResult *provisional, GError **errp);
    void *opaque;
} AppStream;

/* Translate in into job's sink; res (cleared with live_result_clear())
 * holds the final result, the files' bytes and the statistics. */
bool app_stream_translate(VmsChannel *in, const AppStream *job, LiveResult *res,
                          GError **errp);
/* Did the stream need any change? (3: nothing to do, as translate IN OUT) */
bool app_stream_unchanged(const LiveResult *res);

/* ---- sockets (net.c) -------------------------------------------------- */

/*
 * ADDR:PORT is host:port, [v6]:port or :port (any address to listen on,
 * the local host to connect to). Socket buffers are widened (a migration
 * moves gigabytes). Errors: G_OPTION_ERROR for a malformed address,
 * G_FILE_ERROR otherwise.
 */
int app_listen(const char *addr, GError **errp);
/* One connection from the listening socket (then closed). */
int app_accept_one(int listen_fd, GError **errp);
/* Connect, retrying every 100 ms for timeout_s seconds (a target that
 * starts once the recipe is out). */
int app_connect_retry(const char *addr, int timeout_s, GError **errp);

#endif
