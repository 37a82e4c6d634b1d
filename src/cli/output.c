/*
 * What every command shares: the command line with our own --help, error
 * messages, qemu-img's human formats (so that our tables line up with
 * `qemu-img snapshot -l`), a failure's report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Messages quote snapshot names and paths as the image holds them: a
 * control character in one would end the line or drive the terminal. */
int qsnapfix_report(const GError *err)
{
    g_autofree char *message = qsnapfix_printable(err->message);

    fprintf(stderr, "qsnapfix: %s\n", message);
    return app_exit_code(err);
}

void qsnapfix_warn(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *raw = NULL, *message = NULL;

    va_start(ap, fmt);
    raw = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    message = qsnapfix_printable(raw);
    fprintf(stderr, "qsnapfix: warning: %s\n", message);
}

static bool parse_output(const CliCommand *c, const char *value,
                         QsnapfixOutput *out, GError **errp)
{
    if (!value || !strcmp(value, "human")) {
        *out = QSNAPFIX_OUTPUT_HUMAN;
    } else if (!strcmp(value, "json")) {
        *out = QSNAPFIX_OUTPUT_JSON;
    } else if (c->with_jsonl && !strcmp(value, "jsonl")) {
        *out = QSNAPFIX_OUTPUT_JSONL;
    } else {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--output=%s: expected 'human'%s or 'json'", value,
                    c->with_jsonl ? ", 'jsonl'" : "");
        return false;
    }
    return true;
}

int cli_usage(const CliCommand *c, const char *message)
{
    g_autoptr(GError) err =
        g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s: %s (see --help)", c->name, message);

    return cli_fail(c, NULL, err);
}

/* The format --output=FORMAT or --output FORMAT asks for among the
 * arguments, seen before GOption parses them: a command line that does not
 * parse still gets its error report in JSON. */
static QsnapfixOutput asked_format(const CliCommand *c, int argc, char **argv)
{
    QsnapfixOutput format = QSNAPFIX_OUTPUT_HUMAN;

    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (!strcmp(argv[i], "--")) {
            break;
        }
        if (g_str_has_prefix(argv[i], "--output=")) {
            value = argv[i] + strlen("--output=");
        } else if (!strcmp(argv[i], "--output") && i + 1 < argc) {
            value = argv[i + 1];
        }
        if (value) {
            (void)parse_output(c, value, &format, NULL);
        }
    }
    return format;
}

int cli_parse(CliCommand *c, const GOptionEntry *own, const GOptionEntry *more,
              int *argc, char ***argv)
{
    GOptionEntry common[] = {
        {"output", 0, 0, G_OPTION_ARG_STRING, &c->output,
         c->with_jsonl ? "Report format: human (default), json, or jsonl "
                         "(one object per image as it completes)"
                       : "Report format: human (default) or json",
         "FORMAT"},
        {"help", 'h', 0, G_OPTION_ARG_NONE, &c->help, "Show this help", NULL},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &c->operand,
         NULL, c->operands},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *prgname = g_strdup_printf("qsnapfix %s", c->name);
    guint n;

    g_option_context_set_help_enabled(ctx, false);
    g_option_context_set_summary(ctx, c->summary);
    g_option_context_set_description(ctx, c->description);
    if (own) {
        g_option_context_add_main_entries(ctx, own, NULL);
    }
    if (more) {
        g_option_context_add_main_entries(ctx, more, NULL);
    }
    /* --output only for commands with reports */
    g_option_context_add_main_entries(ctx, common + !c->with_output, NULL);
    g_set_prgname(prgname);
    if (c->with_output) {
        c->format = asked_format(c, *argc, *argv);
    }
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        g_autoptr(GError) usage =
            g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "%s (see --help)", err->message);
        return cli_fail(c, NULL, usage);
    }
    if (c->help) {
        g_autofree char *help = g_option_context_get_help(ctx, true, NULL);
        fputs(help, stdout);
        return APP_EXIT_OK;
    }
    if (!parse_output(c, c->output, &c->format, &err)) {
        return qsnapfix_report(err);
    }
    if (!c->operand) {
        c->operand = g_new0(char *, 1);
    }
    n = g_strv_length(c->operand);
    if (c->operands_error &&
        (n < c->min_operands || (c->max_operands && n > c->max_operands))) {
        return cli_usage(c, c->operands_error);
    }
    return -1;
}

void cli_command_clear(CliCommand *c)
{
    g_clear_pointer(&c->output, g_free);
    g_clear_pointer(&c->operand, g_strfreev);
}

char *qsnapfix_size_to_str(uint64_t bytes)
{
    static const char *const prefix[] = {"",   "Ki", "Mi", "Gi",
                                         "Ti", "Pi", "Ei"};
    int exp;

    /* Like QEMU's size_to_str: switch unit once the number reaches 1000. */
    frexp((double)bytes / (1000.0 / 1024.0), &exp);
    exp = (exp - 1) / 10;
    if (exp < 0) {
        exp = 0;
    }
    if (exp > 6) {
        exp = 6;
    }
    return g_strdup_printf(
        "%0.3g %sB", (double)bytes / (double)(1ULL << (exp * 10)), prefix[exp]);
}

static char *date_str(uint32_t date_sec)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(date_sec);

    return t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
}

static char *clock_str(uint64_t vm_clock_nsec)
{
    uint64_t secs = vm_clock_nsec / 1000000000;

    return g_strdup_printf("%02d:%02d:%02d.%03d", (int)(secs / 3600),
                           (int)((secs / 60) % 60), (int)(secs % 60),
                           (int)((vm_clock_nsec / 1000000) % 1000));
}

void qsnapfix_print_snapshot_header(FILE *out)
{
    fprintf(out, "%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
            "VM CLOCK", "ICOUNT");
}

void qsnapfix_print_snapshot_row(FILE *out, const Qcow2Snapshot *sn)
{
    g_autofree char *id = qsnapfix_printable(sn->id);
    g_autofree char *name = qsnapfix_printable(sn->name);
    g_autofree char *size = qsnapfix_size_to_str(sn->vm_state_size);
    g_autofree char *date = date_str(sn->date_sec);
    g_autofree char *clock = clock_str(sn->vm_clock_nsec);
    char icount[32] = "";

    if (sn->icount != -1) {
        g_snprintf(icount, sizeof(icount), "%" PRId64, sn->icount);
    }
    fprintf(out, "%-9s %-16s %8s%20s%13s%11s\n", id, name, size, date, clock,
            icount);
}

const char *cli_signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

char *qsnapfix_printable(const char *s)
{
    GString *out = g_string_new(NULL);
    g_autofree char *valid = g_utf8_make_valid(s, -1);

    /* Control characters would break a one-line table or message. */
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c < 0x20 || c == 0x7f) {
            g_string_append_printf(out, "\\x%02x", c);
        } else {
            g_string_append_unichar(out, c);
        }
    }
    return g_string_free(out, false);
}

char *cli_snapshot_label(const char *image, const char *id, const char *name)
{
    g_autofree char *path = qsnapfix_printable(image);
    g_autofree char *pid = NULL, *pname = NULL;

    if (!id) {
        return g_steal_pointer(&path);
    }
    pid = qsnapfix_printable(id);
    pname = qsnapfix_printable(name);
    return g_strdup_printf("%s: snapshot %s \"%s\"", path, pid, pname);
}

char *cli_writer_str(const VmsWriterInfo *w)
{
    g_autofree char *who = vms_writer_describe(w);

    return g_strdup_printf("%s, %s", who, w->accel);
}

void cli_print_finding(FILE *out, const char *indent, const TrFinding *f,
                       const char *text)
{
    g_autofree char *subject = qsnapfix_printable(f->subject);
    g_autofree char *what = qsnapfix_printable(text);

    fprintf(out, "%s%-7s %-8s %s: %s\n", indent, f->rule,
            tr_action_name(f->action), subject, what);
}

int cli_fail(const CliCommand *c, QjValue *report, const GError *err)
{
    g_autoptr(QjValue) json = report;
    int code = qsnapfix_report(err);

    if (c && c->format != QSNAPFIX_OUTPUT_HUMAN) {
        if (!json) {
            json = app_report_new();
        }
        app_report_failure(json, err->message, code);
        if (c->format == QSNAPFIX_OUTPUT_JSONL) {
            qj_print_line(json);
        } else {
            qj_print(json);
        }
    }
    return code;
}
