/* generate.c: the generation loop of ponder_session_generate_{chat,tokens}.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prompt -> longest cached prefix -> prefill in batches -> sample, stream,
 * evaluate, repeat. The chat prompt is built from token ids (spec 5.2 point
 * 1, 5.5): template markers are inserted as ids and message texts are
 * tokenised with special-token parsing off, so text a user types can never
 * become a control token.
 */
#include "session-private.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sampler.h"

/* ---- Token buffer ---------------------------------------------------------- */

typedef struct
{
  int32_t *ids;
  size_t   n;
  size_t   cap;
} TokenList;

static bool
list_push (TokenList *list,
           int32_t    id)
{
  if (list->n == list->cap)
    {
      size_t cap = list->cap ? list->cap * 2 : 256;
      int32_t *ids = realloc (list->ids, cap * sizeof *ids);
      if (ids == NULL)
        return false;
      list->ids = ids;
      list->cap = cap;
    }
  list->ids[list->n++] = id;
  return true;
}

/* A sampler that never picks padding rows: with real weights they score
 * far below everything else, but a fine-tune or a broken file can make one
 * win, and it would stream nothing visible. */
static PonderSampler *
new_sampler (const PonderModel          *model,
             const PonderSamplerParams  *sampling)
{
  uint32_t n_logits = model->weights.hp.n_vocab;
  PonderSampler *sampler = ponder_sampler_new (sampling, n_logits);
  size_t n_masked;
  int32_t *masked;
  bool ok;

  if (sampler == NULL)
    return NULL;
  n_masked = ponder_tokenizer_unsampleable (model->tokenizer, n_logits, NULL);
  if (n_masked == 0)
    return sampler;
  masked = malloc (n_masked * sizeof *masked);
  ok = masked != NULL;
  if (ok)
    {
      ponder_tokenizer_unsampleable (model->tokenizer, n_logits, masked);
      ok = ponder_sampler_mask (sampler, masked, n_masked);
    }
  free (masked);
  if (!ok)
    {
      ponder_sampler_free (sampler);
      return NULL;
    }
  return sampler;
}

static PonderStatus
list_push_text (TokenList         *list,
                const PonderModel *model,
                const char        *text,
                bool               parse_special,
                PonderError       *error)
{
  int32_t *ids = NULL;
  size_t n_ids = 0;
  PonderStatus status;

  if (text == NULL || text[0] == '\0')
    return PONDER_OK;
  status = ponder_tokenizer_encode (model->tokenizer, text, strlen (text), parse_special, &ids,
                                    &n_ids, error);
  for (size_t i = 0; status == PONDER_OK && i < n_ids; i++)
    if (!list_push (list, ids[i]))
      status = ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for tokens");
  free (ids);
  return status;
}

static PonderStatus
push_id (TokenList   *list,
         int32_t      id,
         PonderError *error)
{
  if (!list_push (list, id))
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for tokens");
  return PONDER_OK;
}

/* ---- Chat prompt as tokens (spec 5.5) --------------------------------------- */

static PonderStatus
push_system (TokenList           *list,
             const PonderModel   *model,
             const PonderMessage *messages,
             size_t               n_messages,
             PonderError         *error)
{
  const char *last = NULL;
  bool first = true;
  PonderStatus status = PONDER_OK;

  for (size_t i = 0; i < n_messages; i++)
    {
      if (messages[i].role != PONDER_ROLE_SYSTEM)
        continue;
      last = messages[i].content;
      /* The 671B template joins every system message with "\n\n". */
      if (model->family == PONDER_CHAT_R1_FULL)
        {
          if (!first)
            status = list_push_text (list, model, "\n\n", false, error);
          if (status == PONDER_OK)
            status = list_push_text (list, model, messages[i].content, false, error);
          if (status != PONDER_OK)
            return status;
          first = false;
        }
    }
  /* The distill templates keep only the last system message. */
  if (model->family != PONDER_CHAT_R1_FULL && last != NULL)
    return list_push_text (list, model, last, false, error);
  return PONDER_OK;
}

static PonderStatus
build_chat_prompt (const PonderModel   *model,
                   const PonderMessage *messages,
                   size_t               n_messages,
                   TokenList           *list,
                   PonderError         *error)
{
  PonderStatus status;

  if (model->id_bos < 0 || model->id_eos < 0 || model->id_user < 0 || model->id_assistant < 0)
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "the vocabulary lacks the R1 chat markers (begin/end of sentence, "
                             "User, Assistant)");
  status = push_id (list, model->id_bos, error);
  if (status == PONDER_OK)
    status = push_system (list, model, messages, n_messages, error);
  for (size_t i = 0; status == PONDER_OK && i < n_messages; i++)
    {
      const char *content = messages[i].content ? messages[i].content : "";
      const char *after;

      switch (messages[i].role)
        {
        case PONDER_ROLE_SYSTEM:
          break;
        case PONDER_ROLE_USER:
          status = push_id (list, model->id_user, error);
          if (status == PONDER_OK)
            status = list_push_text (list, model, content, false, error);
          break;
        case PONDER_ROLE_ASSISTANT:
          /* content.split('</think>')[-1]: earlier reasoning is dropped. */
          while ((after = strstr (content, "</think>")) != NULL)
            content = after + strlen ("</think>");
          status = push_id (list, model->id_assistant, error);
          if (status == PONDER_OK)
            status = list_push_text (list, model, content, false, error);
          if (status == PONDER_OK)
            status = push_id (list, model->id_eos, error);
          break;
        default:
          return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                                   "message %zu has unknown role %d", i,
                                   (int) messages[i].role);
        }
    }
  /* Generation prompt "<｜Assistant｜><think>\n"; "<think>" as text in a
   * vocabulary without the token (the 671B model). */
  if (status == PONDER_OK)
    status = push_id (list, model->id_assistant, error);
  if (status == PONDER_OK)
    status = list_push_text (list, model, "<think>\n", true, error);
  return status;
}

PonderStatus
ponder_session_chat_tokens (const PonderModel   *model,
                            const PonderMessage *messages,
                            size_t               n_messages,
                            int32_t            **out_ids,
                            size_t              *out_n_ids,
                            PonderError         *error)
{
  TokenList list = { NULL, 0, 0 };
  PonderStatus status = build_chat_prompt (model, messages, n_messages, &list, error);

  if (status != PONDER_OK)
    {
      free (list.ids);
      return status;
    }
  *out_ids = list.ids;
  *out_n_ids = list.n;
  return PONDER_OK;
}

/* ---- The loop ----------------------------------------------------------------- */

typedef struct
{
  PonderSession              *session;
  const PonderGenerateParams *params;
  PonderSampler              *sampler;
  PonderReasoningSplitter     splitter;
  PonderUtf8Stream            utf8;
  PonderStats                *stats;
  uint32_t                    pos;           /* next free position */
  bool                        stopped_by_callback;
  bool                        reasoning_open;
  double                      t_start;
  double                      t_prefilled;   /* reasoning starts here */
  double                      t_first;
  bool                        device_picks;  /* greedy, picked by the backend */
  int32_t                     picked;        /* the backend's pick for pos, or -1 */
  bool                        device_top;    /* sampled from the backend's best logits */
  bool                        top_ready;     /* fw.top holds them for pos */
} Generation;

static bool
emit_cb (PonderPieceKind kind,
         const char     *text,
         size_t          len,
         void           *user_data)
{
  Generation *gen = user_data;

  if (gen->params->on_piece == NULL)
    return true;
  if (!gen->params->on_piece (kind, text, len, gen->params->user_data))
    {
      gen->stopped_by_callback = true;
      return false;
    }
  return true;
}

/* Streams the text of one token through the UTF-8 assembler and the
 * reasoning splitter. */
static bool
stream_token (Generation *gen,
              int32_t     id)
{
  const PonderModel *model = gen->session->model;
  size_t len = 0, n_out;
  const char *bytes = ponder_tokenizer_token_bytes (model->tokenizer, id, &len);
  char out[256 + 8];
  bool open = id == model->id_think, close = id == model->id_think_end;

  if (bytes == NULL)
    return true;
  do
    {
      size_t take = len < 256 ? len : 256;

      n_out = ponder_utf8_stream_push (&gen->utf8, bytes, take, out);
      if ((n_out > 0 || open || close)
          && !ponder_reasoning_splitter_feed (&gen->splitter, out, n_out, open, close, emit_cb,
                                              gen))
        return false;
      bytes += take;
      len -= take;
    }
  while (len > 0);
  return true;
}

static bool
is_stop_token (const PonderModel *model,
               int32_t            id)
{
  return ponder_tokenizer_is_end_of_generation (model->tokenizer, id) || id == model->id_eos
         || id == model->id_user || id == model->id_assistant || id == model->id_bos;
}

/* Evaluates one token at the next position; false when the context is full. */
static bool
feed_token (Generation *gen,
            int32_t     id)
{
  PonderSession *session = gen->session;

  if (gen->pos >= session->n_ctx)
    return false;
  ponder_forward_run (&session->fw, &session->cache, &id, 1, gen->pos,
                      gen->device_picks ? PONDER_LOGITS_ARGMAX
                      : gen->device_top ? PONDER_LOGITS_TOP : PONDER_LOGITS_LAST,
                      session->logits, NULL);
  /* Nothing qualified (all NaN or masked): the host's greedy pick is 0. */
  if (gen->device_picks)
    gen->picked = session->fw.argmax_id >= 0 ? session->fw.argmax_id : 0;
  gen->top_ready = gen->device_top;
  ponder_kv_cache_commit (&session->cache, gen->pos, &id, 1);
  gen->pos++;
  return true;
}

/* Closes the think block as the model would: "</think>" then "\n\n". */
static PonderStatus
close_reasoning (Generation       *gen,
                 PonderStopReason *stop,
                 PonderError      *error)
{
  TokenList list = { NULL, 0, 0 };
  PonderStatus status = list_push_text (&list, gen->session->model, "</think>\n\n", true, error);

  for (size_t i = 0; status == PONDER_OK && i < list.n && *stop == (PonderStopReason) -1; i++)
    {
      ponder_sampler_accept (gen->sampler, list.ids[i]);
      if (!stream_token (gen, list.ids[i]))
        *stop = PONDER_STOP_CANCELLED;
      else if (!feed_token (gen, list.ids[i]))
        *stop = PONDER_STOP_CONTEXT_FULL;
    }
  free (list.ids);
  return status;
}

static int32_t
sample_top (Generation *gen)
{
  const PonderTopLogitsRecord *record = &gen->session->fw.top;
  PonderTopLogits top = { record->n_finite, record->n, record->max, record->sum_exp,
                          record->logits, record->ids };

  if (top.n > PONDER_TOP_LOGITS_CAPACITY)
    return -1;
  return ponder_sampler_sample_top (gen->sampler, &top);
}

static void
finish_reasoning_clock (Generation *gen)
{
  if (gen->reasoning_open && !gen->splitter.in_reasoning)
    {
      gen->reasoning_open = false;
      gen->stats->reasoning_time_s = ponder_now_s () - gen->t_prefilled;
    }
}

static PonderStatus
decode_loop (Generation  *gen,
             PonderError *error)
{
  PonderSession *session = gen->session;
  const PonderGenerateParams *params = gen->params;
  PonderStats *stats = gen->stats;
  PonderStopReason stop = (PonderStopReason) -1;
  PonderStatus status = PONDER_OK;
  uint32_t n_decoded = 0;
  double t_decode = 0.0;
  PonderStepCounts before, after;

  ponder_forward_step_counts (&session->fw, &before);
  while (stop == (PonderStopReason) -1)
    {
      int32_t id = gen->picked;
      bool was_reasoning = gen->splitter.in_reasoning;

      if (id < 0 && gen->top_ready)
        id = sample_top (gen);
      if (id >= 0)
        stats->n_device_picks++;
      else
        {
          /* The device's best logits did not settle the pick: all of them. */
          if (gen->top_ready
              && !ponder_forward_read_logits (&session->fw, &session->cache, session->logits))
            {
              if (error != NULL)
                *error = session->fw.error;
              return session->fw.status;
            }
          id = ponder_sampler_sample (gen->sampler, session->logits);
        }
      gen->picked = -1;
      gen->top_ready = false;

      if (stats->n_generated_tokens == 0)
        {
          gen->t_first = ponder_now_s ();
          stats->time_to_first_token_s = gen->t_first - gen->t_start;
        }
      if (!params->ignore_end_of_generation && is_stop_token (session->model, id))
        {
          stop = PONDER_STOP_END_OF_TURN;
          break;
        }
      stats->n_generated_tokens++;
      ponder_sampler_accept (gen->sampler, id);
      if (!stream_token (gen, id))
        {
          stop = PONDER_STOP_CANCELLED;
          break;
        }
      if (was_reasoning && gen->splitter.in_reasoning)
        stats->n_reasoning_tokens++;
      finish_reasoning_clock (gen);
      if (params->max_tokens > 0 && stats->n_generated_tokens >= (uint32_t) params->max_tokens)
        {
          stop = PONDER_STOP_MAX_TOKENS;
          break;
        }
      if (atomic_load (&session->cancel))
        {
          stop = PONDER_STOP_CANCELLED;
          break;
        }
      if (!feed_token (gen, id))
        {
          stop = PONDER_STOP_CONTEXT_FULL;
          break;
        }
      /* A device backend can fail (device lost, out of memory): the logits
       * were not updated, so stop with its error. */
      if (session->fw.status != PONDER_OK)
        {
          if (error != NULL)
            *error = session->fw.error;
          return session->fw.status;
        }
      n_decoded++;
      if (gen->splitter.in_reasoning
          && (atomic_load (&session->end_reasoning)
              || (params->reasoning_budget >= 0
                  && stats->n_reasoning_tokens >= (uint32_t) params->reasoning_budget)))
        {
          status = close_reasoning (gen, &stop, error);
          if (status != PONDER_OK)
            return status;
          finish_reasoning_clock (gen);
        }
    }
  t_decode = gen->t_first > 0.0 ? ponder_now_s () - gen->t_first : 0.0;
  stats->decode_tokens_per_s = t_decode > 0.0 ? n_decoded / t_decode : 0.0;
  ponder_forward_step_counts (&session->fw, &after);
  stats->n_replayed_steps = (uint32_t) (after.n_replayed - before.n_replayed);
  stats->n_recorded_steps = (uint32_t) (after.n_recorded - before.n_recorded);
  if (stats->n_replayed_steps > 0)
    stats->replay_host_ms = (after.replayed_s - before.replayed_s) * 1e3
                            / stats->n_replayed_steps;
  if (stats->n_recorded_steps > 0)
    stats->record_host_ms = (after.recorded_s - before.recorded_s) * 1e3
                            / stats->n_recorded_steps;
  if (gen->reasoning_open)
    stats->reasoning_time_s = ponder_now_s () - gen->t_prefilled;
  stats->stop_reason = stop;
  return PONDER_OK;
}

static void
flush_utf8 (Generation *gen)
{
  char out[16];
  size_t n = ponder_utf8_stream_flush (&gen->utf8, out);

  if (n > 0)
    ponder_reasoning_splitter_feed (&gen->splitter, out, n, false, false, emit_cb, gen);
}

/* Runs a whole request on prompt (owned by the caller). */
static PonderStatus
generate (PonderSession              *session,
          const int32_t              *prompt,
          size_t                      n_prompt,
          const PonderReasoningSplitter *initial,
          const PonderGenerateParams *params,
          PonderStats                *out_stats,
          PonderError                *error)
{
  PonderGenerateParams defaults = ponder_generate_params_default ();
  PonderStats stats;
  Generation gen;
  PonderStatus status;
  uint32_t reuse;
  bool greedy;
  double t_prefill;

  memset (&stats, 0, sizeof stats);
  memset (&gen, 0, sizeof gen);
  if (params == NULL)
    params = &defaults;
  status = ponder_session_check_tokens (session, prompt, n_prompt, error);
  if (status != PONDER_OK)
    return status;
  atomic_store (&session->cancel, false);
  atomic_store (&session->end_reasoning, false);
  gen.session = session;
  gen.params = params;
  gen.stats = &stats;
  gen.t_start = ponder_now_s ();
  gen.reasoning_open = initial->in_reasoning;
  gen.splitter = *initial;
  gen.sampler = new_sampler (session->model, &params->sampling);
  if (gen.sampler == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for the sampler");
  for (size_t i = 0; i < n_prompt; i++)
    ponder_sampler_accept (gen.sampler, prompt[i]);
  /* The prompt's last logits come back for the first pick either way. */
  gen.picked = -1;
  greedy = ponder_sampler_is_greedy (gen.sampler, &session->fw.argmax_masked,
                                     &session->fw.argmax_n_masked);
  gen.device_picks = greedy && session->fw.logits_device != NULL
                     && session->fw.backend->argmax != NULL;
  gen.device_top = !greedy && session->fw.logits_device != NULL
                   && session->fw.backend->top_logits != NULL
                   && ponder_sampler_top_usable (gen.sampler, PONDER_TOP_LOGITS_CAPACITY);
  session->fw.top_temperature = ponder_sampler_temperature (gen.sampler);

  reuse = ponder_kv_cache_reuse (&session->cache, prompt, (uint32_t) n_prompt);
  if (session->n_logits_known > reuse)
    session->n_logits_known = reuse;
  stats.n_prompt_tokens = (uint32_t) n_prompt;
  stats.n_reused_tokens = reuse;
  status = ponder_session_evaluate (session, prompt, reuse, (uint32_t) n_prompt, true, NULL,
                                    true, error);
  gen.t_prefilled = ponder_now_s ();
  t_prefill = gen.t_prefilled - gen.t_start;
  stats.prefill_tokens_per_s = t_prefill > 0.0 ? (n_prompt - reuse) / t_prefill : 0.0;
  gen.pos = (uint32_t) n_prompt;
  if (status == PONDER_ERROR_CANCELLED)
    {
      stats.stop_reason = PONDER_STOP_CANCELLED;
      status = PONDER_OK;
    }
  else if (status == PONDER_OK)
    {
      status = decode_loop (&gen, error);
      flush_utf8 (&gen);
      ponder_reasoning_splitter_finish (&gen.splitter, emit_cb, &gen);
      if (gen.stopped_by_callback)
        stats.stop_reason = PONDER_STOP_CANCELLED;
    }
  ponder_sampler_free (gen.sampler);
  session->fw.argmax_masked = NULL;
  session->fw.argmax_n_masked = 0;
  if (out_stats != NULL)
    *out_stats = stats;
  return status;
}

PonderStatus
ponder_session_generate_chat (PonderSession              *session,
                              const PonderMessage        *messages,
                              size_t                      n_messages,
                              const PonderGenerateParams *params,
                              PonderStats                *out_stats,
                              PonderError                *error)
{
  TokenList prompt = { NULL, 0, 0 };
  PonderStatus status;
  bool skip = params != NULL && params->skip_reasoning;

  if (session == NULL || (messages == NULL && n_messages > 0))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_session_generate_chat: session and messages must be set");
  status = build_chat_prompt (session->model, messages, n_messages, &prompt, error);
  /* skip_reasoning: an empty think block, written as the model writes it. */
  if (status == PONDER_OK && skip)
    status = list_push_text (&prompt, session->model, "</think>\n\n", true, error);
  if (status == PONDER_OK)
    {
      PonderReasoningSplitter initial;

      ponder_reasoning_splitter_init (&initial, !skip);
      status = generate (session, prompt.ids, prompt.n, &initial, params, out_stats, error);
    }
  free (prompt.ids);
  return status;
}

/* The splitter for a prompt whose assistant turn may already hold part of
 * the answer (continuing a cut-off one). The 671B model writes its tags as
 * text over several tokens, so the turn is decoded and searched as text. */
static PonderStatus
splitter_for_prompt (const PonderModel       *model,
                     const int32_t           *prompt,
                     size_t                   n_prompt,
                     PonderReasoningSplitter *out,
                     PonderError             *error)
{
  size_t start = 0, size = 0, n_text = 0;
  char *text;

  for (size_t i = n_prompt; i > 0; i--)
    if (prompt[i - 1] == model->id_assistant && model->id_assistant >= 0)
      {
        start = i;
        break;
      }
  for (size_t i = start; i < n_prompt; i++)
    {
      size_t len = 0;

      if (ponder_tokenizer_token_bytes (model->tokenizer, prompt[i], &len) != NULL)
        size += len;
    }
  text = malloc (size + 1);
  if (text == NULL)
    return ponder_error_set (error, PONDER_ERROR_NO_MEMORY, "out of memory for the prompt text");
  for (size_t i = start; i < n_prompt; i++)
    {
      size_t len = 0;
      const char *bytes = ponder_tokenizer_token_bytes (model->tokenizer, prompt[i], &len);

      if (bytes != NULL)
        {
          memcpy (text + n_text, bytes, len);
          n_text += len;
        }
    }
  text[n_text] = '\0';

  ponder_reasoning_splitter_init_continuing (out, text, n_text);
  free (text);
  return PONDER_OK;
}

PonderStatus
ponder_session_generate_tokens (PonderSession              *session,
                                const int32_t              *prompt,
                                size_t                      n_prompt,
                                const PonderGenerateParams *params,
                                PonderStats                *out_stats,
                                PonderError                *error)
{
  const PonderModel *model;
  PonderReasoningSplitter initial;
  TokenList list = { NULL, 0, 0 };
  PonderStatus status = PONDER_OK;

  if (session == NULL || (prompt == NULL && n_prompt > 0))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_session_generate_tokens: session and prompt must be set");
  model = session->model;
  status = splitter_for_prompt (model, prompt, n_prompt, &initial, error);
  if (status != PONDER_OK)
    return status;
  if (!(initial.in_reasoning && params != NULL && params->skip_reasoning))
    return generate (session, prompt, n_prompt, &initial, params, out_stats, error);
  for (size_t i = 0; i < n_prompt && status == PONDER_OK; i++)
    status = push_id (&list, prompt[i], error);
  if (status == PONDER_OK)
    status = list_push_text (&list, model, "</think>\n\n", true, error);
  ponder_reasoning_splitter_init (&initial, false);
  initial.n_newlines_stripped = 2; /* the "\n\n" just written */
  if (status == PONDER_OK)
    status = generate (session, list.ids, list.n, &initial, params, out_stats, error);
  free (list.ids);
  return status;
}
