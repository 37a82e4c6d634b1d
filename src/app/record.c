/*
 * The record in a snapshot's unknown extra data (record.h): framing,
 * the payload as compact JSON (deflated when that is smaller), and what
 * is left out when it does not fit.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <zlib.h>

#include "json_fields.h"
#include "record.h"

#define MAGIC      "QSNAPFIX"
#define HEAD       24 /* zeros, magic, format, flags, length */
#define FORMAT     1
#define F_DEFLATED 1

void app_record_clear(AppRecord *r)
{
    g_free(r->tool);
    g_free(r->time);
    g_free(r->target);
    g_strfreev(r->rules);
    g_free(r->recipe);
    g_free(r->recipe_sha256);
    g_free(r->batch);
    g_free(r->kept_as);
    g_free(r->of_id);
    g_free(r->of_name);
    memset(r, 0, sizeof(*r));
}

const char *app_record_kind_name(AppRecordKind k)
{
    switch (k) {
    case APP_RECORD_FIX:
        return "fix";
    case APP_RECORD_ORIGINAL:
        return "original";
    case APP_RECORD_NONE:
        break;
    }
    return "none";
}

const char *app_tool_name(void)
{
    return "qsnapfix " QSNAPFIX_VERSION;
}

/* Now, or SOURCE_DATE_EPOCH where it is set (reproducible images for
 * tests that compare bytes, as reproducible builds use it). */
static char *now_iso8601(void)
{
    const char *epoch = g_getenv("SOURCE_DATE_EPOCH");
    g_autoptr(GDateTime) t =
        epoch ? g_date_time_new_from_unix_utc(g_ascii_strtoll(epoch, NULL, 10))
              : g_date_time_new_now_utc();

    return g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
}

void app_record_for_fix(AppRecord *r, const AppOptions *o,
                        const TrResult *result, uint64_t old_size)
{
    g_autoptr(GPtrArray) rules = g_ptr_array_new();

    memset(r, 0, sizeof(*r));
    r->kind = APP_RECORD_FIX;
    r->tool = g_strdup(app_tool_name());
    r->time = now_iso8601();
    r->target =
        g_strdup(tr_target_name(o->target ? o->target : tr_target_default()));
    for (guint i = 0; i < result->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(result->findings, i);
        bool seen = false;

        if (f->action != TR_ACTION_EDIT && f->action != TR_ACTION_SETTING &&
            f->action != TR_ACTION_LOSS) {
            continue;
        }
        for (guint k = 0; k < rules->len && !seen; k++) {
            seen = !strcmp(g_ptr_array_index(rules, k), f->rule);
        }
        if (!seen) {
            g_ptr_array_add(rules, g_strdup(f->rule));
        }
    }
    g_ptr_array_add(rules, NULL);
    r->rules = (char **)g_ptr_array_free(g_steal_pointer(&rules), false);
    r->recipe = tr_recipe_command_line(result->recipe);
    r->old_size = old_size;
    r->new_size = result->new_size;
    r->batch = g_strdup(o->batch_id);
}

void app_record_for_original(AppRecord *r, const AppRecord *fix, const char *id,
                             const char *name)
{
    memset(r, 0, sizeof(*r));
    r->kind = APP_RECORD_ORIGINAL;
    r->tool = g_strdup(fix->tool);
    r->time = g_strdup(fix->time);
    r->of_id = g_strdup(id);
    r->of_name = g_strdup(name);
    r->size = fix->old_size;
}

/* ---- payload: JSON ---------------------------------------------------- */

static char *payload_json(const AppRecord *r)
{
    g_autoptr(QjValue) b = qj_object();

    app_json_put_str(b, "kind", app_record_kind_name(r->kind));
    app_json_put_str(b, "tool", r->tool);
    app_json_put_str(b, "time", r->time);
    if (r->kind == APP_RECORD_FIX) {
        app_json_put_str(b, "target", r->target);
        if (r->rules) {
            app_json_put_strv(b, "rules", r->rules);
        }
        app_json_put_str(b, "recipe", r->recipe);
        app_json_put_str(b, "recipe-sha256", r->recipe_sha256);
        qj_set_uint(b, "old-size", r->old_size);
        qj_set_uint(b, "new-size", r->new_size);
        app_json_put_str(b, "batch", r->batch);
        app_json_put_str(b, "kept-as", r->kept_as);
    } else {
        app_json_put_str(b, "original-of-id", r->of_id);
        app_json_put_str(b, "original-of-name", r->of_name);
        qj_set_uint(b, "size", r->size);
    }
    return app_json_compact(b);
}

static bool parse_payload(const char *json, gssize len, AppRecord *r)
{
    g_autoptr(QjValue) o =
        qj_parse(json, len < 0 ? strlen(json) : (size_t)len, NULL);
    g_autofree char *kind = NULL;

    if (qj_kind(o) != QJ_OBJECT) {
        return false;
    }
    kind = app_json_str(o, "kind");
    r->kind = !g_strcmp0(kind, "fix")        ? APP_RECORD_FIX
              : !g_strcmp0(kind, "original") ? APP_RECORD_ORIGINAL
                                             : APP_RECORD_NONE;
    r->tool = app_json_str(o, "tool");
    r->time = app_json_str(o, "time");
    r->target = app_json_str(o, "target");
    r->rules = app_json_strv(o, "rules");
    r->recipe = app_json_str(o, "recipe");
    r->recipe_sha256 = app_json_str(o, "recipe-sha256");
    r->old_size = qj_get_uint(o, "old-size", 0);
    r->new_size = qj_get_uint(o, "new-size", 0);
    r->batch = app_json_str(o, "batch");
    r->kept_as = app_json_str(o, "kept-as");
    r->of_id = app_json_str(o, "original-of-id");
    r->of_name = app_json_str(o, "original-of-name");
    r->size = qj_get_uint(o, "size", 0);
    return r->kind != APP_RECORD_NONE;
}

char *app_record_to_json(const AppRecord *r)
{
    return payload_json(r);
}

AppRecordKind app_record_from_json(const char *json, AppRecord *r)
{
    memset(r, 0, sizeof(*r));
    if (!json || !parse_payload(json, -1, r)) {
        app_record_clear(r);
        return APP_RECORD_NONE;
    }
    return r->kind;
}

/* ---- framing ---------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

/* Where the record starts in unknown extra data x, and where it ends. */
static bool find_record(const uint8_t *x, size_t len, size_t *start,
                        size_t *end)
{
    static const uint8_t zeros[8];

    for (size_t k = 0; k + HEAD <= len; k += 8) {
        if (!memcmp(x + k, zeros, 8) && !memcmp(x + k + 8, MAGIC, 8)) {
            size_t n = be32(x + k + 20);
            if (n > len - k - HEAD) {
                return false;
            }
            *start = k;
            *end = MIN(len, k + HEAD + ((n + 7) & ~(size_t)7));
            return true;
        }
    }
    return false;
}

static bool decode(const uint8_t *rec, size_t len, AppRecord *r)
{
    uint16_t format = (uint16_t)(rec[16] << 8 | rec[17]);
    uint16_t flags = (uint16_t)(rec[18] << 8 | rec[19]);
    uint32_t n = be32(rec + 20);
    const uint8_t *payload = rec + HEAD;
    g_autofree char *inflated = NULL;
    uLongf out_len = QCOW2_MAX_UNKNOWN_EXTRA * 16;

    if (format != FORMAT || HEAD + (size_t)n > len) {
        return false;
    }
    if (flags & F_DEFLATED) {
        inflated = g_malloc(out_len);
        if (uncompress((Bytef *)inflated, &out_len, payload, n) != Z_OK) {
            return false;
        }
        return parse_payload(inflated, (gssize)out_len, r);
    }
    return parse_payload((const char *)payload, n, r);
}

AppRecordKind app_record_read(const Qcow2Snapshot *sn, AppRecord *r)
{
    size_t len, start, end;
    const uint8_t *x = qcow2_snapshot_unknown_extra(sn, &len);

    memset(r, 0, sizeof(*r));
    if (!x || !find_record(x, len, &start, &end) ||
        !decode(x + start, end - start, r)) {
        app_record_clear(r);
        return APP_RECORD_NONE;
    }
    return r->kind;
}

bool app_snapshot_is_original(const Qcow2Snapshot *sn)
{
    AppRecord r;
    bool original = app_record_read(sn, &r) == APP_RECORD_ORIGINAL;

    app_record_clear(&r);
    return original;
}

/* The payload framed: as it is (readable with a hex dump), or deflated
 * where that is smaller and the plain one does not fit room. */
static GBytes *frame(const char *json, size_t room)
{
    size_t n = strlen(json);
    uLongf zlen = compressBound(n);
    g_autofree uint8_t *z = g_malloc(zlen);
    bool deflate = HEAD + n > room &&
                   compress2(z, &zlen, (const Bytef *)json, n, 9) == Z_OK &&
                   zlen < n;
    const uint8_t *payload = deflate ? z : (const uint8_t *)json;
    size_t plen = deflate ? zlen : n;
    size_t total = HEAD + ((plen + 7) & ~(size_t)7);
    uint8_t *rec = g_malloc0(total);

    memcpy(rec + 8, MAGIC, 8);
    put_be16(rec + 16, FORMAT);
    put_be16(rec + 18, deflate ? F_DEFLATED : 0);
    put_be32(rec + 20, (uint32_t)plen);
    memcpy(rec + HEAD, payload, plen);
    return g_bytes_new_take(rec, total);
}

/* r framed in at most room bytes, leaving out the recipe (then its
 * SHA-256 stands in) and then the rules when it does not fit. */
static GBytes *frame_within(const AppRecord *r, size_t room)
{
    AppRecord shrunk = *r;
    g_autofree char *sha = NULL;

    for (int attempt = 0; attempt < 3; attempt++) {
        g_autofree char *json = payload_json(&shrunk);
        GBytes *b = frame(json, room);

        if (g_bytes_get_size(b) <= room) {
            return b;
        }
        g_bytes_unref(b);
        if (attempt == 0 && shrunk.recipe) {
            sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
                                                shrunk.recipe, -1);
            shrunk.recipe = NULL;
            shrunk.recipe_sha256 = sha;
        } else {
            shrunk.rules = NULL;
        }
    }
    return NULL;
}

GBytes *app_record_extra(const Qcow2Snapshot *sn, const AppRecord *r,
                         GError **errp)
{
    size_t len, start, end;
    const uint8_t *x = qcow2_snapshot_unknown_extra(sn, &len);
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GBytes) rec = NULL;

    /* Another writer's bytes stay; an old record of ours goes. */
    if (x && find_record(x, len, &start, &end)) {
        g_byte_array_append(out, x, (guint)start);
        g_byte_array_append(out, x + end, (guint)(len - end));
    } else if (x) {
        g_byte_array_append(out, x, (guint)len);
    }
    if (!r) {
        return g_byte_array_free_to_bytes(g_steal_pointer(&out));
    }
    while (out->len % 8) {
        g_byte_array_append(out, (const uint8_t *)"", 1);
    }
    rec = out->len < QCOW2_MAX_UNKNOWN_EXTRA
              ? frame_within(r, QCOW2_MAX_UNKNOWN_EXTRA - out->len)
              : NULL;
    if (!rec) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_UNSUPPORTED,
                    "snapshot %s \"%s\": no room for qsnapfix's record in "
                    "its extra data (%zu bytes of another writer's)",
                    sn->id, sn->name, len);
        return NULL;
    }
    g_byte_array_append(out, g_bytes_get_data(rec, NULL),
                        (guint)g_bytes_get_size(rec));
    return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}
