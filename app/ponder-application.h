/* ponder-application.h — the application: history store, actions, windows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ponder-history.h"

G_BEGIN_DECLS

#define PONDER_APP_ID "io.github.ponder.Ponder"

#define PONDER_TYPE_APPLICATION (ponder_application_get_type ())

G_DECLARE_FINAL_TYPE (PonderApplication, ponder_application, PONDER, APPLICATION, AdwApplication)

PonderApplication *ponder_application_new         (GApplicationFlags  flags);
PonderHistory     *ponder_application_get_history (PonderApplication *self);

void               ponder_register_resources      (void);

G_END_DECLS
