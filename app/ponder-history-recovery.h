/* ponder-history-recovery.h — when the history database will not open
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ponder-history.h"

G_BEGIN_DECLS

typedef void (*PonderHistoryRecoveredFunc) (GtkApplication *application,
                                            PonderHistory  *history,
                                            gpointer        user_data);

GtkWidget *ponder_history_recovery_present (GtkApplication             *application,
                                            const char                 *path,
                                            guint                       busy_timeout_ms,
                                            const GError               *error,
                                            PonderHistoryRecoveredFunc  recovered,
                                            gpointer                    user_data);

G_END_DECLS
