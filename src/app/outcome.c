/*
 * Outcomes and their exit codes (outcome.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "outcome.h"

#include "exit_codes.h"

const char *app_status_name(AppStatus s)
{
    switch (s) {
    case APP_FIXED:
        return "fixed";
    case APP_COMPATIBLE:
        return "compatible";
    case APP_REFUSED:
        return "refused";
    case APP_ERROR:
        return "error";
    }
    return "?";
}

void app_write_stats_clear(AppWriteStats *st)
{
    g_clear_pointer(&st->kept_as, g_free);
    g_clear_pointer(&st->sha256, g_free);
}

AppOutcome *app_outcome_new(const char *id, const char *name)
{
    AppOutcome *o = g_new0(AppOutcome, 1);

    o->id = g_strdup(id);
    o->name = g_strdup(name);
    o->container_changes = g_ptr_array_new_with_free_func(g_free);
    return o;
}

void app_outcome_free(AppOutcome *o)
{
    if (!o) {
        return;
    }
    g_free(o->id);
    g_free(o->name);
    vms_writer_info_free(o->writer);
    tr_result_free(o->result);
    g_clear_error(&o->error);
    app_write_stats_clear(&o->write);
    g_ptr_array_unref(o->container_changes);
    g_free(o);
}

void app_outcome_take_result(AppOutcome *o, TrResult *r, uint64_t old_size)
{
    tr_result_free(o->result);
    o->result = r;
    o->old_size = o->new_size = old_size;
    if (r->refused) {
        o->status = APP_REFUSED;
    } else if (r->edits->len) {
        o->status = APP_FIXED;
        o->new_size = r->new_size;
    } else {
        o->status = APP_COMPATIBLE;
    }
}

void app_outcome_fail(AppOutcome *o, GError *err)
{
    g_clear_error(&o->error);
    o->error = err;
    o->status = APP_ERROR;
}

char *app_outcome_reason(const AppOutcome *o)
{
    if (o->status == APP_REFUSED && o->result) {
        const TrFinding *f = tr_result_refusal(o->result);
        return f->way_out ? g_strdup_printf("%s %s: %s; way out: %s", f->rule,
                                            f->subject, f->change, f->way_out)
                          : g_strdup_printf("%s %s: %s; no way out", f->rule,
                                            f->subject, f->change);
    }
    if (o->status == APP_ERROR || o->status == APP_REFUSED) {
        return o->error ? g_strdup(o->error->message) : NULL;
    }
    return NULL;
}

int app_outcome_exit_code(const AppOutcome *o)
{
    switch (o->status) {
    case APP_FIXED:
        return APP_EXIT_OK;
    case APP_COMPATIBLE:
        return APP_EXIT_OK; /* nothing to do is not an error */
    case APP_REFUSED:
        return APP_EXIT_REFUSED;
    case APP_ERROR:
        return o->error ? app_exit_code(o->error) : APP_EXIT_INTERNAL;
    }
    return APP_EXIT_INTERNAL;
}

int app_outcomes_exit_code(AppOutcome *const *outcomes, guint n)
{
    bool any_failed = false, all_failed = true;
    int failed_code = -1;

    for (guint i = 0; i < n; i++) {
        const AppOutcome *o = outcomes[i];
        bool failed = o->status == APP_REFUSED || o->status == APP_ERROR;
        int code = app_outcome_exit_code(o);

        any_failed |= failed;
        all_failed &= failed;
        if (failed) {
            failed_code = failed_code < 0 || failed_code == code
                              ? code
                              : APP_EXIT_PARTIAL;
        }
    }
    if (any_failed) {
        return all_failed ? failed_code : APP_EXIT_PARTIAL;
    }
    return APP_EXIT_OK; /* fixed, or nothing (or none) needed it */
}

const char *app_write_end_name(AppWriteEnd end)
{
    switch (end) {
    case APP_WRITE_NOTHING:
        return "nothing";
    case APP_WRITE_GIVEN_BACK:
        return "given-back";
    case APP_WRITE_LEAKED:
        return "leaked";
    case APP_WRITE_UNCONFIRMED:
        return "unconfirmed";
    case APP_WRITE_COMMITTED:
        return "committed";
    }
    return "?";
}

bool app_write_full_rewrite(const AppWriteStats *st)
{
    return st->clusters_shared == 0 && st->clusters_written > 1;
}
