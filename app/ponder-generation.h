/* ponder-generation.h — one chat generation on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The worker runs ponder_session_generate_chat() and appends each piece to
 * mutex-guarded buffers. The main thread drains them with
 * ponder_generation_take() from a frame-rate timer, so widgets are touched
 * from the main thread only and never once per token.
 */

#pragma once

#include <glib.h>

#include "ponder-engine.h"

G_BEGIN_DECLS

typedef struct _PonderGeneration PonderGeneration;

PonderGeneration *ponder_generation_start         (PonderSession              *session,
                                                   const PonderMessage        *messages,
                                                   gsize                       n_messages,
                                                   const PonderGenerateParams *params);
PonderGeneration *ponder_generation_start_tokens  (PonderSession              *session,
                                                   const int32_t              *prompt,
                                                   gsize                       n_prompt,
                                                   const PonderGenerateParams *params);
gboolean          ponder_generation_take          (PonderGeneration           *self,
                                                   GString                    *reasoning,
                                                   GString                    *answer,
                                                   PonderStats                *out_stats,
                                                   GError                    **error);
void              ponder_generation_cancel        (PonderGeneration           *self);
void              ponder_generation_end_reasoning (PonderGeneration           *self);
void              ponder_generation_free          (PonderGeneration           *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderGeneration, ponder_generation_free)

G_END_DECLS
