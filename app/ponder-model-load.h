/* ponder-model-load.h — loading a model on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The worker first plans the load from the file's metadata
 * (ponder_model_plan), stops there if the plan says it will not fit and the
 * caller asked for the check, then loads the weights and makes a session.
 * The engine's progress callback stores the fraction and answers the cancel
 * flag, so a cancel stops the engine mid-load. The main thread polls
 * (a progress bar needs no more than a few updates a second) and takes the
 * result; it never waits on the worker except when freeing a running load,
 * which cancels first.
 */

#pragma once

#include <gio/gio.h>

#include "ponder-engine.h"

G_BEGIN_DECLS

#define PONDER_MODEL_ERROR (ponder_model_error_quark ())

typedef enum
{
  PONDER_MODEL_ERROR_FAILED,       /* anything below does not cover */
  PONDER_MODEL_ERROR_NOT_FOUND,    /* the file is gone or unreadable */
  PONDER_MODEL_ERROR_DAMAGED,      /* truncated, corrupt or not a GGUF file */
  PONDER_MODEL_ERROR_UNSUPPORTED,  /* an architecture or weight type we cannot run */
  PONDER_MODEL_ERROR_NO_MEMORY,    /* the machine ran out of memory */
  PONDER_MODEL_ERROR_DEVICE,       /* the compute device failed */
  PONDER_MODEL_ERROR_WONT_FIT,     /* the plan says it needs more than is available */
} PonderModelError;

GQuark ponder_model_error_quark (void);

typedef enum
{
  PONDER_MODEL_LOAD_RUNNING,
  PONDER_MODEL_LOAD_DONE,       /* the model and session are ready to take */
  PONDER_MODEL_LOAD_FAILED,     /* see ponder_model_load_get_error() */
  PONDER_MODEL_LOAD_CANCELLED,
} PonderModelLoadState;

typedef struct _PonderModelLoad PonderModelLoad;

PonderModelLoad       *ponder_model_load_start         (const char       *path,
                                                        guint             n_ctx,
                                                        gboolean          check_fit,
                                                        guint64           memory_limit,
                                                        const char       *device);
PonderModelLoadState   ponder_model_load_poll          (PonderModelLoad  *self,
                                                        double           *out_fraction);
const PonderModelPlan *ponder_model_load_get_plan      (PonderModelLoad  *self);
const char            *ponder_model_load_get_path      (PonderModelLoad  *self);
const GError          *ponder_model_load_get_error     (PonderModelLoad  *self);
gboolean               ponder_model_load_get_engine_stopped (PonderModelLoad *self);
void                   ponder_model_load_cancel        (PonderModelLoad  *self);
PonderModel           *ponder_model_load_steal_model   (PonderModelLoad  *self);
PonderSession         *ponder_model_load_steal_session (PonderModelLoad  *self);
void                   ponder_model_load_free          (PonderModelLoad  *self);
char                  *ponder_model_load_describe_device (PonderModelLoad   *self,
                                                          const PonderModel *model);
const char            *ponder_model_load_get_missing_device (PonderModelLoad *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderModelLoad, ponder_model_load_free)

/* Words a user can act on for an engine failure on @path. */
GError *ponder_model_error_from_engine (PonderStatus  status,
                                        const char   *detail,
                                        const char   *path);

/* "45.2 GB" style sizes and "128 K" style context lengths, for labels. */
char   *ponder_model_format_context    (guint                  n_ctx);
char   *ponder_model_format_plan       (const PonderModelPlan *plan);

G_END_DECLS
