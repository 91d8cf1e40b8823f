/* ponder-settings.h — what Ponder remembers between runs (GSettings)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ponder-history.h"

G_BEGIN_DECLS

/* Values of the "reasoning-display" key (the schema's enum). */
typedef enum
{
  PONDER_REASONING_COLLAPSED,
  PONDER_REASONING_EXPANDED,
  PONDER_REASONING_HIDDEN,
} PonderReasoningDisplay;

GSettings              *ponder_settings_get                   (void);
char                   *ponder_settings_dup_model_path        (void);
void                    ponder_settings_set_model_path        (const char            *path);
void                    ponder_settings_bind_window           (GtkWindow             *window);
void                    ponder_settings_get_default_sampling  (PonderHistorySampling *sampling);
PonderReasoningDisplay  ponder_settings_get_reasoning_display (void);
char                   *ponder_settings_dup_device            (void);
void                    ponder_settings_set_device            (const char            *device);

G_END_DECLS
