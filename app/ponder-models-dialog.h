/* ponder-models-dialog.h — the model library: list, load, context, forget
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ponder-history.h"

G_BEGIN_DECLS

#define PONDER_TYPE_MODELS_DIALOG (ponder_models_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PonderModelsDialog, ponder_models_dialog, PONDER, MODELS_DIALOG,
                      AdwPreferencesWindow)

PonderModelsDialog *ponder_models_dialog_new          (GtkWindow          *window);
void                ponder_models_dialog_set_models   (PonderModelsDialog *self,
                                                       GPtrArray          *models,
                                                       gint64              current_id,
                                                       const char         *running);
guint               ponder_models_dialog_get_n_models (PonderModelsDialog *self);
GtkWidget          *ponder_models_dialog_get_row      (PonderModelsDialog *self,
                                                       guint               index);

/* "qwen2 · 7.6 B parameters · Q4_K_M · 4.7 GB · 128 K context" */
char               *ponder_model_dup_summary          (const PonderHistoryModel *model);
gboolean            ponder_model_get_file_missing     (const PonderHistoryModel *model);

G_END_DECLS
