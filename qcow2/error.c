/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "qcow2.h"

G_DEFINE_QUARK(qcow2-error-quark, qcow2_error)
