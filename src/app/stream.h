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

/* A streaming run's steps a front end may tell (AppStreamRun.on_step). */
typedef enum {
    APP_STREAM_LISTENING, /* relay: where the source may connect (addr) */
    APP_STREAM_CONNECTED, /* relay: to the target (addr) */
} AppStreamStep;

typedef struct AppStreamRun {
    const AppOptions *o; /* dry_run: write no byte, no file */
    /* the input in messages and the recipe file ("stdin", IN, "relay") */
    const char *name;
    const char *recipe_path;             /* --recipe FILE, or NULL */
    const char *const *also;             /* settings the head cannot show */
    const TrBackwardsOptions *backwards; /* reshape instead (tests) */
    /*
     * The recipe is decided at the head; its files exist and FILE holds
     * it: tell it (not called when reshaping backwards). May be NULL.
     */
    void (*on_recipe)(void *opaque, const TrResult *provisional);
    void (*on_step)(void *opaque, AppStreamStep step, const char *addr);
    void *opaque;
} AppStreamRun;

/*
 * translate IN - : the stream in file IN ("-": stdin) translated to out_fd
 * as it flows; the recipe's files go to --rom-dir, else beside IN (for
 * stdin: the working directory). res (cleared with live_result_clear())
 * holds the final result, the files' bytes and the statistics. Errors
 * name the input.
 */
bool app_stream_pipe(const AppStreamRun *run, const char *in, int out_fd,
                     LiveResult *res, GError **errp);
/*
 * relay: accept one connection on listen_addr (the source QEMU), translate
 * what it sends and, once the recipe is published, connect to
 * connect_addr (the target's -incoming, tried for connect_timeout
 * seconds) and pass the stream on. Both connections are closed at the end.
 */
bool app_stream_relay(const AppStreamRun *run, const char *listen_addr,
                      const char *connect_addr, int connect_timeout,
                      LiveResult *res, GError **errp);
/* Did the stream need any change? (translate IN OUT's "compatible") */
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
