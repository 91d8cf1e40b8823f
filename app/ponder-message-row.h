/* ponder-message-row.h — one message of the transcript
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ponder-history.h"

G_BEGIN_DECLS

#define PONDER_TYPE_MESSAGE_ROW (ponder_message_row_get_type ())

G_DECLARE_FINAL_TYPE (PonderMessageRow, ponder_message_row, PONDER, MESSAGE_ROW, GtkWidget)

GtkWidget  *ponder_message_row_new                 (const PonderHistoryMessage *message,
                                                    gboolean                    streaming);
gboolean    ponder_message_row_shows               (PonderMessageRow           *self,
                                                    const PonderHistoryMessage *message,
                                                    gboolean                    streaming);
gint64      ponder_message_row_get_message_id      (PonderMessageRow           *self);
void        ponder_message_row_append              (PonderMessageRow           *self,
                                                    const char                 *reasoning,
                                                    const char                 *answer);
void        ponder_message_row_tick                (PonderMessageRow           *self);
void        ponder_message_row_finish              (PonderMessageRow           *self,
                                                    double                      reasoning_s);
const char *ponder_message_row_get_reasoning_title (PonderMessageRow           *self);
const char *ponder_message_row_get_branch_label    (PonderMessageRow           *self);
const char *ponder_message_row_get_answer_text     (PonderMessageRow           *self);
gboolean    ponder_message_row_get_expanded        (PonderMessageRow           *self);
void        ponder_message_row_set_reasoning_hidden (PonderMessageRow          *self,
                                                     gboolean                   hidden);
gboolean    ponder_message_row_get_reasoning_shown (PonderMessageRow           *self);
void        ponder_message_row_set_expanded        (PonderMessageRow           *self,
                                                    gboolean                    expanded);

char       *ponder_format_thought_for              (double                      seconds);

G_END_DECLS
