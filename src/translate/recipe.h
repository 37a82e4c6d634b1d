/*
 * The resume recipe (internal constructors; the type is in translate.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_RECIPE_H
#define TR_RECIPE_H

#include "translate.h"

TrRecipe *tr_recipe_new(void);
void tr_recipe_free(TrRecipe *r);

#endif
