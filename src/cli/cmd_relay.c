/*
 * qsnapfix relay --listen ADDR:PORT --connect ADDR:PORT: a TCP relay
 * between an old host's `migrate tcp:` and a new host's `-incoming tcp:`,
 * translating the live migration stream as it passes. The run and its
 * order of events: app_stream_relay(); here its options and human text.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>

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

static void print_step(void *opaque, AppStreamStep step, const char *addr)
{
    (void)opaque;
    fprintf(stderr, "qsnapfix: relay: %s %s\n",
            step == APP_STREAM_LISTENING ? "listening on" : "connected to",
            addr);
    fflush(stderr);
}

static int run_relay(RelayCmd *c, QsnapfixOutput format)
{
    g_autoptr(GError) err = NULL;
    /* ids far above QEMU's (it numbers its handlers from 0) */
    TrBackwardsOptions bo = {.as = c->as, .new_section_id = 0x10000};
    StreamCli cli;
    LiveResult res;
    bool ok;

    stream_cli_init(&cli, &c->o, format, "relay", c->recipe, c->also);
    cli.run.backwards = c->as ? &bo : NULL;
    cli.run.on_step = print_step;
    signal(SIGPIPE, SIG_IGN);
    ok = app_stream_relay(&cli.run, c->listen, c->connect, c->connect_timeout,
                          &res, &err);
    return stream_cli_finish(&cli, ok, &res, err);
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
