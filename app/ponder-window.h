/* ponder-window.h — the main window: sidebar, transcript, composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ponder-history.h"
#include "ponder-settings.h"

G_BEGIN_DECLS

#define PONDER_TYPE_WINDOW (ponder_window_get_type ())

G_DECLARE_FINAL_TYPE (PonderWindow, ponder_window, PONDER, WINDOW, AdwApplicationWindow)

PonderWindow *ponder_window_new                  (GtkApplication              *application,
                                                  PonderHistory               *history);
void          ponder_window_load_model           (PonderWindow                *self,
                                                  const char                  *path);
gboolean      ponder_window_get_model_loaded     (PonderWindow                *self);
gboolean      ponder_window_get_busy             (PonderWindow                *self);
gboolean      ponder_window_get_search_pending   (PonderWindow                *self);
gint64        ponder_window_get_conversation_id  (PonderWindow                *self);
void          ponder_window_open_conversation    (PonderWindow                *self,
                                                  gint64                       conversation_id);
void          ponder_window_set_composer_text    (PonderWindow                *self,
                                                  const char                  *text);
void          ponder_window_set_default_sampling (PonderWindow                *self,
                                                  const PonderHistorySampling *sampling);
GtkWidget    *ponder_window_get_transcript       (PonderWindow                *self);
GtkWidget    *ponder_window_get_conversation_list (PonderWindow               *self);
GtkWidget    *ponder_window_get_search_entry     (PonderWindow                *self);

G_END_DECLS
