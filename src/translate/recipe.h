/*
 * The resume recipe (internal constructors; the type is in translate.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_RECIPE_H
#define TR_RECIPE_H

#include "translate.h"

TrRecipe *tr_recipe_new(void);
void tr_recipe_free(TrRecipe *r);
/* Add what follows from the whole recipe (machine and domain type XML). */
void tr_recipe_finish(TrRecipe *r);

#endif
