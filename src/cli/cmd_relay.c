/*
 * qsnapfix relay --listen ADDR:PORT --connect ADDR:PORT: a TCP relay
 * between an old host's `migrate tcp:` and a new host's `-incoming tcp:`,
 * translating the live migration stream as it passes (src/live).
 *
 * Order of events: accept one connection (the source QEMU); read the
 * stream's head and translate it; write the recipe (--recipe FILE, stderr,
 * the ROM/BIOS/flash files at their size); only then connect to the
 * target, retrying until it listens (--connect-timeout): whoever starts the
 * target waits for the recipe, starts QEMU with it and `-incoming tcp:`.
 * Meanwhile the source waits on a full socket, its guest running. The RAM
 * passes flow through; the device state is gathered to its end,
 * translated and sent. A refusal or a failure closes both connections:
 * the target's load fails and the source keeps running its guest.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exit_codes.h"
#include "stream_cmd.h"

#define CONNECT_RETRY_USEC (100 * 1000)
/* Socket buffers of a few MiB: a migration moves gigabytes, and the relay
 * should not make either side wait for every 200 KiB. Best effort. */
#define SOCKET_BUFFER (4 << 20)

static void widen_socket(int fd)
{
    int size = SOCKET_BUFFER;

    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

typedef struct RelayCmd {
    FixOptions o;
    char *listen;
    char *connect;
    char *recipe;
    char **also;
    char *as;
    gint connect_timeout;
    char **args;
} RelayCmd;

typedef struct Relay {
    const RelayCmd *c;
    int target;
} Relay;

static const char relay_description[] =
    "Relay one live migration from --listen (where the source QEMU's\n"
    "`migrate tcp:ADDR:PORT` connects) to --connect (the target QEMU's\n"
    "`-incoming tcp:ADDR:PORT`), translating the stream as it passes. The\n"
    "recipe the target must start with is decided from the stream's head\n"
    "and written (--recipe FILE, stderr, the ROM/BIOS/flash files) before\n"
    "the relay connects to the target, retrying for --connect-timeout\n"
    "seconds: start the target with the recipe once it is there. Settings\n"
    "only the device state shows (-machine hpet=off, -accel kvm, ...) must\n"
    "be given with --also; the device state is checked against the recipe\n"
    "and the migration stopped (the source keeps running) if it disagrees.\n"
    "ADDR:PORT: host:port, [v6]:port, or :port (any address / localhost).\n"
    "\n"
    "Exit codes: 0 relayed, 3 relayed unchanged, 4 refused or the device\n"
    "state disagreed with the recipe, 5 a connection failed, 14 the stream\n"
    "is malformed.\n";

/* "host:port", "[v6]:port", ":port" */
static bool split_address(const char *addr, char **host, char **port,
                          GError **errp)
{
    const char *colon = strrchr(addr, ':');

    if (!colon || !colon[1]) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "'%s' is not ADDR:PORT", addr);
        return false;
    }
    *port = g_strdup(colon + 1);
    if (addr[0] == '[' && colon > addr && colon[-1] == ']') {
        *host = g_strndup(addr + 1, (gsize)(colon - addr - 2));
    } else {
        *host = colon > addr ? g_strndup(addr, (gsize)(colon - addr)) : NULL;
    }
    return true;
}

static struct addrinfo *resolve(const char *addr, bool passive, GError **errp)
{
    g_autofree char *host = NULL, *port = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = passive ? AI_PASSIVE : 0};
    struct addrinfo *res = NULL;
    int rc;

    if (!split_address(addr, &host, &port, errp)) {
        return NULL;
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", addr,
                    gai_strerror(rc));
        return NULL;
    }
    return res;
}

static int listen_on(const char *addr, GError **errp)
{
    struct addrinfo *res = resolve(addr, true, errp);
    int fd = -1, one = 1, err = 0;

    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        widen_socket(fd); /* accepted sockets inherit it */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1)) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    if (res) {
        freeaddrinfo(res);
        if (fd < 0) {
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                        "cannot listen on %s: %s", addr, g_strerror(err));
        }
    }
    return fd;
}

static int connect_once(const char *addr, int *err, GError **errp)
{
    struct addrinfo *res = resolve(addr, false, errp);
    int fd = -1;

    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd >= 0) {
            widen_socket(fd);
        }
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
            *err = errno;
            close(fd);
            fd = -1;
        }
    }
    if (res) {
        freeaddrinfo(res);
    }
    return fd;
}

/* The target, once it listens (it starts after the recipe is out). */
static bool connect_target(StreamJob *job, GError **errp)
{
    Relay *r = job->opaque;
    gint64 deadline =
        g_get_monotonic_time() + (gint64)r->c->connect_timeout * G_USEC_PER_SEC;
    int err = 0, one = 1;

    for (;;) {
        r->target = connect_once(r->c->connect, &err, errp);
        if (r->target >= 0) {
            setsockopt(r->target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            fprintf(stderr, "qsnapfix: relay: connected to %s\n",
                    r->c->connect);
            return true;
        }
        if ((errp && *errp) || g_get_monotonic_time() >= deadline) {
            break;
        }
        g_usleep(CONNECT_RETRY_USEC);
    }
    if (errp && !*errp) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                    "cannot connect to %s within %d s: %s", r->c->connect,
                    r->c->connect_timeout, g_strerror(err));
    }
    return false;
}

static bool write_target(void *opaque, const void *data, size_t len,
                         GError **errp)
{
    StreamJob *job = opaque;
    Relay *r = job->opaque;

    return qsnapfix_write_all(r->target, data, len, r->c->connect, errp);
}

static int run_relay(RelayCmd *c)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *cwd = g_get_current_dir();
    /* ids far above QEMU's (it numbers its handlers from 0) */
    TrBackwardsOptions bo = {.as = c->as, .new_section_id = 0x10000};
    Relay r = {.c = c, .target = -1};
    StreamJob job = {0};
    g_autoptr(VmsChannel) ch = NULL;
    int lfd, source, rc;

    signal(SIGPIPE, SIG_IGN);
    lfd = listen_on(c->listen, &err);
    if (lfd < 0) {
        fprintf(stderr, "qsnapfix: relay: %s\n", err->message);
        return QSNAPFIX_EXIT_IO;
    }
    fprintf(stderr, "qsnapfix: relay: listening on %s\n", c->listen);
    fflush(stderr);
    do {
        source = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    } while (source < 0 && errno == EINTR);
    close(lfd);
    if (source < 0) {
        fprintf(stderr, "qsnapfix: relay: accept: %s\n", g_strerror(errno));
        return QSNAPFIX_EXIT_IO;
    }
    stream_job_init(&job, &c->o, "relay", cwd, "relay", c->recipe, c->also);
    job.backwards = c->as ? &bo : NULL;
    job.write = write_target;
    job.after_head = connect_target;
    job.opaque = &r;
    ch = vms_channel_new_fd(source, "relay");
    rc = stream_job_run(&job, ch);
    if (r.target >= 0) {
        shutdown(r.target, SHUT_WR);
        close(r.target);
    }
    close(source);
    stream_job_clear(&job);
    return rc;
}

int qsnapfix_cmd_relay(int argc, char **argv)
{
    RelayCmd c = {.connect_timeout = 60};
    GOptionEntry entries[] = {
        {"listen", 0, 0, G_OPTION_ARG_STRING, &c.listen,
         "Where the source QEMU connects (required)", "ADDR:PORT"},
        {"connect", 0, 0, G_OPTION_ARG_STRING, &c.connect,
         "The target QEMU's -incoming (required)", "ADDR:PORT"},
        {"recipe", 0, 0, G_OPTION_ARG_FILENAME, &c.recipe,
         "Write the recipe as JSON to FILE (at the head, then at the end)",
         "FILE"},
        {"also", 0, 0, G_OPTION_ARG_STRING_ARRAY, &c.also,
         "A QEMU argument the target has although the stream's head cannot "
         "show it (repeatable)",
         "ARG"},
        {"connect-timeout", 0, 0, G_OPTION_ARG_INT, &c.connect_timeout,
         "How long to try to reach the target (default 60)", "SECONDS"},
        {"as", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &c.as,
         "Reshape the stream like qemu-kvm-1.0 or qemu-kvm-1.2 wrote it "
         "(tests)",
         "SHAPE"},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &c.args, NULL,
         NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    FixCommand cmd = {
        .prgname = "qsnapfix relay",
        .summary = "qsnapfix relay: translate a live migration between two "
                   "QEMUs",
        .description = relay_description,
        .entries = entries,
    };
    int rc = fix_parse_command(&cmd, &c.o, &argc, &argv);

    if (rc < 0 && (!c.listen || !c.connect || c.args)) {
        fprintf(stderr, "qsnapfix: relay: need --listen and --connect, and "
                        "nothing else (see --help)\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0 && c.o.dry_run) {
        fprintf(stderr, "qsnapfix: relay: --dry-run: a relay that writes "
                        "nothing relays nothing\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0) {
        rc = run_relay(&c);
    }
    fix_options_clear(&c.o);
    g_free(c.listen);
    g_free(c.connect);
    g_free(c.recipe);
    g_strfreev(c.also);
    g_free(c.as);
    g_strfreev(c.args);
    return rc;
}
