/* unicode.c: UTF-8 helpers, GPT-2's byte map, NFC and streaming UTF-8.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "tokenizer-private.h"
#include "tokenizer.h"
#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

/* GPT-2 writes the printable bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF as the
 * code point of the same value and the other 68 bytes, in increasing order,
 * as U+0100, U+0101, ... so that no token contains whitespace or control
 * characters (engine-spec.md 5.2 step 3). */
static bool
byte_is_printable (uint8_t byte)
{
  return (byte >= 0x21 && byte <= 0x7E)
         || (byte >= 0xA1 && byte <= 0xAC)
         || (byte >= 0xAE);
}

/* The 68 non-printable bytes in order are 0x00-0x20 (33), 0x7F-0xA0 (34)
 * and 0xAD (1). */
uint32_t
ponder_unicode_byte_to_cp (uint8_t byte)
{
  if (byte_is_printable (byte))
    return byte;
  if (byte <= 0x20)
    return 0x100 + byte;
  if (byte <= 0xA0)
    return 0x100 + 33 + (byte - 0x7F);
  return 0x100 + 67;   /* 0xAD, the soft hyphen */
}

int
ponder_unicode_cp_to_byte (uint32_t cp)
{
  uint32_t n;

  if (cp < 0x100)
    return byte_is_printable ((uint8_t) cp) ? (int) cp : -1;
  if (cp >= 0x100 + 68)
    return -1;
  n = cp - 0x100;
  if (n < 33)
    return (int) n;
  if (n < 67)
    return (int) (0x7F + n - 33);
  return 0xAD;
}

size_t
ponder_unicode_encode_utf8 (uint32_t cp,
                            char    *out)
{
  if (cp < 0x80)
    {
      out[0] = (char) cp;
      return 1;
    }
  if (cp < 0x800)
    {
      out[0] = (char) (0xC0 | (cp >> 6));
      out[1] = (char) (0x80 | (cp & 0x3F));
      return 2;
    }
  if (cp < 0x10000)
    {
      out[0] = (char) (0xE0 | (cp >> 12));
      out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
      out[2] = (char) (0x80 | (cp & 0x3F));
      return 3;
    }
  out[0] = (char) (0xF0 | (cp >> 18));
  out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char) (0x80 | (cp & 0x3F));
  return 4;
}

typedef enum
{
  SCAN_COMPLETE,  /* a whole well-formed character */
  SCAN_INVALID,   /* an ill-formed maximal subpart (Unicode 3.9, D93b) */
  SCAN_TRUNCATED, /* a well-formed prefix that runs to the end of the bytes */
} ScanResult;

/* Classifies the bytes at s as in Unicode's table 3-7 of well-formed
 * sequences; *out_n is the length of the character or of the subpart. */
static ScanResult
scan_utf8 (const uint8_t *s,
           size_t         len,
           size_t        *out_n,
           uint32_t      *out_cp)
{
  uint8_t lead = s[0];
  size_t need;
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
  uint32_t cp;

  if (lead < 0x80)
    {
      *out_n = 1;
      *out_cp = lead;
      return SCAN_COMPLETE;
    }
  if (lead >= 0xC2 && lead <= 0xDF)
    need = 1, cp = lead & 0x1F;
  else if (lead >= 0xE0 && lead <= 0xEF)
    {
      need = 2, cp = lead & 0x0F;
      if (lead == 0xE0)
        lo = 0xA0;
      else if (lead == 0xED)
        hi = 0x9F;   /* no surrogates */
    }
  else if (lead >= 0xF0 && lead <= 0xF4)
    {
      need = 3, cp = lead & 0x07;
      if (lead == 0xF0)
        lo = 0x90;
      else if (lead == 0xF4)
        hi = 0x8F;   /* nothing above U+10FFFF */
    }
  else
    {
      *out_n = 1;
      return SCAN_INVALID;
    }

  for (size_t i = 1; i <= need; i++)
    {
      if (i >= len)
        {
          *out_n = i;
          return SCAN_TRUNCATED;
        }
      if (s[i] < lo || s[i] > hi)
        {
          *out_n = i;
          return SCAN_INVALID;
        }
      cp = (cp << 6) | (s[i] & 0x3F);
      lo = 0x80;
      hi = 0xBF;
    }
  *out_n = need + 1;
  *out_cp = cp;
  return SCAN_COMPLETE;
}

size_t
ponder_unicode_decode_utf8 (const char *text,
                            size_t      len,
                            uint32_t   *out_cp)
{
  size_t n;

  if (len == 0)
    return 0;
  if (scan_utf8 ((const uint8_t *) text, len, &n, out_cp) != SCAN_COMPLETE)
    return 0;
  return n;
}

size_t
ponder_unicode_valid_prefix (const char *text,
                             size_t      len)
{
  size_t pos = 0;
  size_t n;
  uint32_t cp;

  while (pos < len)
    {
      if ((uint8_t) text[pos] < 0x80)
        {
          pos++;
          continue;
        }
      if (scan_utf8 ((const uint8_t *) text + pos, len - pos, &n, &cp) != SCAN_COMPLETE)
        break;
      pos += n;
    }
  return pos;
}

PonderStatus
ponder_unicode_nfc (const char   *text,
                    size_t        len,
                    char        **out_text,
                    size_t       *out_len,
                    PonderError  *error)
{
  bool ascii = true;
  uint8_t *normal;
  size_t normal_len = 0;

  for (size_t i = 0; i < len && ascii; i++)
    ascii = (uint8_t) text[i] < 0x80;
  if (ascii)
    {
      /* ASCII is already NFC; skip libunistring's tables. */
      *out_text = malloc (len + 1);
      if (*out_text == NULL)
        return ponder_error_set (error, PONDER_ERROR_NO_MEMORY,
                                 "tokenizer: out of memory copying %zu bytes", len);
      memcpy (*out_text, text, len);
      *out_len = len;
      return PONDER_OK;
    }

  normal = u8_normalize (UNINORM_NFC, (const uint8_t *) text, len, NULL, &normal_len);
  if (normal == NULL)
    return ponder_error_set (error, errno == ENOMEM ? PONDER_ERROR_NO_MEMORY
                                                    : PONDER_ERROR_INVALID_ARGUMENT,
                             "tokenizer: NFC normalisation of %zu bytes failed: %s",
                             len, strerror (errno));
  *out_text = (char *) normal;
  *out_len = normal_len;
  return PONDER_OK;
}

/* ---- Streaming UTF-8 ------------------------------------------------------ */

/* Writes U+FFFD for an ill-formed subpart, or '?' in the rare case where
 * three bytes would break the promise that the output fits in len + 8
 * bytes: 'written + remaining' never grows past that bound, because '?' is
 * never longer than the subpart it replaces. */
static size_t
put_replacement (char   *out,
                 size_t  written,
                 size_t  remaining_after,
                 size_t  budget)
{
  if (written + 3 + remaining_after <= budget)
    {
      memcpy (out + written, "\xEF\xBF\xBD", 3);
      return 3;
    }
  out[written] = '?';
  return 1;
}

size_t
ponder_utf8_stream_push (PonderUtf8Stream *stream,
                         const char       *bytes,
                         size_t            len,
                         char             *out)
{
  uint8_t head[16];    /* pending + up to 4 new bytes */
  size_t n_head;
  size_t n_pending = stream->n_pending;
  size_t budget = len + 8;
  size_t total;       /* bytes of the virtual pending + bytes */
  size_t pos = 0;
  size_t written = 0;
  size_t n;
  uint32_t cp;
  ScanResult result;

  if (n_pending > 4)
    n_pending = 4;    /* a corrupted stream struct must not overflow head */
  total = n_pending + len;
  memcpy (head, stream->pending, n_pending);
  n_head = n_pending + (len < 4 ? len : 4);
  if (n_head > n_pending)     /* bytes may be NULL when len is 0 */
    memcpy (head + n_pending, bytes, n_head - n_pending);
  stream->n_pending = 0;

  /* Characters that start in the pending bytes are scanned in head, which
   * holds enough new bytes to finish any of them. */
  while (pos < n_pending)
    {
      result = scan_utf8 (head + pos, n_head - pos, &n, &cp);
      if (result == SCAN_TRUNCATED)
        {
          /* head holds all the input: keep the tail for the next push. */
          memcpy (stream->pending, head + pos, n_head - pos);
          stream->n_pending = n_head - pos;
          return written;
        }
      if (result == SCAN_COMPLETE)
        {
          memcpy (out + written, head + pos, n);
          written += n;
        }
      else
        written += put_replacement (out, written, total - pos - n, budget);
      pos += n;
    }

  while (pos < total)
    {
      const uint8_t *s = (const uint8_t *) bytes + (pos - n_pending);

      result = scan_utf8 (s, total - pos, &n, &cp);
      if (result == SCAN_TRUNCATED)
        {
          memcpy (stream->pending, s, total - pos);
          stream->n_pending = total - pos;
          return written;
        }
      if (result == SCAN_COMPLETE)
        {
          memcpy (out + written, s, n);
          written += n;
        }
      else
        written += put_replacement (out, written, total - pos - n, budget);
      pos += n;
    }
  return written;
}

size_t
ponder_utf8_stream_flush (PonderUtf8Stream *stream,
                          char             *out)
{
  if (stream->n_pending == 0)
    return 0;
  /* A truncated sequence is one maximal subpart: one U+FFFD. */
  stream->n_pending = 0;
  memcpy (out, "\xEF\xBF\xBD", 3);
  return 3;
}
