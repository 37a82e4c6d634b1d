/*
 * The source and sink interfaces (io.h): construction and dispatch.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "io.h"

AppSource *app_source_new(const AppSourceOps *ops, void *opaque,
                          const char *name)
{
    AppSource *s = g_new0(AppSource, 1);

    s->ops = ops;
    s->opaque = opaque;
    s->name = g_strdup(name);
    return s;
}

VmsSource *app_source_open(AppSource *source, GError **errp)
{
    return source->ops->open(source, errp);
}

void app_source_free(AppSource *source)
{
    if (!source) {
        return;
    }
    if (source->ops->close) {
        source->ops->close(source);
    }
    g_free(source->name);
    g_free(source);
}

AppSink *app_sink_new(const AppSinkOps *ops, void *opaque, const char *name)
{
    AppSink *s = g_new0(AppSink, 1);

    s->ops = ops;
    s->opaque = opaque;
    s->name = g_strdup(name);
    return s;
}

bool app_sink_write(AppSink *sink, const AppWrite *w, AppWriteStats *st,
                    GError **errp)
{
    return sink->ops->write(sink, w, st, errp);
}

bool app_sink_can_read_back(const AppSink *sink)
{
    return sink->ops->read_back != NULL;
}

VmsSource *app_sink_read_back(AppSink *sink, GError **errp)
{
    if (!sink->ops->read_back) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: what was written cannot be read back", sink->name);
        return NULL;
    }
    return sink->ops->read_back(sink, errp);
}

void app_sink_free(AppSink *sink)
{
    if (!sink) {
        return;
    }
    if (sink->ops->close) {
        sink->ops->close(sink);
    }
    g_free(sink->name);
    g_free(sink->path);
    g_free(sink);
}
