/*
 * qsnapfix translate IN OUT: the same translation as `fix`, on a raw
 * migration stream file (what `migrate "exec:cat > FILE"` writes). OUT is
 * written through a temporary file renamed into place, then read back,
 * parsed to EOF and checked like a fixed snapshot (app_translate_file(),
 * src/app/fix.h). Here: options and the report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "app/fix.h"
#include "app/report.h"
#include "fix.h"
#include "progress.h"
#include "stream_cmd.h"

static const char translate_description_head[] =
    "Translate the migration stream in file IN (IN may be '-' for stdin)\n"
    "and write the result to OUT, which must not be IN. With nothing to\n"
    "change, OUT is an identical copy and the exit code is 0 (the report\n"
    "says the stream was compatible).\n"
    "\n"
    "OUT '-' translates the stream as it flows, in one pass and bounded\n"
    "memory, to stdout (migrate \"exec:...\", -incoming \"exec:...\"): the\n"
    "recipe is decided from the stream's head and printed on stderr (and\n"
    "--recipe FILE) before the first byte is written; the device state at\n"
    "the end must agree with it (docs/streaming.md).\n"
    "\n";

static void report(const CliCommand *c, const AppOptions *o, const char *in,
                   const char *out_path, AppOutcome *out, int rc)
{
    if (c->format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(QjValue) json = app_report_translate_new(in, out_path);
        app_report_outcomes(json, o, &out, 1, rc);
        qj_print(json);
    } else {
        g_autofree char *load =
            g_strdup_printf("-incoming \"exec:cat %s\"", out_path);
        fix_print_human(out, in, load, o->dry_run);
    }
    fix_print_failure(out, in);
}

int qsnapfix_cmd_translate(int argc, char **argv)
{
    FixOptions o = {0};
    char *recipe = NULL; /* OUT '-': the recipe as JSON */
    char **also = NULL;  /* OUT '-': settings the stream's head cannot show */
    GOptionEntry own[] = {
        {"recipe", 0, 0, G_OPTION_ARG_FILENAME, &recipe,
         "OUT '-': write the recipe as JSON to FILE (at the head, then at "
         "the end)",
         "FILE"},
        {"also", 0, 0, G_OPTION_ARG_STRING_ARRAY, &also,
         "OUT '-': a QEMU argument the target has although the stream's "
         "head cannot show it (repeatable, e.g. --also=-machine "
         "--also=hpet=off)",
         "ARG"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *common = fix_common_help(true);
    g_autofree char *description =
        g_strconcat(translate_description_head, common, NULL);
    CliCommand c = {
        .name = "translate",
        .operands = "IN OUT",
        .min_operands = 2,
        .max_operands = 2,
        .operands_error = "need IN and OUT",
        .summary = "qsnapfix translate: translate a raw migration stream file",
        .description = description,
        .with_output = true,
    };
    int rc = fix_parse_command(&c, own, &o, 0, &argc, &argv);

    if (rc < 0 && !strcmp(c.operand[1], "-")) {
        rc =
            qsnapfix_translate_stream(&o, c.format, c.operand[0], recipe, also);
    }
    if (rc < 0) {
        g_autoptr(GError) err = NULL;
        const char *in = c.operand[0], *out_path = c.operand[1];
        g_autoptr(AppOutcome) out = NULL;
        CliProgress prog;

        cli_progress_init(&prog, NULL);
        o.app.progress = prog.app;
        out = app_translate_file(in, out_path, &o.app, &err);
        cli_progress_done(&prog);

        if (!out) {
            rc = cli_fail(&c, app_report_translate_new(in, out_path), err);
        } else {
            rc = app_outcome_exit_code(out);
            report(&c, &o.app, in, out_path, out, rc);
        }
    }
    fix_options_clear(&o);
    cli_command_clear(&c);
    g_free(recipe);
    g_strfreev(also);
    return rc;
}
