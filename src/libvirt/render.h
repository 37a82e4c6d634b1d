/*
 * The resume recipe as libvirt domain XML fragments (render.c): what the
 * reports show, what contrib/libvirt/qsnapfix-libvirt merges into a
 * domain, and what a fixed save image's domain XML gets (domain.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LVRENDER_H
#define LVRENDER_H

#include <glib.h>

#include "translate/translate.h"

/*
 * One fragment per element the recipe touches (char *, no duplicates):
 * <domain type='kvm'> when it needs KVM, <os><type machine=...>, <cpu>,
 * then each setting's element in the recipe's order, or its QEMU options
 * in <qemu:commandline> where libvirt has no element for it (or none that
 * works). contrib/libvirt/qsnapfix-libvirt merges them into a domain.
 */
GPtrArray *qsnapfix_libvirt_xml(const TrRecipe *r);

#endif
