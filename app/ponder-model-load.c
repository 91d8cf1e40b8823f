/* ponder-model-load.c — loading a model on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ponder-model"

#include "ponder-model-load.h"

#include <glib/gi18n.h>

#include "ponder-device.h"

G_DEFINE_QUARK (ponder-model-error, ponder_model_error)

struct _PonderModelLoad
{
  char            *path;
  guint            n_ctx;
  gboolean         check_fit;
  guint64          memory_limit;    /* 0: what the system has available */
  char            *device;          /* the "device" setting */
  PonderDeviceChoice choice;        /* written by the worker before it plans */
  char            *fallback_note;   /* why the chosen device was not used */
  GThread         *thread;
  gint             cancelled;       /* atomic: the engine's progress callback reads it */

  GMutex           lock;            /* guards everything below */
  double           fraction;
  gboolean         has_plan;        /* plan is written once, before this is set */
  PonderModelPlan  plan;
  PonderModelLoadState state;
  GError          *error;
  gboolean         engine_stopped;  /* ponder_model_load() itself said CANCELLED */
  PonderModel     *model;
  PonderSession   *session;
};

GError *
ponder_model_error_from_engine (PonderStatus  status,
                                const char   *detail,
                                const char   *path)
{
  g_autofree char *base = g_path_get_basename (path);

  switch (status)
    {
    case PONDER_ERROR_IO:
      return g_error_new (PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_NOT_FOUND,
                          _("Ponder cannot read “%s”. Check that the file is still there and "
                            "that you may read it, or import it again. (%s)"), base, detail);
    case PONDER_ERROR_FORMAT:
      return g_error_new (PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_DAMAGED,
                          _("“%s” is not a complete GGUF model: it may be cut short or "
                            "damaged. Download it again. (%s)"), base, detail);
    case PONDER_ERROR_UNSUPPORTED:
      return g_error_new (PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_UNSUPPORTED,
                          _("“%s” uses something Ponder cannot run yet (%s). DeepSeek-R1 "
                            "models built on Qwen 2, Qwen 3, Llama or DeepSeek-V3 work, in "
                            "common quantisations such as Q4_K_M or Q8_0."), base, detail);
    case PONDER_ERROR_NO_MEMORY:
      return g_error_new (PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_NO_MEMORY,
                          _("There is not enough memory to load “%s”. Close other programs, "
                            "choose a shorter context, or use a smaller quantisation of the "
                            "model. (%s)"), base, detail);
    case PONDER_ERROR_DEVICE:
      return g_error_new (PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_DEVICE,
                          _("The compute device failed while loading “%s”. Try again; if it "
                            "keeps failing, update the graphics driver. (%s)"), base, detail);
    case PONDER_ERROR_CANCELLED:
      return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Loading “%s” was cancelled."),
                          base);
    case PONDER_OK:
    case PONDER_ERROR_INVALID_ARGUMENT:
    case PONDER_ERROR_CONTEXT_FULL:
    default:
      return g_error_new (PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_FAILED,
                          _("Ponder could not load “%s”: %s"), base, detail);
    }
}

static bool
on_progress (float  fraction,
             void  *user_data)
{
  PonderModelLoad *self = user_data;

  g_mutex_lock (&self->lock);
  self->fraction = fraction;
  g_mutex_unlock (&self->lock);
  return !g_atomic_int_get (&self->cancelled);
}

static void
finish (PonderModelLoad      *self,
        PonderModelLoadState  state,
        GError               *error)
{
  g_mutex_lock (&self->lock);
  self->state = state;
  self->error = error;
  g_mutex_unlock (&self->lock);
}

static gpointer
load_thread (gpointer data)
{
  PonderModelLoad *self = data;
  PonderPlanParams plan_params = ponder_plan_params_default ();
  PonderModelParams model_params = ponder_model_params_default ();
  PonderSessionParams session_params = ponder_session_params_default ();
  PonderModelPlan plan;
  PonderError error = { 0 };
  PonderModel *model = NULL;
  PonderSession *session = NULL;
  PonderStatus status;
  PonderDeviceInfo devices[PONDER_DEVICE_LIST_MAX];
  size_t n_devices = 0;

  /* "auto" lists them too: the list says whether a device is a GPU. "cpu"
   * does not touch Vulkan at all: it is the way out of a broken driver. */
  if (g_strcmp0 (self->device, "cpu") != 0)
    n_devices = MIN (ponder_list_devices (devices, PONDER_DEVICE_LIST_MAX, NULL),
                     PONDER_DEVICE_LIST_MAX);
  ponder_device_choice_resolve (&self->choice, self->device, devices, n_devices);

  plan_params.n_ctx = self->n_ctx;
  plan_params.available_bytes = self->memory_limit;
  ponder_device_choice_plan (&self->choice, &plan_params);
  status = ponder_model_plan (self->path, &plan_params, &plan, &error);
  if (status != PONDER_OK)
    {
      finish (self, PONDER_MODEL_LOAD_FAILED,
              ponder_model_error_from_engine (status, error.message, self->path));
      return NULL;
    }
  g_mutex_lock (&self->lock);
  self->plan = plan;
  self->has_plan = TRUE;
  g_mutex_unlock (&self->lock);

  if (self->check_fit && !plan.fits)
    {
      finish (self, PONDER_MODEL_LOAD_FAILED,
              g_error_new (PONDER_MODEL_ERROR, PONDER_MODEL_ERROR_WONT_FIT,
                           _("“%s” needs more memory than is available."), plan.name));
      return NULL;
    }

  model_params.progress = on_progress;
  model_params.progress_data = self;
  ponder_device_choice_model (&self->choice, &model_params);
  session_params.n_ctx = plan.n_ctx;
  status = ponder_model_load (self->path, &model_params, &model, &error);
  /* As the engine's AUTO does: a device that cannot take the model leaves
   * it on the CPU, with the reason shown where the model's device is. */
  if (status != PONDER_OK && status != PONDER_ERROR_CANCELLED
      && model_params.backend == PONDER_BACKEND_VULKAN)
    {
      self->fallback_note = g_strdup_printf (_("Could not use %s (%s), so it runs on the CPU."),
                                             self->choice.devices[self->choice.device_index].name,
                                             error.message);
      model_params.backend = PONDER_BACKEND_CPU;
      model_params.device_index = -1;
      memset (&error, 0, sizeof error);
      status = ponder_model_load (self->path, &model_params, &model, &error);
    }
  if (status == PONDER_ERROR_CANCELLED)
    {
      g_mutex_lock (&self->lock);
      self->engine_stopped = TRUE;
      g_mutex_unlock (&self->lock);
      finish (self, PONDER_MODEL_LOAD_CANCELLED, NULL);
      return NULL;
    }
  if (status == PONDER_OK)
    status = ponder_session_new (model, &session_params, &session, &error);
  if (status != PONDER_OK)
    {
      g_clear_pointer (&model, ponder_model_free);
      finish (self, PONDER_MODEL_LOAD_FAILED,
              ponder_model_error_from_engine (status, error.message, self->path));
      return NULL;
    }
  /* A cancel that came after the last progress report still wins. */
  if (g_atomic_int_get (&self->cancelled))
    {
      ponder_session_free (session);
      ponder_model_free (model);
      finish (self, PONDER_MODEL_LOAD_CANCELLED, NULL);
      return NULL;
    }

  g_mutex_lock (&self->lock);
  self->model = model;
  self->session = session;
  self->fraction = 1.0;
  self->state = PONDER_MODEL_LOAD_DONE;
  g_mutex_unlock (&self->lock);
  return NULL;
}

/**
 * ponder_model_load_start:
 * @n_ctx: the context length; 0 for the engine's default
 * @check_fit: stop with %PONDER_MODEL_ERROR_WONT_FIT when the plan does not fit
 * @memory_limit: bytes to plan against; 0 for the memory available now
 * @device: (nullable): where to run it, as the "device" setting says; %NULL
 *   for "auto"
 */
PonderModelLoad *
ponder_model_load_start (const char *path,
                         guint       n_ctx,
                         gboolean    check_fit,
                         guint64     memory_limit,
                         const char *device)
{
  PonderModelLoad *self = g_new0 (PonderModelLoad, 1);

  g_return_val_if_fail (path != NULL, NULL);

  self->path = g_strdup (path);
  self->n_ctx = n_ctx;
  self->check_fit = check_fit;
  self->memory_limit = memory_limit;
  self->device = g_strdup (device != NULL ? device : "auto");
  self->state = PONDER_MODEL_LOAD_RUNNING;
  g_mutex_init (&self->lock);
  self->thread = g_thread_new ("[ponder-load-model]", load_thread, self);
  return self;
}

PonderModelLoadState
ponder_model_load_poll (PonderModelLoad *self,
                        double          *out_fraction)
{
  PonderModelLoadState state;

  g_mutex_lock (&self->lock);
  state = self->state;
  /* The user's Cancel wins even when the worker finished just before it:
   * the loaded model is not taken and goes with the load. */
  if (state == PONDER_MODEL_LOAD_DONE && g_atomic_int_get (&self->cancelled))
    state = PONDER_MODEL_LOAD_CANCELLED;
  if (out_fraction != NULL)
    *out_fraction = self->fraction;
  g_mutex_unlock (&self->lock);
  return state;
}

/* Returns: (nullable): the plan, once the worker has made it. */
const PonderModelPlan *
ponder_model_load_get_plan (PonderModelLoad *self)
{
  gboolean has_plan;

  g_mutex_lock (&self->lock);
  has_plan = self->has_plan;
  g_mutex_unlock (&self->lock);
  return has_plan ? &self->plan : NULL;
}

const char *
ponder_model_load_get_path (PonderModelLoad *self)
{
  return self->path;
}

/* Returns: (nullable): why the load failed, once it has. */
const GError *
ponder_model_load_get_error (PonderModelLoad *self)
{
  const GError *error;

  g_mutex_lock (&self->lock);
  error = self->state == PONDER_MODEL_LOAD_FAILED ? self->error : NULL;
  g_mutex_unlock (&self->lock);
  return error;
}

/* TRUE when the engine stopped reading weights because of the cancel (as
 * opposed to a cancel that came after the weights were in). */
gboolean
ponder_model_load_get_engine_stopped (PonderModelLoad *self)
{
  gboolean stopped;

  g_mutex_lock (&self->lock);
  stopped = self->engine_stopped;
  g_mutex_unlock (&self->lock);
  return stopped;
}

/* Thread-safe; the engine stops at its next progress report. */
void
ponder_model_load_cancel (PonderModelLoad *self)
{
  g_atomic_int_set (&self->cancelled, TRUE);
}

PonderModel *
ponder_model_load_steal_model (PonderModelLoad *self)
{
  PonderModel *model;

  g_mutex_lock (&self->lock);
  model = g_steal_pointer (&self->model);
  g_mutex_unlock (&self->lock);
  return model;
}

PonderSession *
ponder_model_load_steal_session (PonderModelLoad *self)
{
  PonderSession *session;

  g_mutex_lock (&self->lock);
  session = g_steal_pointer (&self->session);
  g_mutex_unlock (&self->lock);
  return session;
}

/* Cancels a running load and waits for the worker, then frees whatever was
 * not taken. */
void
ponder_model_load_free (PonderModelLoad *self)
{
  if (self == NULL)
    return;
  ponder_model_load_cancel (self);
  g_thread_join (self->thread);
  if (self->session != NULL)
    ponder_session_free (self->session);
  if (self->model != NULL)
    ponder_model_free (self->model);
  g_clear_error (&self->error);
  g_mutex_clear (&self->lock);
  ponder_device_choice_clear (&self->choice);
  g_free (self->fallback_note);
  g_free (self->device);
  g_free (self->path);
  g_free (self);
}

/* Where the loaded model runs, in words; call once the load is DONE. */
char *
ponder_model_load_describe_device (PonderModelLoad   *self,
                                   const PonderModel *model)
{
  PonderModelInfo info;

  ponder_model_get_info (model, &info);
  return ponder_device_describe_model (&info, &self->choice, self->fallback_note);
}

/* The device setting named a device that is not there ("auto" was used). */
const char *
ponder_model_load_get_missing_device (PonderModelLoad *self)
{
  return self->choice.missing;
}

char *
ponder_model_format_context (guint n_ctx)
{
  if (n_ctx >= 1024 && n_ctx % 1024 == 0)
    /* TRANSLATORS: a context length in thousands of tokens, "128 K" */
    return g_strdup_printf (_("%u K"), n_ctx / 1024);
  return g_strdup_printf ("%u", n_ctx);
}

/* One paragraph: what the load needs, where, and against how much. */
char *
ponder_model_format_plan (const PonderModelPlan *plan)
{
  g_autofree char *total = g_format_size (plan->total_bytes);
  g_autofree char *weights = g_format_size (plan->weight_bytes);
  g_autofree char *kv = g_format_size (plan->kv_bytes);
  g_autofree char *scratch = g_format_size (plan->scratch_bytes);
  g_autofree char *available = g_format_size (plan->available_bytes);

  g_autofree char *needs = NULL;
  g_autofree char *host = NULL;

  if (plan->available_bytes == 0)
    needs = g_strdup_printf (_("Needs %s on %s with a context of %u tokens: weights %s, "
                               "context cache %s, working memory %s."),
                             total, plan->device_name, plan->n_ctx, weights, kv, scratch);
  else
    needs = g_strdup_printf (_("Needs %s of the %s available on %s with a context of %u "
                               "tokens: weights %s, context cache %s, working memory %s."),
                             total, available, plan->device_name, plan->n_ctx, weights, kv,
                             scratch);
  /* What the planner keeps off a device that cannot hold everything. */
  if (plan->cpu_layers > 0)
    {
      g_autofree char *bytes = g_format_size (plan->cpu_layer_bytes);

      host = g_strdup_printf (_("Of this, %s (layers 0–%u) stays in system memory and runs on "
                                "the CPU."), bytes, plan->cpu_layers - 1);
    }
  else if (plan->host_expert_layers > 0)
    {
      g_autofree char *bytes = g_format_size (plan->host_expert_bytes);

      host = g_strdup_printf (_("Of this, %s (the routed experts of layers %u–%u) stays in "
                                "system memory and runs on the CPU."), bytes,
                              plan->n_layers - plan->host_expert_layers, plan->n_layers - 1);
    }
  return host != NULL ? g_strconcat (needs, " ", host, NULL) : g_steal_pointer (&needs);
}
