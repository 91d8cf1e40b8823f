/* chat.c: the DeepSeek-R1 chat format: family detection and rendering.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * engine-spec.md 5.5. Ponder renders the prompt from the rules below instead
 * of running the file's Jinja template, so that every R1 file gets the same,
 * current format (GGUFs made before 2025-02-09 embed a template whose
 * generation prompt lacks "<think>\n"). tests/test_chat_template.py checks
 * the rendering against jinja2 running the real templates.
 *
 * Family detection (ponder_chat_detect_family), in order:
 *
 *  1. A non-empty tokenizer.chat_template that writes both "<｜User｜>" and
 *     "<｜Assistant｜>" is an R1 (or V3) template. Its family:
 *       - general.architecture "deepseek2" (V3/R1 671B): R1_FULL;
 *       - a template that accumulates several system messages (the 671B
 *         revision of 2025-02-09 and R1-0528, which R1-0528-Qwen3-8B
 *         shares: "is_first_sp", "ns.system_prompt + ..."): R1_FULL, since
 *         the family only decides how system prompts are rendered;
 *       - architecture "llama": R1_DISTILL_LLAMA;
 *       - anything else (qwen2, qwen3, ...): R1_DISTILL_QWEN.
 *  2. A non-empty template without the R1 markers that carries the markers of
 *     another known format (ChatML "<|im_start|>", Llama-3 headers, Mistral
 *     "[INST]", Gemma turns, Phi/Zephyr "<|user|>") is another model's chat
 *     format: PONDER_ERROR_UNSUPPORTED.
 *  3. No template, an empty one, or one we do not recognise: if the
 *     vocabulary (tokenizer.ggml.tokens) has the "<｜User｜>" and
 *     "<｜Assistant｜>" tokens, the family follows general.architecture
 *     (deepseek2 -> R1_FULL, llama -> R1_DISTILL_LLAMA, qwen2/qwen3 ->
 *     R1_DISTILL_QWEN); otherwise PONDER_ERROR_UNSUPPORTED.
 */
#include "chat.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

#define BOS_TEXT        "<｜begin▁of▁sentence｜>"
#define EOS_TEXT        "<｜end▁of▁sentence｜>"
#define USER_TEXT       "<｜User｜>"
#define ASSISTANT_TEXT  "<｜Assistant｜>"
#define THINK_CLOSE     "</think>"
#define GENERATION_TEXT ASSISTANT_TEXT "<think>\n"

/* ---- Family detection ---------------------------------------------------- */

/* Markers of chat formats that are not R1's, with a name for the message. */
static const struct
{
  const char *marker;
  const char *format;
} foreign_formats[] = {
  { "<|im_start|>", "ChatML" },
  { "<|start_header_id|>", "Llama 3" },
  { "[INST]", "Mistral/Llama 2" },
  { "<start_of_turn>", "Gemma" },
  { "<|user|>", "Phi/Zephyr" },
};

const char *
ponder_chat_family_name (PonderChatFamily family)
{
  switch (family)
    {
    case PONDER_CHAT_R1_DISTILL_QWEN: return "deepseek-r1-distill-qwen";
    case PONDER_CHAT_R1_DISTILL_LLAMA: return "deepseek-r1-distill-llama";
    case PONDER_CHAT_R1_FULL: return "deepseek-r1";
    default: return "unknown";
    }
}

/* strstr over a string that is not NUL-terminated. */
static bool
contains (PonderGgufString haystack,
          const char      *needle)
{
  size_t n = strlen (needle);

  if (n == 0)
    return true;
  for (uint64_t i = 0; i + n <= haystack.len; i++)
    if (haystack.data[i] == needle[0] && memcmp (haystack.data + i, needle, n) == 0)
      return true;
  return false;
}

static bool
vocab_has_token (const PonderGgufFile *file,
                 const char           *text)
{
  const PonderGgufKv *kv = ponder_gguf_find_kv (file, "tokenizer.ggml.tokens");

  if (kv == NULL || kv->type != PONDER_GGUF_ARRAY || kv->array_type != PONDER_GGUF_STRING
      || kv->array_strings == NULL)
    return false;
  for (uint64_t i = 0; i < kv->array_len; i++)
    if (ponder_gguf_string_equals (kv->array_strings[i], text))
      return true;
  return false;
}

static const char *
file_label (const PonderGgufFile *file)
{
  const char *path = ponder_gguf_path (file);

  return path != NULL ? path : "model file";
}

/* The family of an R1 vocabulary without a usable template. */
static PonderStatus
family_from_architecture (const PonderGgufFile *file,
                          PonderGgufString      arch,
                          bool                  have_arch,
                          PonderChatFamily     *out_family,
                          PonderError          *error)
{
  if (have_arch && ponder_gguf_string_equals (arch, "deepseek2"))
    *out_family = PONDER_CHAT_R1_FULL;
  else if (have_arch && ponder_gguf_string_equals (arch, "llama"))
    *out_family = PONDER_CHAT_R1_DISTILL_LLAMA;
  else if (have_arch && (ponder_gguf_string_equals (arch, "qwen2")
                         || ponder_gguf_string_equals (arch, "qwen3")))
    *out_family = PONDER_CHAT_R1_DISTILL_QWEN;
  else
    return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                             "%s: no DeepSeek-R1 chat template, and architecture "
                             "\"%.*s\" is not one whose R1 chat format is known "
                             "(expected qwen2, qwen3, llama or deepseek2)",
                             file_label (file),
                             have_arch ? (int) (arch.len > 64 ? 64 : arch.len) : 6,
                             have_arch ? arch.data : "(none)");
  return PONDER_OK;
}

PonderStatus
ponder_chat_detect_family (const PonderGgufFile *file,
                           PonderChatFamily     *out_family,
                           PonderError          *error)
{
  PonderGgufString tmpl = { NULL, 0 };
  PonderGgufString arch = { NULL, 0 };
  bool have_tmpl, have_arch;

  if (file == NULL || out_family == NULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_chat_detect_family: file and out_family must be set");

  have_tmpl = ponder_gguf_get_string (file, "tokenizer.chat_template", &tmpl) && tmpl.len > 0;
  have_arch = ponder_gguf_get_string (file, "general.architecture", &arch);

  if (have_tmpl && contains (tmpl, USER_TEXT) && contains (tmpl, ASSISTANT_TEXT))
    {
      if (have_arch && ponder_gguf_string_equals (arch, "deepseek2"))
        *out_family = PONDER_CHAT_R1_FULL;
      else if (contains (tmpl, "is_first_sp") || contains (tmpl, "ns.system_prompt +"))
        *out_family = PONDER_CHAT_R1_FULL;
      else if (have_arch && ponder_gguf_string_equals (arch, "llama"))
        *out_family = PONDER_CHAT_R1_DISTILL_LLAMA;
      else
        *out_family = PONDER_CHAT_R1_DISTILL_QWEN;
      return PONDER_OK;
    }

  if (have_tmpl)
    for (size_t i = 0; i < sizeof foreign_formats / sizeof foreign_formats[0]; i++)
      if (contains (tmpl, foreign_formats[i].marker))
        return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                                 "%s: the chat template is in the %s format (it writes "
                                 "\"%s\"), not DeepSeek-R1's (\"<｜User｜>\" ... "
                                 "\"<｜Assistant｜>\"); Ponder runs only DeepSeek-R1 "
                                 "models and their distills",
                                 file_label (file), foreign_formats[i].format,
                                 foreign_formats[i].marker);

  if (vocab_has_token (file, USER_TEXT) && vocab_has_token (file, ASSISTANT_TEXT))
    return family_from_architecture (file, arch, have_arch, out_family, error);

  return ponder_error_set (error, PONDER_ERROR_UNSUPPORTED,
                           "%s: %s, and the vocabulary has no \"<｜User｜>\" and "
                           "\"<｜Assistant｜>\" tokens; this is not a DeepSeek-R1 model",
                           file_label (file),
                           have_tmpl ? "the chat template is not one Ponder recognises"
                                     : "there is no chat template");
}

/* ---- Rendering ------------------------------------------------------------ */

typedef struct
{
  char  *data;
  size_t len;
  size_t cap;
} Buffer;

static bool
buffer_append (Buffer     *buf,
               const char *text,
               size_t      len)
{
  if (len > SIZE_MAX - buf->len - 1)
    return false;
  if (buf->len + len + 1 > buf->cap)
    {
      size_t cap = buf->cap ? buf->cap : 256;
      char *data;

      while (cap < buf->len + len + 1)
        cap = cap > SIZE_MAX / 2 ? buf->len + len + 1 : cap * 2;
      data = realloc (buf->data, cap);
      if (data == NULL)
        return false;
      buf->data = data;
      buf->cap = cap;
    }
  memcpy (buf->data + buf->len, text, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
  return true;
}

static bool
buffer_append_str (Buffer     *buf,
                   const char *text)
{
  return buffer_append (buf, text, strlen (text));
}

/* The part of an assistant message the templates keep: everything after the
 * last "</think>" (content.split('</think>')[-1]), else all of it. */
static const char *
answer_part (const char *content)
{
  const char *answer = content;
  const char *hit = content;

  while ((hit = strstr (hit, THINK_CLOSE)) != NULL)
    {
      hit += strlen (THINK_CLOSE);
      answer = hit;
    }
  return answer;
}

/* Distills keep only the last system message; the 671B template joins all of
 * them with "\n\n" (an empty one still adds its separator, as the template's
 * string concatenation does). */
static bool
render_system (PonderChatFamily     family,
               const PonderMessage *messages,
               size_t               n_messages,
               Buffer              *buf)
{
  const char *last = NULL;
  bool first = true;

  for (size_t i = 0; i < n_messages; i++)
    {
      const char *content = messages[i].content ? messages[i].content : "";

      if (messages[i].role != PONDER_ROLE_SYSTEM)
        continue;
      if (family != PONDER_CHAT_R1_FULL)
        {
          last = content;
          continue;
        }
      if (!first && !buffer_append_str (buf, "\n\n"))
        return false;
      if (!buffer_append_str (buf, content))
        return false;
      first = false;
    }
  return last == NULL || buffer_append_str (buf, last);
}

static bool
render_turn (const PonderMessage *message,
             Buffer              *buf)
{
  const char *content = message->content ? message->content : "";

  switch (message->role)
    {
    case PONDER_ROLE_USER:
      return buffer_append_str (buf, USER_TEXT) && buffer_append_str (buf, content);
    case PONDER_ROLE_ASSISTANT:
      return buffer_append_str (buf, ASSISTANT_TEXT)
             && buffer_append_str (buf, answer_part (content))
             && buffer_append_str (buf, EOS_TEXT);
    case PONDER_ROLE_SYSTEM:
    default:
      return true;
    }
}

PonderStatus
ponder_chat_render (PonderChatFamily     family,
                    const PonderMessage *messages,
                    size_t               n_messages,
                    bool                 add_generation_prompt,
                    char               **out_text,
                    PonderError         *error)
{
  Buffer buf = { NULL, 0, 0 };
  bool ok;

  if (out_text == NULL || (messages == NULL && n_messages > 0))
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_chat_render: messages and out_text must be set");
  if (family != PONDER_CHAT_R1_DISTILL_QWEN && family != PONDER_CHAT_R1_DISTILL_LLAMA
      && family != PONDER_CHAT_R1_FULL)
    return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                             "ponder_chat_render: unknown chat family %d", (int) family);
  for (size_t i = 0; i < n_messages; i++)
    if (messages[i].role != PONDER_ROLE_SYSTEM && messages[i].role != PONDER_ROLE_USER
        && messages[i].role != PONDER_ROLE_ASSISTANT)
      return ponder_error_set (error, PONDER_ERROR_INVALID_ARGUMENT,
                               "ponder_chat_render: message %zu has unknown role %d",
                               i, (int) messages[i].role);

  ok = buffer_append_str (&buf, BOS_TEXT) && render_system (family, messages, n_messages, &buf);
  for (size_t i = 0; ok && i < n_messages; i++)
    ok = render_turn (&messages[i], &buf);
  if (ok && add_generation_prompt)
    ok = buffer_append_str (&buf, GENERATION_TEXT);
  if (!ok)
    {
      free (buf.data);
      return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                               "ponder_chat_render: out of memory rendering %zu messages",
                               n_messages);
    }
  *out_text = buf.data;
  return PONDER_OK;
}
