/* ponder-window-models.h — the window's model part (ponder-window-models.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ponder-engine.h"
#include "ponder-models-dialog.h"
#include "ponder-window.h"

G_BEGIN_DECLS

/* Shared with ponder-window.c */
void                _ponder_window_class_models_init    (GtkWidgetClass *widget_class);
void                _ponder_window_models_init          (PonderWindow   *self);
void                _ponder_window_models_dispose       (PonderWindow   *self);
void                _ponder_window_models_refresh       (PonderWindow   *self);
void                _ponder_window_update_model_actions (PonderWindow   *self);
void                _ponder_window_update_title         (PonderWindow   *self);
char               *_ponder_window_dup_startup_model    (PonderWindow   *self);

/* The loaded model's id in the library (0 when none, or when it was
 * removed from the library while loaded). */
gint64              ponder_window_get_model_id          (PonderWindow   *self);
gboolean            ponder_window_get_loading           (PonderWindow   *self);
void                ponder_window_set_memory_limit      (PonderWindow   *self,
                                                         guint64         bytes);
PonderModelsDialog *ponder_window_get_models_dialog     (PonderWindow   *self);
GMenuModel         *ponder_window_get_models_menu       (PonderWindow   *self);
GtkWidget          *ponder_window_get_model_button      (PonderWindow   *self);
const char         *ponder_window_get_running_text      (PonderWindow   *self);
gboolean            ponder_window_get_model_info        (PonderWindow   *self,
                                                         PonderModelInfo *out_info);

G_END_DECLS
