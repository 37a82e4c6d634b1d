/*
 * Layout tables and the walk interface for custom (old-style) formats.
 * Internal to src/stream.
 *
 * A table lists a vmstate's fields in wire order, the way QEMU's
 * VMStateDescription does: integers (big-endian unless VF_LE), buffers,
 * nested structs and arrays of them, each optionally bounded by section
 * version (since/until), present only if an earlier field is nonzero
 * (present_if), counted by an earlier field (count_from) or required to
 * hold a value (EQ). Subsections follow the fields. What a table cannot
 * say (virtio's MSI-X dependent layout, slirp's socket list) is a VF_CUSTOM
 * function that walks with the same primitives.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_LAYOUT_INTERNAL_H
#define VMS_LAYOUT_INTERNAL_H

#include "layout.h"
#include "reader.h"

typedef struct VmsField VmsField;
typedef struct VmsWalk VmsWalk;
typedef bool (*VmsCustomFn)(VmsWalk *w, const VmsField *f, GError **errp);

typedef enum {
    VF_END = 0,
    VF_INT,
    VF_BUFFER,
    VF_UNUSED,
    VF_STRUCT,
    VF_CUSTOM,
} VmsFieldType;

enum {
    VF_SIGNED = 1 << 0,
    VF_LE = 1 << 1,
};

struct VmsField {
    const char *name;
    uint8_t type;
    uint8_t flags;
    uint32_t size;          /* INT: 1/2/4/8; BUFFER/UNUSED: bytes */
    uint32_t count;         /* fixed array length; 0 = a single item */
    const char *count_from; /* array length = this earlier field */
    const char *present_if; /* present only if this earlier field != 0 */
    uint32_t since;         /* present if version >= since */
    uint32_t until;         /* present if version <= until (0: no bound) */
    bool check_equal;
    int64_t equal;
    const VmsLayout *sub; /* VF_STRUCT */
    VmsCustomFn custom;   /* VF_CUSTOM */
    const void *arg;      /* VF_CUSTOM: extra data */
};

struct VmsLayout {
    const char *name;    /* vmsd name; subsections are "<name>/..." */
    const char *variant; /* NULL, "qemu-kvm", "upstream", ... */
    uint32_t min_version;
    uint32_t max_version; /* also the version of a nested struct */
    const VmsField *fields;
    const VmsLayout *const *subsections; /* NULL-terminated */
    const char *note;
};

/* ---- table macros -------------------------------------------------------- */

#define VF_UINT(n, sz, ...)                                                    \
    {                                                                          \
        .name = (n), .type = VF_INT, .size = (sz), __VA_ARGS__                 \
    }
#define VF_SINT(n, sz, ...)                                                    \
    {                                                                          \
        .name = (n), .type = VF_INT, .size = (sz), .flags = VF_SIGNED,         \
        __VA_ARGS__                                                            \
    }
#define U8(n, ...)  VF_UINT(n, 1, __VA_ARGS__)
#define U16(n, ...) VF_UINT(n, 2, __VA_ARGS__)
#define U32(n, ...) VF_UINT(n, 4, __VA_ARGS__)
#define U64(n, ...) VF_UINT(n, 8, __VA_ARGS__)
#define I8(n, ...)  VF_SINT(n, 1, __VA_ARGS__)
#define I16(n, ...) VF_SINT(n, 2, __VA_ARGS__)
#define I32(n, ...) VF_SINT(n, 4, __VA_ARGS__)
#define I64(n, ...) VF_SINT(n, 8, __VA_ARGS__)
#define LE_I32(n, ...)                                                         \
    {                                                                          \
        .name = (n), .type = VF_INT, .size = 4, .flags = VF_SIGNED | VF_LE,    \
        __VA_ARGS__                                                            \
    }
#define BOOL(n, ...)         U8(n, __VA_ARGS__)
#define TIMER(n, ...)        I64(n, __VA_ARGS__)
#define U8_ARRAY(n, c, ...)  VF_UINT(n, 1, .count = (c), __VA_ARGS__)
#define U16_ARRAY(n, c, ...) VF_UINT(n, 2, .count = (c), __VA_ARGS__)
#define U32_ARRAY(n, c, ...) VF_UINT(n, 4, .count = (c), __VA_ARGS__)
#define U64_ARRAY(n, c, ...) VF_UINT(n, 8, .count = (c), __VA_ARGS__)
#define I32_ARRAY(n, c, ...) VF_SINT(n, 4, .count = (c), __VA_ARGS__)
#define I64_ARRAY(n, c, ...) VF_SINT(n, 8, .count = (c), __VA_ARGS__)
#define BUFFER(n, sz, ...)                                                     \
    {                                                                          \
        .name = (n), .type = VF_BUFFER, .size = (sz), __VA_ARGS__              \
    }
#define UNUSED(sz, ...)                                                        \
    {                                                                          \
        .name = "unused", .type = VF_UNUSED, .size = (sz), __VA_ARGS__         \
    }
#define STRUCT(n, l, ...)                                                      \
    {                                                                          \
        .name = (n), .type = VF_STRUCT, .sub = &(l), __VA_ARGS__               \
    }
#define STRUCT_ARRAY(n, c, l, ...)                                             \
    {                                                                          \
        .name = (n), .type = VF_STRUCT, .count = (c), .sub = &(l), __VA_ARGS__ \
    }
#define CUSTOM(n, fn, ...)                                                     \
    {                                                                          \
        .name = (n), .type = VF_CUSTOM, .custom = (fn), __VA_ARGS__            \
    }
#define EQ(v) .check_equal = true, .equal = (v)
#define END_FIELDS                                                             \
    {                                                                          \
        .name = NULL, .type = VF_END                                           \
    }

#define SUBSECTIONS(...) ((const VmsLayout *const[]){__VA_ARGS__, NULL})

/* ---- walking (for VF_CUSTOM functions) ----------------------------------- */

struct VmsWalk {
    VmsReader *r;
    uint64_t payload_start;
    uint64_t base;    /* added to reader positions to give stream offsets */
    uint32_t version; /* the section's version (for custom walkers) */
    VmsFieldVisitor fn;
    void *opaque;
    bool stopped; /* the visitor asked to stop */
    /* The field path ("channels[0].mode"): its parts always, the string
     * only while a visitor watches (else built when a message needs it). */
    GString *path;
    GArray *parts; /* WalkPart */
    guint depth;
    GArray *scope;       /* WalkValue: integers seen, for count_from etc. */
    GStringChunk *names; /* copies of the names in scope */
    GArray *subsections; /* VmsSubsection out, or NULL */
    const char *what;    /* section description for messages */
    /*
     * Could the payload end at pos (a record starts there)? Set by the
     * parser; NULL means "only where the bytes end".
     */
    bool (*boundary)(void *ctx, uint64_t pos);
    void *boundary_ctx;
};

void vms_walk_init(VmsWalk *w, VmsReader *r, VmsFieldVisitor fn, void *opaque);
void vms_walk_cleanup(VmsWalk *w);

/* A whole layout at a version: its fields, then its subsections. */
bool vms_walk_layout(VmsWalk *w, const VmsLayout *l, uint32_t version,
                     GError **errp);
/* Fields of a layout (no subsections) under a struct name. */
bool vms_walk_struct(VmsWalk *w, const char *name, const VmsLayout *l,
                     GError **errp);
/* One integer; its value is remembered for count_from/present_if. */
bool vms_walk_int(VmsWalk *w, const char *name, unsigned size, bool is_signed,
                  uint64_t *value, GError **errp);
/* Bytes; copied to out if out != NULL. */
bool vms_walk_buffer(VmsWalk *w, const char *name, uint64_t size, uint8_t *out,
                     GError **errp);
/* Value of an integer field seen earlier in this or an enclosing struct. */
bool vms_walk_lookup(VmsWalk *w, const char *name, uint64_t *value);
/* Does a subsection or the end of the payload start at pos? */
bool vms_walk_at_boundary(VmsWalk *w, uint64_t pos);
/* Bytes of a layout with no variable parts, or 0. */
uint64_t vms_layout_fixed_size(const VmsLayout *l);
/* Report a layout mismatch at the position. */
bool vms_walk_fail(VmsWalk *w, GError **errp, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* The registry (tables_registry.c) */
extern const VmsLayout *const vms_builtin_layouts[];

#endif
