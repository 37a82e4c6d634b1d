/*
 * The resume recipe (internal constructors; the type is in translate.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_RECIPE_H
#define TR_RECIPE_H

#include "translate.h"

TrRecipe *tr_recipe_new(void);
void tr_recipe_free(TrRecipe *r);
/*
 * The warnings target prints on resuming stream s with the recipe r (its
 * machine chosen), each with why it is harmless: no VM description after
 * the stream's end where the loader reads one; a deprecated machine type.
 */
void tr_recipe_expect_warnings(TrRecipe *r, const TrTarget *target,
                               const VmsStream *s);

#endif
