/*
 * A libvirt domain XML (the one in a save image), read and updated with a
 * resume recipe: the recipe's libvirt fragments (the program renders them
 * from the recipe, e.g. "<os><type arch='x86_64' machine='pc-i440fx-1.4'>
 * hvm</type></os>") merged into the elements the domain already has, as
 * contrib/libvirt/qsnapfix-libvirt merges them into a defined domain:
 *
 *   <domain type=...>           the root's attributes
 *   <os><type>, <os><loader>    the type's attributes; the loader replaced
 *   <cpu>                       added if the domain has none (else kept)
 *   <video><model type=T ...>   the attributes set on the video of model T
 *   <interface><model type=T/><rom file=F/>
 *                               <rom file=F/> on every interface of model T
 *   <clock><timer name=N .../>  the timer of that name replaced or added
 *   <qemu:commandline>          its arguments appended; an argument pair
 *                               for the same -global DRIVER.PROPERTY or the
 *                               same pflash unit replaces the old one
 *
 * and the <emulator>, which names a binary of the old host (libvirt 9.0
 * stops at an emulator that does not exist before it reads anything else:
 * docs/savefile.md). No I/O: the caller decides the new emulator.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LVDOM_H
#define LVDOM_H

#include <glib.h>
#include <stdbool.h>

#include "savefile.h"

G_BEGIN_DECLS

#define LVDOM_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

typedef struct LvDomain LvDomain;

/* Errors: LVSAVE_ERROR_BAD_HEADER (the XML does not parse, or is not a
 * <domain>; a fragment does not parse). */
LvDomain *lvdom_parse(const char *xml, GError **errp);
void lvdom_free(LvDomain *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvDomain, lvdom_free)

/* What the domain says (NULL when absent): its name, uuid, type
 * (qemu/kvm), machine type, emulator. */
char *lvdom_name(const LvDomain *d);
char *lvdom_uuid(const LvDomain *d);
char *lvdom_type(const LvDomain *d);
char *lvdom_machine(const LvDomain *d);
char *lvdom_emulator(const LvDomain *d);

/* Replace the emulator (adds <devices><emulator> if there is none). */
void lvdom_set_emulator(LvDomain *d, const char *path);

/*
 * Merge the fragments (char *) in order; every change made, or left
 * undone with the reason, is described in changes (char *, one line;
 * may be NULL).
 */
bool lvdom_merge(LvDomain *d, GPtrArray *fragments, GPtrArray *changes,
                 GError **errp);

/*
 * The text of the domain's <metadata><P:NAME xmlns:P=URI>, an element of
 * another program's namespace that libvirt keeps with the domain (NULL
 * when there is none).
 */
char *lvdom_metadata(const LvDomain *d, const char *uri, const char *name);
/* Set it (prefix: P) to text; NULL removes it (and an empty <metadata>). */
void lvdom_set_metadata(LvDomain *d, const char *uri, const char *prefix,
                        const char *name, const char *text);

/* The XML again: the original's text where nothing changed, no XML
 * declaration (libvirt writes none). */
char *lvdom_format(const LvDomain *d);

G_END_DECLS

#endif
