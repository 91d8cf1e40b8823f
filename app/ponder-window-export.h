/* ponder-window-export.h — export a conversation, import one back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ponder-window.h"

G_BEGIN_DECLS

gboolean ponder_window_export_conversation (PonderWindow  *self,
                                            const char    *format,
                                            GFile         *file,
                                            GError       **error);
gint64   ponder_window_import_conversation (PonderWindow  *self,
                                            GFile         *file,
                                            GError       **error);

/* Installs win.export-conversation ("markdown" or "json") and
 * win.import-conversation, both through a file chooser. */
void     _ponder_window_class_export_actions_init (GtkWidgetClass *widget_class);

G_END_DECLS
