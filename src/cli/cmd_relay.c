/*
 * qsnapfix relay --listen ADDR:PORT --connect ADDR:PORT: a TCP relay
 * between an old host's `migrate tcp:` and a new host's `-incoming tcp:`,
 * translating the live migration stream as it passes (app/stream.h).
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
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream_cmd.h"

typedef struct RelayCmd {
    FixOptions o;
    char *listen;
    char *connect;
    char *recipe;
    char **also;
    char *as;
    gint connect_timeout;
} RelayCmd;

typedef struct Relay {
    const RelayCmd *c;
    StreamCli *cli;
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
    "Exit codes: 0 relayed (changed or not: the report says), 4 refused or\n"
    "the device state disagreed with the recipe, 5 a connection failed, 14\n"
    "the stream is malformed.\n";

/* The recipe is out: now the target may be reached. */
static bool connect_target(void *opaque, const TrResult *r, GError **errp)
{
    Relay *relay = opaque;

    if (!stream_cli_publish(relay->cli, r, errp)) {
        return false;
    }
    relay->target =
        app_connect_retry(relay->c->connect, relay->c->connect_timeout, errp);
    if (relay->target < 0) {
        return false;
    }
    fprintf(stderr, "qsnapfix: relay: connected to %s\n", relay->c->connect);
    return true;
}

static bool write_target(void *opaque, const void *data, size_t len,
                         GError **errp)
{
    Relay *relay = opaque;
    const char *p = data;

    while (len) {
        ssize_t n = write(relay->target, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "%s: %s", relay->c->connect, g_strerror(errno));
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static int run_relay(RelayCmd *c, QsnapfixOutput format)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *cwd = g_get_current_dir();
    /* ids far above QEMU's (it numbers its handlers from 0) */
    TrBackwardsOptions bo = {.as = c->as, .new_section_id = 0x10000};
    StreamCli cli;
    Relay relay = {.c = c, .cli = &cli, .target = -1};
    AppStream job = {0};
    g_autoptr(VmsChannel) ch = NULL;
    int lfd, source, rc;

    signal(SIGPIPE, SIG_IGN);
    lfd = app_listen(c->listen, &err);
    if (lfd < 0) {
        return qsnapfix_report(err);
    }
    fprintf(stderr, "qsnapfix: relay: listening on %s\n", c->listen);
    fflush(stderr);
    source = app_accept_one(lfd, &err);
    if (source < 0) {
        return qsnapfix_report(err);
    }
    stream_cli_init(&cli, &c->o, format, "relay", cwd, "relay", c->recipe,
                    c->also);
    cli.backwards = c->as != NULL;
    stream_cli_job(&cli, &job);
    job.backwards = c->as ? &bo : NULL;
    job.write = write_target;
    job.write_opaque = &relay;
    job.on_recipe = connect_target;
    job.opaque = &relay;
    ch = vms_channel_new_fd(source, "relay");
    rc = stream_cli_run(&cli, &job, ch);
    if (relay.target >= 0) {
        shutdown(relay.target, SHUT_WR);
        close(relay.target);
    }
    close(source);
    stream_cli_clear(&cli);
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
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    CliCommand cmd = {
        .name = "relay",
        .operands = NULL,
        .min_operands = 0,
        .max_operands = 0,
        .summary = "qsnapfix relay: translate a live migration between two "
                   "QEMUs",
        .description = relay_description,
        .with_output = true,
    };
    int rc = fix_parse_command(&cmd, entries, &c.o, 0, &argc, &argv);

    if (rc < 0 && (!c.listen || !c.connect)) {
        rc = cli_usage(&cmd, "need --listen and --connect");
    }
    if (rc < 0 && cmd.operand[0]) {
        rc = cli_usage(&cmd, "no operands");
    }
    if (rc < 0 && c.o.app.dry_run) {
        rc = cli_usage(&cmd, "--dry-run: a relay that writes nothing relays "
                             "nothing");
    }
    if (rc < 0) {
        rc = run_relay(&c, cmd.format);
    }
    fix_options_clear(&c.o);
    cli_command_clear(&cmd);
    g_free(c.listen);
    g_free(c.connect);
    g_free(c.recipe);
    g_strfreev(c.also);
    g_free(c.as);
    return rc;
}
