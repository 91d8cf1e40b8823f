/* session.c: models and sessions of the public API (ponder-engine.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Model information, tokens, sessions and evaluation over the KV cache.
 * Loading is in model-load.c, generation in generate.c.
 */
#include "session-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "quant.h"

double
ponder_now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

void
ponder_free (void *memory)
{
  free (memory);
}

PonderModelParams
ponder_model_params_default (void)
{
  PonderModelParams params = { .backend = PONDER_BACKEND_AUTO, .device_index = -1,
                               .host_expert_layers = -1, .n_gpu_layers = -1 };

  return params;
}

PonderSessionParams
ponder_session_params_default (void)
{
  PonderSessionParams params = { 0, 0 };

  return params;
}

/* ---- Information ----------------------------------------------------------- */

void
ponder_model_get_info (const PonderModel *model,
                       PonderModelInfo   *out_info)
{
  const PonderHparams *hp = &model->weights.hp;
  uint32_t k_row, v_row;

  memset (out_info, 0, sizeof *out_info);
  out_info->architecture = hp->arch_name;
  out_info->name = model->name;
  out_info->chat_family = ponder_chat_family_name (model->family);
  out_info->file_type = model->file_type;
  out_info->n_params = model->n_params;
  out_info->file_size_bytes = ponder_gguf_total_bytes (model->file);
  out_info->weight_bytes = model->weight_bytes;
  out_info->bytes_per_token = model->bytes_per_token;
  out_info->n_layers = hp->n_layers;
  out_info->n_embd = hp->n_embd;
  out_info->n_head = hp->n_head;
  out_info->n_head_kv = hp->n_head_kv;
  out_info->head_dim = hp->head_dim_k;
  out_info->n_ff = hp->n_ff;
  out_info->n_vocab = hp->n_vocab;
  out_info->n_ctx_train = hp->n_ctx_train;
  ponder_model_kv_rows (hp, &k_row, &v_row);
  out_info->kv_type = model->kv_type;
  out_info->kv_bytes_per_token = ponder_kv_cache_bytes_per_token (model->kv_type, hp->n_layers,
                                                                  k_row, v_row);
  out_info->routed_bytes_per_token = model->routed_bytes_per_token;
  out_info->n_expert = hp->n_expert;
  out_info->n_expert_used = hp->n_expert_used;
  out_info->backend = model->vk != NULL ? "vulkan" : "cpu";
  out_info->backend_note = model->backend_note[0] != '\0' ? model->backend_note : NULL;
  out_info->device_name = model->vk != NULL ? ponder_vk_model_device_name (model->vk) : NULL;
  if (model->vk != NULL)
    {
      for (uint32_t d = 0; d < model->n_vk_split; d++)
        {
          out_info->device_first_layer[d] = d > 0 ? model->vk_split_end[d - 1]
                                                  : model->n_host_layers;
          out_info->device_names[d] = ponder_vk_model_device_name (model->vk_split[d]);
        }
      out_info->n_devices = model->n_vk_split + 1;
      out_info->device_first_layer[model->n_vk_split]
        = model->n_vk_split > 0 ? model->vk_split_end[model->n_vk_split - 1]
                                : model->n_host_layers;
      out_info->device_names[model->n_vk_split] = out_info->device_name;
      out_info->n_expert_devices = model->n_expert_devices;
      out_info->host_expert_layers = model->host_expert_layers;
    }
}

size_t
ponder_model_get_type_stats (const PonderModel *model,
                             PonderTypeStat    *out_stats,
                             size_t             max_stats)
{
  uint32_t counts[64] = { 0 };
  uint64_t bytes[64] = { 0 };
  size_t n_types = 0;

  for (size_t i = 0; i < ponder_gguf_n_tensors (model->file); i++)
    {
      const PonderGgufTensor *t = ponder_gguf_tensor (model->file, i);
      if (t->type < 64)
        {
          counts[t->type]++;
          bytes[t->type] += t->n_bytes;
        }
    }
  for (uint32_t ty = 0; ty < 64; ty++)
    {
      const PonderTypeInfo *info = ponder_type_info (ty);

      if (counts[ty] == 0)
        continue;
      if (n_types < max_stats && out_stats != NULL)
        {
          out_stats[n_types].type_name = info != NULL ? info->name : "unknown";
          out_stats[n_types].n_tensors = counts[ty];
          out_stats[n_types].n_bytes = bytes[ty];
        }
      n_types++;
    }
  return n_types;
}

/* ---- Tokens and chat ------------------------------------------------------ */

PonderStatus
ponder_model_tokenize (const PonderModel *model,
                       const char        *text,
                       size_t             text_len,
                       bool               parse_special,
                       int32_t          **out_ids,
                       size_t            *out_n_ids,
                       PonderError       *error)
{
  if (model == NULL || (text == NULL && text_len > 0) || out_ids == NULL || out_n_ids == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_model_tokenize: model, text and outputs must be set");
  return ponder_tokenizer_encode (model->tokenizer, text ? text : "", text_len, parse_special,
                                  out_ids, out_n_ids, error);
}

const char *
ponder_model_token_bytes (const PonderModel *model,
                          int32_t            id,
                          size_t            *out_len)
{
  return ponder_tokenizer_token_bytes (model->tokenizer, id, out_len);
}

PonderStatus
ponder_model_detokenize (const PonderModel *model,
                         const int32_t     *ids,
                         size_t             n_ids,
                         char             **out_text,
                         size_t            *out_len,
                         PonderError       *error)
{
  size_t total = 0, len, pos = 0;
  char *text;

  if (model == NULL || (ids == NULL && n_ids > 0) || out_text == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_model_detokenize: model, ids and out_text must be set");
  for (size_t i = 0; i < n_ids; i++)
    {
      if (ponder_tokenizer_token_bytes (model->tokenizer, ids[i], &len) == NULL)
        return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                 "token id %d at index %zu is out of range", ids[i], i);
      total += len;
    }
  text = malloc (total + 1);
  if (text == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for %zu bytes", total);
  for (size_t i = 0; i < n_ids; i++)
    {
      const char *bytes = ponder_tokenizer_token_bytes (model->tokenizer, ids[i], &len);
      memcpy (text + pos, bytes, len);
      pos += len;
    }
  text[pos] = '\0';
  *out_text = text;
  if (out_len != NULL)
    *out_len = pos;
  return PONDER_OK;
}

PonderStatus
ponder_model_render_chat (const PonderModel   *model,
                          const PonderMessage *messages,
                          size_t               n_messages,
                          bool                 add_generation_prompt,
                          char               **out_text,
                          PonderError         *error)
{
  if (model == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_model_render_chat: model must be set");
  return ponder_chat_render (model->family, messages, n_messages, add_generation_prompt,
                             out_text, error);
}

/* ---- Sessions -------------------------------------------------------------- */

/* The layers before the last device's: the CPU's (partial offload), then
 * every other device's, each with its own backend and buffers. */
static PonderStatus
add_stages (PonderSession *session,
            size_t         max_n_in,
            PonderError   *error)
{
  const PonderModel *model = session->model;
  PonderStatus status = PONDER_OK;

  if (model->n_host_layers > 0)
    {
      status = ponder_backend_cpu_new (session->pool, PONDER_BATCH_TOKENS, max_n_in,
                                       &session->host_backend, error);
      if (status == PONDER_OK)
        status = ponder_forward_init (&session->host_fw, &model->weights,
                                      session->host_backend, PONDER_BATCH_TOKENS, error);
      if (status == PONDER_OK)
        status = ponder_forward_add_stage (&session->fw, &session->host_fw,
                                           model->n_host_layers, error);
    }
  for (uint32_t d = 0; d < model->n_vk_split && status == PONDER_OK; d++)
    {
      status = ponder_backend_vulkan_new (model->vk_split[d], PONDER_BATCH_TOKENS,
                                          &session->split_backend[d], error);
      if (status == PONDER_OK)
        status = ponder_forward_init (&session->split_fw[d], &model->weights,
                                      session->split_backend[d], PONDER_BATCH_TOKENS, error);
      if (status == PONDER_OK)
        status = ponder_forward_add_stage (&session->fw, &session->split_fw[d],
                                           model->vk_split_end[d], error);
    }
  return status;
}

PonderStatus
ponder_session_new (PonderModel               *model,
                    const PonderSessionParams *params,
                    PonderSession            **out_session,
                    PonderError               *error)
{
  PonderSessionParams defaults = ponder_session_params_default ();
  const PonderHparams *hp;
  PonderSession *session;
  PonderStatus status;
  size_t max_n_in;
  uint32_t k_row, v_row;
  int n_threads;

  if (out_session != NULL)
    *out_session = NULL;
  if (model == NULL || out_session == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_session_new: model and out_session must be set");
  if (params == NULL)
    params = &defaults;
  hp = &model->weights.hp;
  n_threads = params->n_threads > 0 ? params->n_threads : (int) sysconf (_SC_NPROCESSORS_ONLN);
  if (n_threads < 1)
    n_threads = 1;
  session = calloc (1, sizeof *session);
  if (session == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for a session");
  session->model = model;
  session->n_ctx = params->n_ctx;
  if (session->n_ctx == 0)
    session->n_ctx = ponder_default_ctx (hp);
  max_n_in = ponder_model_max_n_in (hp);
  ponder_model_kv_rows (hp, &k_row, &v_row);

  status = ponder_threadpool_new (n_threads, &session->pool, error);
  if (status == PONDER_OK && model->vk != NULL)
    status = ponder_backend_vulkan_new (model->vk, PONDER_BATCH_TOKENS, &session->backend,
                                        error);
  else if (status == PONDER_OK)
    status = ponder_backend_cpu_new (session->pool, PONDER_BATCH_TOKENS, max_n_in,
                                     &session->backend, error);
  if (status == PONDER_OK)
    status = ponder_forward_init (&session->fw, &model->weights, session->backend,
                                  PONDER_BATCH_TOKENS, error);
  if (status == PONDER_OK && model->vk != NULL)
    status = add_stages (session, max_n_in, error);
  for (uint32_t s = 0; s <= session->fw.n_stages && status == PONDER_OK; s++)
    {
      PonderBackend *be = s < session->fw.n_stages ? session->fw.stages[s]->backend
                                                   : session->backend;
      unsigned types = be->kv_types ? be->kv_types : PONDER_KV_TYPE_BIT (PONDER_KV_F32);

      if (!(types & PONDER_KV_TYPE_BIT (model->kv_type)))
        status = ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                                   "the %s backend has no %s KV cache", be->name,
                                   ponder_kv_type_name (model->kv_type));
    }
  if (status == PONDER_OK)
    status = ponder_kv_cache_init_type (&session->cache, model->kv_type, hp->n_layers,
                                        session->n_ctx, k_row, v_row, error);
  /* A device backend allocates its KV cache at its first step: take an
   * empty one now, so that a context that does not fit is refused here
   * with the reason rather than at the first evaluation. */
  for (uint32_t s = 0; s <= session->fw.n_stages && status == PONDER_OK; s++)
    {
      PonderBackend *be = s < session->fw.n_stages ? session->fw.stages[s]->backend
                                                   : session->backend;

      if (be->begin_step == NULL)
        continue;
      status = be->begin_step (be, &session->cache, 0, 1, error);
      if (status == PONDER_OK)
        be->end_step (be, false, NULL);
    }
  if (status == PONDER_OK)
    {
      session->logits = calloc (hp->n_vocab, sizeof (float));
      if (session->logits == NULL)
        status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for logits");
    }
  if (status != PONDER_OK)
    {
      ponder_session_free (session);
      return status;
    }
  *out_session = session;
  return PONDER_OK;
}

void
ponder_session_free (PonderSession *session)
{
  if (session == NULL)
    return;
  ponder_kv_cache_clear (&session->cache);
  ponder_forward_clear (&session->fw);
  if (session->backend != NULL)
    session->backend->free (session->backend);
  ponder_forward_clear (&session->host_fw);
  if (session->host_backend != NULL)
    session->host_backend->free (session->host_backend);
  for (uint32_t d = 0; d < PONDER_MAX_DEVICES - 1; d++)
    {
      ponder_forward_clear (&session->split_fw[d]);
      if (session->split_backend[d] != NULL)
        session->split_backend[d]->free (session->split_backend[d]);
    }
  ponder_threadpool_free (session->pool);
  free (session->logits);
  free (session->logits_history);
  free (session);
}

uint32_t
ponder_session_n_ctx (const PonderSession *session)
{
  return session->n_ctx;
}

void
ponder_session_cancel (PonderSession *session)
{
  atomic_store (&session->cancel, true);
}

void
ponder_session_end_reasoning (PonderSession *session)
{
  atomic_store (&session->end_reasoning, true);
}

void
ponder_session_reset (PonderSession *session)
{
  session->cache.n_tokens = 0;
  session->n_logits_known = 0;
}

/* ---- Evaluation ------------------------------------------------------------ */

PonderStatus
ponder_session_check_tokens (const PonderSession *session,
                             const int32_t       *tokens,
                             size_t               n,
                             PonderError         *error)
{
  uint32_t n_vocab = session->model->weights.hp.n_vocab;

  if (n == 0 || tokens == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT, "the prompt is empty");
  if (n > session->n_ctx)
    return ponder_error_set (error, PONDER_ERROR_CONTEXT_FULL,
                             "the prompt of %zu tokens does not fit in the context window "
                             "of %u tokens", n, session->n_ctx);
  for (size_t i = 0; i < n; i++)
    if (tokens[i] < 0 || (uint32_t) tokens[i] >= n_vocab)
      return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                               "token id %d at index %zu is out of range [0, %u)", tokens[i],
                               i, n_vocab);
  return PONDER_OK;
}

PonderStatus
ponder_session_evaluate (PonderSession *session,
                         const int32_t *tokens,
                         uint32_t       first,
                         uint32_t       n,
                         bool           want_last,
                         float         *all_logits,
                         bool           check_cancel,
                         PonderError   *error)
{
  uint32_t n_vocab = session->model->weights.hp.n_vocab;

  for (uint32_t pos = first; pos < n; pos += PONDER_BATCH_TOKENS)
    {
      uint32_t count = n - pos < PONDER_BATCH_TOKENS ? n - pos : PONDER_BATCH_TOKENS;
      bool last = pos + count == n;
      PonderLogitsMode mode = PONDER_LOGITS_NONE;
      float *out = NULL;

      if (check_cancel && atomic_load (&session->cancel))
        return ponder_error_set (error, PONDER_ERROR_CANCELLED, "cancelled");
      if (all_logits != NULL)
        {
          mode = PONDER_LOGITS_ALL;
          out = all_logits + (size_t) (pos - first) * n_vocab;
        }
      else if (last && want_last)
        {
          mode = PONDER_LOGITS_LAST;
          out = session->logits;
        }
      if (!ponder_forward_run (&session->fw, &session->cache, tokens + pos, count, pos, mode, out,
                               check_cancel ? &session->cancel : NULL))
        {
          if (session->fw.status != PONDER_OK)
            {
              if (error != NULL)
                *error = session->fw.error;
              return session->fw.status;
            }
          return ponder_error_set (error, PONDER_ERROR_CANCELLED, "cancelled");
        }
      ponder_kv_cache_commit (&session->cache, pos, tokens + pos, count);
    }
  if (all_logits != NULL && n > first)
    memcpy (session->logits, all_logits + (size_t) (n - 1 - first) * n_vocab,
            n_vocab * sizeof (float));
  return PONDER_OK;
}

/* Reuses the cached prefix, but only as far as logits are stored for it:
 * positions computed by generation have none, and eval_logits must return
 * every row. */
PonderStatus
ponder_session_eval_logits (PonderSession *session,
                            const int32_t *tokens,
                            size_t         n_tokens,
                            float         *out_logits,
                            PonderError   *error)
{
  uint32_t n_vocab, reuse, n;
  PonderStatus status;

  if (session == NULL || out_logits == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_session_eval_logits: session and out_logits must be set");
  status = ponder_session_check_tokens (session, tokens, n_tokens, error);
  if (status != PONDER_OK)
    return status;
  n = (uint32_t) n_tokens;
  n_vocab = session->model->weights.hp.n_vocab;
  if (session->history_rows < n)
    {
      float *grown = realloc (session->logits_history, (size_t) n * n_vocab * sizeof (float));
      if (grown == NULL)
        return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                                 "out of memory for the logits of %u tokens", n);
      session->logits_history = grown;
      session->history_rows = n;
    }
  if (session->cache.n_tokens > session->n_logits_known)
    session->cache.n_tokens = session->n_logits_known;
  /* Unlike generation, every position's logits come back, so a prompt that
   * is all cached needs no evaluation at all. */
  reuse = 0;
  while (reuse < session->cache.n_tokens && reuse < n
         && session->cache.tokens[reuse] == tokens[reuse])
    reuse++;
  session->cache.n_tokens = reuse;
  session->n_logits_known = reuse;
  status = ponder_session_evaluate (session, tokens, reuse, n, false,
                                    session->logits_history + (size_t) reuse * n_vocab, false,
                                    error);
  if (status != PONDER_OK)
    return status;
  session->n_logits_known = n;
  memcpy (out_logits, session->logits_history, (size_t) n * n_vocab * sizeof (float));
  return PONDER_OK;
}
