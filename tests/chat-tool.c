/* chat-tool.c: drives the chat renderer and family detection for
 * tests/test_chat_template.py.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   chat-tool render   reads conversations on stdin until its end and writes
 *                      each rendered prompt as "LENGTH\n" and its bytes.
 *                      Input, per conversation:
 *                        FAMILY ADD_GENERATION_PROMPT(0|1) N_MESSAGES\n
 *                      then per message:
 *                        ROLE(system|user|assistant|null-*) LENGTH\n
 *                        LENGTH bytes of content, then \n
 *                      "null-ROLE" passes a NULL content.
 *   chat-tool detect FILE.gguf ...
 *                      prints one line per file: "ok FAMILY" or
 *                      "error STATUS: MESSAGE".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "gguf.h"

static int
parse_family (const char       *name,
              PonderChatFamily *out)
{
  static const PonderChatFamily families[] = {
    PONDER_CHAT_R1_DISTILL_QWEN, PONDER_CHAT_R1_DISTILL_LLAMA, PONDER_CHAT_R1_FULL,
  };

  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (strcmp (name, ponder_chat_family_name (families[i])) == 0)
      {
        *out = families[i];
        return 0;
      }
  return -1;
}

static int
parse_role (const char *name,
            PonderRole *out,
            int        *out_null)
{
  *out_null = strncmp (name, "null-", 5) == 0;
  if (*out_null)
    name += 5;
  if (strcmp (name, "system") == 0)
    *out = PONDER_ROLE_SYSTEM;
  else if (strcmp (name, "user") == 0)
    *out = PONDER_ROLE_USER;
  else if (strcmp (name, "assistant") == 0)
    *out = PONDER_ROLE_ASSISTANT;
  else
    return -1;
  return 0;
}

/* Renders one conversation; 1 at the end of the input. */
static int
render_one (void)
{
  char family_name[64], role_name[32];
  int add_generation_prompt;
  size_t n_messages;
  PonderChatFamily family;
  PonderMessage *messages;
  char *text = NULL;
  PonderError error = { 0 };

  switch (scanf ("%63s %d %zu", family_name, &add_generation_prompt, &n_messages))
    {
    case EOF:
      return 1;
    case 3:
      break;
    default:
      fprintf (stderr, "chat-tool: bad header\n");
      return 2;
    }
  if (getchar () != '\n' || parse_family (family_name, &family) != 0)
    {
      fprintf (stderr, "chat-tool: bad header\n");
      return 2;
    }
  messages = calloc (n_messages + 1, sizeof *messages);
  for (size_t i = 0; i < n_messages; i++)
    {
      size_t len;
      int is_null;
      char *content;

      if (scanf ("%31s %zu", role_name, &len) != 2 || getchar () != '\n'
          || parse_role (role_name, &messages[i].role, &is_null) != 0)
        {
          fprintf (stderr, "chat-tool: bad message header %zu\n", i);
          return 2;
        }
      content = malloc (len + 1);
      if (fread (content, 1, len, stdin) != len || getchar () != '\n')
        {
          fprintf (stderr, "chat-tool: short content in message %zu\n", i);
          return 2;
        }
      content[len] = '\0';
      messages[i].content = is_null ? NULL : content;
      if (is_null)
        free (content);
    }

  if (ponder_chat_render (family, messages, n_messages, add_generation_prompt != 0,
                          &text, &error) != PONDER_OK)
    {
      fprintf (stderr, "chat-tool: %s\n", error.message);
      return 2;
    }
  printf ("%zu\n", strlen (text));
  fwrite (text, 1, strlen (text), stdout);
  free (text);
  for (size_t i = 0; i < n_messages; i++)
    free ((char *) messages[i].content);
  free (messages);
  return 0;
}

static int
render (void)
{
  int status;

  while ((status = render_one ()) == 0)
    ;
  return status == 1 ? 0 : status;
}

static int
detect (int    argc,
        char **argv)
{
  for (int i = 0; i < argc; i++)
    {
      PonderGgufFile *file = NULL;
      PonderError error = { 0 };
      PonderChatFamily family;
      PonderStatus status = ponder_gguf_open (argv[i], &file, &error);

      if (status == PONDER_OK)
        status = ponder_chat_detect_family (file, &family, &error);
      if (status == PONDER_OK)
        printf ("ok %s\n", ponder_chat_family_name (family));
      else
        printf ("error %s: %s\n", ponder_status_name (status), error.message);
      ponder_gguf_close (file);
    }
  return 0;
}

int
main (int    argc,
      char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "render") == 0)
    return render ();
  if (argc >= 2 && strcmp (argv[1], "detect") == 0)
    return detect (argc - 2, argv + 2);
  fprintf (stderr, "usage: chat-tool render < conversation | chat-tool detect FILE...\n");
  return 2;
}
