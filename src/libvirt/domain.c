/*
 * A libvirt domain XML updated with a recipe's fragments (domain.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "domain.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <string.h>

struct LvDomain {
    xmlDocPtr doc;
};

#define X(s) ((const xmlChar *)(s))

static bool is(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !n->ns &&
           !xmlStrcmp(n->name, X(name));
}

static bool is_qemu(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns &&
           !xmlStrcmp(n->ns->href, X(LVDOM_QEMU_NS)) &&
           !xmlStrcmp(n->name, X(name));
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next) {
        if (is(c, name)) {
            return c;
        }
    }
    return NULL;
}

static char *attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, X(name)) : NULL;
    char *copy = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return copy;
}

static bool attr_is(xmlNodePtr n, const char *name, const char *value)
{
    g_autofree char *v = attr(n, name);

    return v && !strcmp(v, value);
}

static char *text(xmlNodePtr n)
{
    xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
    char *copy = v ? g_strstrip(g_strdup((const char *)v)) : NULL;

    xmlFree(v);
    return copy;
}

static xmlNodePtr ensure(xmlNodePtr parent, const char *name)
{
    xmlNodePtr c = child(parent, name);

    return c ? c : xmlNewChild(parent, NULL, X(name), NULL);
}

static xmlDocPtr read_xml(const char *xml, const char *what, GError **errp)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), what, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);

    if (!doc) {
        const xmlError *e = xmlGetLastError();
        g_set_error(errp, LVSAVE_ERROR, LVSAVE_ERROR_BAD_HEADER,
                    "%s: not XML: %s", what,
                    e && e->message ? g_strstrip(e->message) : "?");
    }
    return doc;
}

LvDomain *lvdom_parse(const char *xml, GError **errp)
{
    xmlDocPtr doc = read_xml(xml, "the domain XML", errp);
    LvDomain *d;

    if (!doc) {
        return NULL;
    }
    if (!is(xmlDocGetRootElement(doc), "domain")) {
        g_set_error(errp, LVSAVE_ERROR, LVSAVE_ERROR_BAD_HEADER,
                    "the domain XML has no <domain> element");
        xmlFreeDoc(doc);
        return NULL;
    }
    d = g_new0(LvDomain, 1);
    d->doc = doc;
    return d;
}

void lvdom_free(LvDomain *d)
{
    if (d) {
        xmlFreeDoc(d->doc);
        g_free(d);
    }
}

static xmlNodePtr root(const LvDomain *d)
{
    return xmlDocGetRootElement(d->doc);
}

char *lvdom_name(const LvDomain *d)
{
    return text(child(root(d), "name"));
}

char *lvdom_uuid(const LvDomain *d)
{
    return text(child(root(d), "uuid"));
}

char *lvdom_type(const LvDomain *d)
{
    return attr(root(d), "type");
}

char *lvdom_machine(const LvDomain *d)
{
    return attr(child(child(root(d), "os"), "type"), "machine");
}

char *lvdom_emulator(const LvDomain *d)
{
    return text(child(child(root(d), "devices"), "emulator"));
}

void lvdom_set_emulator(LvDomain *d, const char *path)
{
    xmlNodePtr dev = ensure(root(d), "devices");
    xmlNodePtr emu = child(dev, "emulator");
    g_autofree xmlChar *escaped = xmlEncodeSpecialChars(d->doc, X(path));

    if (!emu) {
        emu = xmlNewChild(dev, NULL, X("emulator"), NULL);
    }
    xmlNodeSetContent(emu, escaped);
}

static void note(GPtrArray *changes, char *line)
{
    if (changes) {
        g_ptr_array_add(changes, line);
    } else {
        g_free(line);
    }
}

/* Set every attribute of `from` on `to`, but `skip`; say what changed. */
static void copy_attributes(xmlNodePtr from, xmlNodePtr to, const char *skip,
                            const char *what, GPtrArray *changes)
{
    for (xmlAttrPtr a = from->properties; a; a = a->next) {
        const char *name = (const char *)a->name;
        g_autofree char *want = attr(from, name);
        g_autofree char *had = attr(to, name);

        if ((skip && !strcmp(name, skip)) || !g_strcmp0(had, want)) {
            continue;
        }
        xmlSetProp(to, a->name, X(want));
        note(changes,
             had ? g_strdup_printf("%s %s: %s -> %s", what, name, had, want)
                 : g_strdup_printf("%s %s: %s", what, name, want));
    }
}

static void merge_os(LvDomain *d, xmlNodePtr frag, GPtrArray *changes)
{
    xmlNodePtr os = ensure(root(d), "os");

    for (xmlNodePtr c = frag->children; c; c = c->next) {
        if (is(c, "type")) {
            copy_attributes(c, ensure(os, "type"), NULL, "<os><type>", changes);
        } else if (is(c, "loader")) {
            g_autofree char *path = text(c);
            xmlNodePtr old;
            while ((old = child(os, "loader"))) {
                xmlUnlinkNode(old);
                xmlFreeNode(old);
            }
            xmlAddChild(os, xmlDocCopyNode(c, d->doc, 1));
            note(changes, g_strdup_printf("<os><loader type='rom'>: %s", path));
        }
    }
}

static void merge_cpu(LvDomain *d, xmlNodePtr frag, GPtrArray *changes)
{
    g_autofree char *want = text(child(frag, "model"));
    xmlNodePtr cpu = child(root(d), "cpu");

    if (cpu) {
        g_autofree char *have = text(child(cpu, "model"));
        if (g_strcmp0(have, want)) {
            note(changes, g_strdup_printf("<cpu> kept (%s): the CPU the "
                                          "guest was saved with; the recipe "
                                          "names %s",
                                          have ? have : "no model", want));
        }
        return;
    }
    xmlAddChild(root(d), xmlDocCopyNode(frag, d->doc, 1));
    note(changes, g_strdup_printf("<cpu> %s added", want));
}

static void merge_video(LvDomain *d, xmlNodePtr frag, GPtrArray *changes)
{
    xmlNodePtr model = child(frag, "model");
    g_autofree char *type = attr(model, "type");
    bool found = false;

    for (xmlNodePtr v = child(root(d), "devices")->children; model && v;
         v = v->next) {
        xmlNodePtr m = child(v, "model");
        if (is(v, "video") && attr_is(m, "type", type)) {
            g_autofree char *what = g_strdup_printf("<video> %s", type);
            copy_attributes(model, m, "type", what, changes);
            found = true;
        }
    }
    if (!found) {
        note(changes, g_strdup_printf("no <video> of model %s: its memory "
                                      "size is not set",
                                      type));
    }
}

/* Has the domain a device of this element with <model type=T>? */
static bool has_model(LvDomain *d, const char *element, const char *type)
{
    xmlNodePtr devices = child(root(d), "devices");

    for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
        if (is(c, element) && attr_is(child(c, "model"), "type", type)) {
            return true;
        }
    }
    return false;
}

static void merge_interface(LvDomain *d, xmlNodePtr frag, GPtrArray *changes)
{
    g_autofree char *type = attr(child(frag, "model"), "type");
    xmlNodePtr rom = child(frag, "rom");
    g_autofree char *file = attr(rom, "file");
    guint n = 0;

    for (xmlNodePtr i = child(root(d), "devices")->children; rom && i;
         i = i->next) {
        xmlNodePtr old = child(i, "rom");
        if (!is(i, "interface") || !attr_is(child(i, "model"), "type", type)) {
            continue;
        }
        if (old && attr_is(old, "file", file)) {
            continue; /* already there */
        }
        while ((old = child(i, "rom"))) {
            xmlUnlinkNode(old);
            xmlFreeNode(old);
        }
        xmlAddChild(i, xmlDocCopyNode(rom, d->doc, 1));
        n++;
    }
    if (n) {
        note(changes, g_strdup_printf("<interface> %s: <rom file='%s'/> (%u)",
                                      type, file, n));
    } else if (!has_model(d, "interface", type)) {
        note(changes, g_strdup_printf("no <interface> of model %s for "
                                      "<rom file='%s'/>",
                                      type, file));
    }
}

static void merge_clock(LvDomain *d, xmlNodePtr frag, GPtrArray *changes)
{
    xmlNodePtr clock = child(root(d), "clock");

    if (!clock) {
        clock = xmlNewChild(root(d), NULL, X("clock"), NULL);
        copy_attributes(frag, clock, NULL, "<clock>", changes);
    }
    for (xmlNodePtr t = frag->children; t; t = t->next) {
        g_autofree char *name = attr(t, "name");
        xmlNodePtr old = NULL;
        if (!is(t, "timer")) {
            continue;
        }
        for (xmlNodePtr c = clock->children; c; c = c->next) {
            if (is(c, "timer") && attr_is(c, "name", name)) {
                old = c;
            }
        }
        if (old) {
            xmlUnlinkNode(old);
            xmlFreeNode(old);
        }
        xmlAddChild(clock, xmlDocCopyNode(t, d->doc, 1));
        note(changes, g_strdup_printf("<clock><timer name='%s'> as the "
                                      "recipe says",
                                      name));
    }
}

/* What a QEMU argument pair is about: "-global D.P", "-drive pflash 0";
 * NULL for any other pair. */
static char *arg_key(const char *opt, const char *value)
{
    if (!opt || !value) { /* a <qemu:arg> without value: about nothing */
        return NULL;
    }
    if (!strcmp(opt, "-global")) {
        const char *eq = strchr(value, '=');
        return g_strdup_printf("-global %.*s",
                               (int)(eq ? eq - value : (long)strlen(value)),
                               value);
    }
    if (!strcmp(opt, "-drive") && strstr(value, "if=pflash")) {
        const char *unit = strstr(value, "unit=");
        return g_strdup_printf("-drive pflash %s", unit ? unit + 5 : "0");
    }
    return NULL;
}

static void merge_commandline(LvDomain *d, xmlNodePtr frag, GPtrArray *changes)
{
    xmlNodePtr r = root(d);
    xmlNsPtr ns = xmlSearchNsByHref(d->doc, r, X(LVDOM_QEMU_NS));
    xmlNodePtr cmd = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);

    if (!ns) {
        ns = xmlNewNs(r, X(LVDOM_QEMU_NS), X("qemu"));
    }
    for (xmlNodePtr c = r->children; c && !cmd; c = c->next) {
        cmd = is_qemu(c, "commandline") ? c : NULL;
    }
    if (!cmd) {
        cmd = xmlNewChild(r, ns, X("commandline"), NULL);
    }
    for (xmlNodePtr a = frag->children; a; a = a->next) {
        if (is_qemu(a, "arg")) {
            g_ptr_array_add(args, attr(a, "value"));
        }
    }
    for (guint i = 0; i < args->len; i++) {
        const char *opt = g_ptr_array_index(args, i);
        const char *value =
            i + 1 < args->len ? g_ptr_array_index(args, i + 1) : NULL;
        g_autofree char *key = value ? arg_key(opt, value) : NULL;
        xmlNodePtr same = NULL;

        for (xmlNodePtr a = cmd->children; key && a && !same; a = a->next) {
            xmlNodePtr next = a->next;
            while (next && next->type != XML_ELEMENT_NODE) {
                next = next->next;
            }
            if (is_qemu(a, "arg") && is_qemu(next, "arg")) {
                g_autofree char *o = attr(a, "value");
                g_autofree char *v = attr(next, "value");
                g_autofree char *k = arg_key(o, v);
                if (!g_strcmp0(k, key)) {
                    same = next;
                }
            }
        }
        if (same) {
            g_autofree char *had = attr(same, "value");
            if (g_strcmp0(had, value)) {
                xmlSetProp(same, X("value"), X(value));
                note(changes, g_strdup_printf("<qemu:arg> %s %s (was %s)", opt,
                                              value, had));
            }
            i++;
            continue;
        }
        xmlNewProp(xmlNewChild(cmd, ns, X("arg"), NULL), X("value"), X(opt));
        if (value && key) {
            xmlNewProp(xmlNewChild(cmd, ns, X("arg"), NULL), X("value"),
                       X(value));
            note(changes, g_strdup_printf("<qemu:arg> %s %s", opt, value));
            i++;
        } else {
            note(changes, g_strdup_printf("<qemu:arg> %s", opt));
        }
    }
}

static bool merge_one(LvDomain *d, const char *fragment, GPtrArray *changes,
                      GError **errp)
{
    /* "<domain type='kvm'>" is a start tag alone: its attributes */
    g_autofree char *whole = g_str_has_prefix(fragment, "<domain ") &&
                                     !g_str_has_suffix(fragment, "</domain>")
                                 ? g_strconcat(fragment, "</domain>", NULL)
                                 : g_strdup(fragment);
    xmlDocPtr doc = read_xml(whole, "a recipe fragment", errp);
    xmlNodePtr f = doc ? xmlDocGetRootElement(doc) : NULL;

    if (!f) {
        if (doc) {
            xmlFreeDoc(doc);
        }
        return false;
    }
    if (is(f, "domain")) {
        copy_attributes(f, root(d), NULL, "<domain>", changes);
    } else if (is(f, "os")) {
        merge_os(d, f, changes);
    } else if (is(f, "cpu")) {
        merge_cpu(d, f, changes);
    } else if (is(f, "video")) {
        merge_video(d, f, changes);
    } else if (is(f, "interface")) {
        merge_interface(d, f, changes);
    } else if (is(f, "clock")) {
        merge_clock(d, f, changes);
    } else if (is_qemu(f, "commandline")) {
        merge_commandline(d, f, changes);
    } else {
        note(changes, g_strdup_printf("fragment <%s> not merged: unknown",
                                      (const char *)f->name));
    }
    xmlFreeDoc(doc);
    return true;
}

bool lvdom_merge(LvDomain *d, GPtrArray *fragments, GPtrArray *changes,
                 GError **errp)
{
    ensure(root(d), "devices");
    for (guint i = 0; i < fragments->len; i++) {
        if (!merge_one(d, g_ptr_array_index(fragments, i), changes, errp)) {
            return false;
        }
    }
    return true;
}

/* ---- <metadata> -------------------------------------------------------- */

static xmlNodePtr metadata_element(xmlNodePtr metadata, const char *uri,
                                   const char *name)
{
    for (xmlNodePtr c = metadata ? metadata->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns &&
            !xmlStrcmp(c->ns->href, X(uri)) && !xmlStrcmp(c->name, X(name))) {
            return c;
        }
    }
    return NULL;
}

char *lvdom_metadata(const LvDomain *d, const char *uri, const char *name)
{
    xmlNodePtr e = metadata_element(child(root(d), "metadata"), uri, name);

    return e ? text(e) : NULL;
}

/* An element of the root, indented as libvirt indents them, after the
 * first-level elements libvirt writes before <metadata>. */
static xmlNodePtr new_metadata(LvDomain *d)
{
    static const char *const before[] = {"name", "uuid", "title",
                                         "description"};
    xmlNodePtr r = root(d), after = NULL, m;

    for (guint i = 0; i < G_N_ELEMENTS(before); i++) {
        xmlNodePtr c = child(r, before[i]);
        after = c ? c : after;
    }
    m = xmlNewNode(NULL, X("metadata"));
    if (after) {
        xmlAddNextSibling(after, m);
    } else if (r->children) {
        xmlAddPrevSibling(r->children, m);
    } else {
        xmlAddChild(r, m);
    }
    xmlAddPrevSibling(m, xmlNewText(X("\n  ")));
    xmlAddChild(m, xmlNewText(X("\n  ")));
    return m;
}

static void unlink_with_indent(xmlNodePtr n)
{
    xmlNodePtr prev = n->prev;

    if (prev && prev->type == XML_TEXT_NODE && xmlIsBlankNode(prev)) {
        xmlUnlinkNode(prev);
        xmlFreeNode(prev);
    }
    xmlUnlinkNode(n);
    xmlFreeNode(n);
}

void lvdom_set_metadata(LvDomain *d, const char *uri, const char *prefix,
                        const char *name, const char *value)
{
    xmlNodePtr metadata = child(root(d), "metadata");
    xmlNodePtr e = metadata_element(metadata, uri, name);
    xmlNsPtr ns;
    g_autofree xmlChar *escaped = NULL;

    if (!value) {
        if (e) {
            unlink_with_indent(e);
        }
        if (metadata && !xmlFirstElementChild(metadata)) {
            unlink_with_indent(metadata);
        }
        return;
    }
    if (!metadata) {
        metadata = new_metadata(d);
    }
    if (!e) {
        xmlNodePtr last = xmlGetLastChild(metadata);
        e = xmlNewNode(NULL, X(name));
        ns = xmlNewNs(e, X(uri), X(prefix));
        xmlSetNs(e, ns);
        if (last && last->type == XML_TEXT_NODE) {
            /* before the closing tag's indent; the element first: text
             * added next to text is merged into it */
            xmlAddPrevSibling(last, e);
            xmlAddPrevSibling(e, xmlNewText(X("\n    ")));
        } else {
            xmlAddChild(metadata, e);
        }
    }
    escaped = xmlEncodeSpecialChars(d->doc, X(value));
    xmlNodeSetContent(e, escaped);
}

char *lvdom_format(const LvDomain *d)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlSaveCtxtPtr save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL);
    char *out;

    xmlSaveDoc(save, d->doc);
    xmlSaveClose(save);
    out = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}
