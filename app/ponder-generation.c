/* ponder-generation.c — one chat generation on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ponder-generation"

#include "ponder-generation.h"

#include <gio/gio.h>

struct _PonderGeneration
{
  PonderSession        *session;   /* borrowed; the caller keeps it alive */
  PonderMessage        *messages;  /* [n_messages], strings owned below */
  GStrv                 contents;
  gsize                 n_messages;
  int32_t              *prompt;    /* [n_prompt], or NULL: render messages */
  gsize                 n_prompt;
  PonderGenerateParams  params;
  GThread              *thread;

  GMutex                lock;      /* guards everything below */
  GString              *reasoning; /* pieces not yet taken */
  GString              *answer;
  gboolean              done;
  PonderStatus          status;
  PonderStats           stats;
  char                 *message;
};

static bool
on_piece (PonderPieceKind  kind,
          const char      *text,
          size_t           len,
          void            *user_data)
{
  PonderGeneration *self = user_data;

  g_mutex_lock (&self->lock);
  g_string_append_len (kind == PONDER_PIECE_REASONING ? self->reasoning : self->answer,
                       text, len);
  g_mutex_unlock (&self->lock);

  return true;
}

static gpointer
generation_thread (gpointer data)
{
  PonderGeneration *self = data;
  PonderStats stats = { 0 };
  PonderError error = { 0 };
  PonderStatus status;

  if (self->prompt != NULL)
    status = ponder_session_generate_tokens (self->session, self->prompt, self->n_prompt,
                                             &self->params, &stats, &error);
  else
    status = ponder_session_generate_chat (self->session, self->messages, self->n_messages,
                                           &self->params, &stats, &error);

  g_mutex_lock (&self->lock);
  self->status = status;
  self->stats = stats;
  if (status != PONDER_OK)
    self->message = g_strdup (error.message);
  self->done = TRUE;
  g_mutex_unlock (&self->lock);

  return NULL;
}

/**
 * ponder_generation_start:
 * @session: an idle session, used only by this generation until it is freed
 *
 * Copies @messages and starts generating on a new thread.
 */
PonderGeneration *
ponder_generation_start (PonderSession              *session,
                         const PonderMessage        *messages,
                         gsize                       n_messages,
                         const PonderGenerateParams *params)
{
  PonderGeneration *self;
  gsize i;

  g_return_val_if_fail (session != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);

  self = g_new0 (PonderGeneration, 1);
  self->session = session;
  self->n_messages = n_messages;
  self->messages = g_new0 (PonderMessage, MAX (n_messages, 1));
  self->contents = g_new0 (char *, n_messages + 1);
  for (i = 0; i < n_messages; i++)
    {
      self->contents[i] = g_strdup (messages[i].content);
      self->messages[i].role = messages[i].role;
      self->messages[i].content = self->contents[i];
    }
  self->params = *params;
  self->params.on_piece = on_piece;
  self->params.user_data = self;
  g_mutex_init (&self->lock);
  self->reasoning = g_string_new (NULL);
  self->answer = g_string_new (NULL);
  self->thread = g_thread_new ("[ponder-generate]", generation_thread, self);

  return self;
}

/**
 * ponder_generation_start_tokens:
 * @prompt: (array length=n_prompt): prompt tokens, BOS included; copied
 *
 * Like ponder_generation_start(), from tokens the caller rendered: how an
 * answer cut off by the token limit goes on from its saved text (the engine
 * reuses the cached prefix and stays in the think block if it is open).
 */
PonderGeneration *
ponder_generation_start_tokens (PonderSession              *session,
                                const int32_t              *prompt,
                                gsize                       n_prompt,
                                const PonderGenerateParams *params)
{
  PonderGeneration *self;

  g_return_val_if_fail (session != NULL, NULL);
  g_return_val_if_fail (prompt != NULL && n_prompt > 0, NULL);
  g_return_val_if_fail (params != NULL, NULL);

  self = g_new0 (PonderGeneration, 1);
  self->session = session;
  self->messages = g_new0 (PonderMessage, 1);
  self->contents = g_new0 (char *, 1);
  self->prompt = g_memdup2 (prompt, n_prompt * sizeof (int32_t));
  self->n_prompt = n_prompt;
  self->params = *params;
  self->params.on_piece = on_piece;
  self->params.user_data = self;
  g_mutex_init (&self->lock);
  self->reasoning = g_string_new (NULL);
  self->answer = g_string_new (NULL);
  self->thread = g_thread_new ("[ponder-generate]", generation_thread, self);

  return self;
}

/**
 * ponder_generation_take:
 * @reasoning: the reasoning pieces since the last call are appended here
 * @answer: the same for answer pieces
 * @out_stats: (optional): filled once the generation has ended
 *
 * Returns: TRUE once the generation has ended (then @error is set if it
 *   failed, cancellation excepted); FALSE while it runs
 */
gboolean
ponder_generation_take (PonderGeneration  *self,
                        GString           *reasoning,
                        GString           *answer,
                        PonderStats       *out_stats,
                        GError           **error)
{
  gboolean done;

  g_return_val_if_fail (self != NULL, TRUE);

  g_mutex_lock (&self->lock);
  g_string_append_len (reasoning, self->reasoning->str, self->reasoning->len);
  g_string_append_len (answer, self->answer->str, self->answer->len);
  g_string_truncate (self->reasoning, 0);
  g_string_truncate (self->answer, 0);
  done = self->done;
  if (done && out_stats != NULL)
    *out_stats = self->stats;
  if (done && self->status != PONDER_OK && self->status != PONDER_ERROR_CANCELLED)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s",
                 ponder_status_name (self->status),
                 self->message != NULL ? self->message : "");
  g_mutex_unlock (&self->lock);

  return done;
}

void
ponder_generation_cancel (PonderGeneration *self)
{
  g_return_if_fail (self != NULL);

  ponder_session_cancel (self->session);
}

void
ponder_generation_end_reasoning (PonderGeneration *self)
{
  g_return_if_fail (self != NULL);

  ponder_session_end_reasoning (self->session);
}

/* Cancels if still running and waits for the thread. */
void
ponder_generation_free (PonderGeneration *self)
{
  gboolean done;

  if (self == NULL)
    return;

  g_mutex_lock (&self->lock);
  done = self->done;
  g_mutex_unlock (&self->lock);
  if (!done)
    ponder_session_cancel (self->session);
  g_thread_join (self->thread);

  g_mutex_clear (&self->lock);
  g_string_free (self->reasoning, TRUE);
  g_string_free (self->answer, TRUE);
  g_free (self->message);
  g_strfreev (self->contents);
  g_free (self->prompt);
  g_free (self->messages);
  g_free (self);
}
