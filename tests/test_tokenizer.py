# test_tokenizer.py: the engine's tokenizer against reference token ids.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test_tokenizer.py TOKENIZE_TOOL
#
# The references are independent of Ponder: llama.cpp's own .inp/.out test
# vectors and Hugging Face tokenizers' ids in shared/testdata/tokenizer
# (README.md there), the special-token ids listed in that README, Python's
# UTF-8 decoder for the streaming decoder, and gguf_writer.py for hostile
# vocabularies. Prints TAP.

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_writer import GGUFWriter, GGUFValueType, read_gguf  # noqa: E402

TOOL = sys.argv[1]
DATA = os.path.join(os.environ.get('PONDER_SHARED_TESTDATA',
                                   os.path.join(os.path.dirname(__file__), '..', '..',
                                                'shared', 'testdata')), 'tokenizer')

QWEN = {'vocab-qwen3.gguf', 'vocab-deepseek-r1-qwen.gguf'}

# llama.cpp-format vectors: (vocab to load, vector file base name)
INP_OUT = [
    ('vocab-qwen3.gguf', 'vocab-qwen3.gguf'),
    ('vocab-deepseek-r1-qwen.gguf', 'vocab-deepseek-r1-qwen.gguf'),
    ('vocab-llama3.gguf', 'vocab-llama3.gguf'),
    ('vocab-deepseek-v3.gguf', 'vocab-deepseek-v3.gguf'),
    ('vocab-qwen3.gguf', 'ggml-vocab-qwen2.gguf'),
    ('vocab-deepseek-r1-qwen.gguf', 'ggml-vocab-qwen2.gguf'),
    ('vocab-llama3.gguf', 'ggml-vocab-llama-bpe.gguf'),
    ('ggml-vocab-deepseek-llm.gguf', 'ggml-vocab-deepseek-llm.gguf'),
    ('ggml-vocab-deepseek-coder.gguf', 'ggml-vocab-deepseek-coder.gguf'),
]

# name -> (vocab, add_bos per README.md's table, bos id)
JSONL = {
    'qwen3': ('vocab-qwen3.gguf', False, 151643),
    'llama3': ('vocab-llama3.gguf', True, 128000),
    'deepseek-v3': ('vocab-deepseek-v3.gguf', True, 0),
    'deepseek-r1-qwen': ('vocab-deepseek-r1-qwen.gguf', True, 151646),
}

# Special-token ids from README.md / engine-spec.md 5.4 (vocab -> {text: id}).
SPECIAL_IDS = {
    'vocab-deepseek-r1-qwen.gguf': {
        '<｜end▁of▁sentence｜>': 151643, '<｜User｜>': 151644, '<｜Assistant｜>': 151645,
        '<｜begin▁of▁sentence｜>': 151646, '<|EOT|>': 151647, '<think>': 151648,
        '</think>': 151649, '<tool_call>': 151657, '<|file_sep|>': 151664,
    },
    'vocab-qwen3.gguf': {
        '<|endoftext|>': 151643, '<|im_start|>': 151644, '<|im_end|>': 151645,
        '<tool_call>': 151657, '<tool_response>': 151665, '<think>': 151667,
        '</think>': 151668, '<｜User｜>': -1,
    },
    'vocab-llama3.gguf': {
        '<|begin_of_text|>': 128000, '<|end_of_text|>': 128001,
        '<|start_header_id|>': 128006, '<|end_header_id|>': 128007, '<|eot_id|>': 128009,
    },
    'vocab-deepseek-v3.gguf': {
        '<｜begin▁of▁sentence｜>': 0, '<｜end▁of▁sentence｜>': 1, '<｜User｜>': 128803,
        '<｜Assistant｜>': 128804, '<|EOT|>': 128805, '<｜tool▁sep｜>': 128814,
        '<think>': -1, 'hello': -1,
    },
}

# End of generation: (vocab, id, expected)
EOG = [
    ('vocab-deepseek-r1-qwen.gguf', 151643, True), ('vocab-deepseek-r1-qwen.gguf', 151644, True),
    ('vocab-deepseek-r1-qwen.gguf', 151648, False), ('vocab-deepseek-r1-qwen.gguf', 9707, False),
    ('vocab-qwen3.gguf', 151645, True), ('vocab-qwen3.gguf', 151667, False),
    ('vocab-llama3.gguf', 128009, True), ('vocab-llama3.gguf', 128006, False),
    ('vocab-deepseek-v3.gguf', 1, True), ('vocab-deepseek-v3.gguf', 128803, True),
    ('vocab-deepseek-v3.gguf', 30, False),
]

results = []


def check(ok, name, detail=''):
    results.append((bool(ok), name, detail))


class Tool:
    def __init__(self, vocab_path):
        self.proc = subprocess.Popen([TOOL, vocab_path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ask(self, header, payload=b''):
        self.proc.stdin.write(header.encode() + b'\n' + payload)
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().decode('utf-8', 'replace').rstrip('\n')
        if not line.startswith('ok'):
            raise RuntimeError('tokenize-tool said: %r (rc %s)' % (line, self.proc.poll()))
        return line[3:]

    def encode(self, text, parse_special=False):
        data = text.encode('utf-8') if isinstance(text, str) else text
        reply = self.ask('e %d %d' % (1 if parse_special else 0, len(data)), data)
        return [int(x) for x in reply.split()]

    def decode(self, ids):
        return bytes.fromhex(self.ask('d %d %s' % (len(ids), ' '.join(map(str, ids)))))

    def stream(self, ids):
        reply = self.ask('s %d %s' % (len(ids), ' '.join(map(str, ids))))
        return [bytes.fromhex(chunk) for chunk in reply.split(',')]

    def stream_bytes(self, data):
        reply = self.ask('u %d' % len(data), data)
        return [bytes.fromhex(chunk) for chunk in reply.split(',')]

    def close(self):
        self.proc.stdin.close()
        rc = self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc


tools = {}


def tool(vocab):
    if vocab not in tools:
        tools[vocab] = Tool(os.path.join(DATA, vocab))
    return tools[vocab]


def expected_text(vocab, text):
    return unicodedata.normalize('NFC', text) if vocab in QWEN else text


def check_round_trip(vocab, label, text, ids):
    """decode(ids) == text, and the streaming decode emits only whole UTF-8."""
    t = tool(vocab)
    want = expected_text(vocab, text).encode('utf-8')
    got = t.decode(ids)
    chunks = t.stream(ids)
    whole = True
    for chunk in chunks:
        try:
            chunk.decode('utf-8', 'strict')
        except UnicodeDecodeError:
            whole = False
    return got == want and whole and b''.join(chunks) == want


def read_inp_out(base):
    with open(os.path.join(DATA, base + '.inp'), 'rb') as f:
        texts = f.read().decode('utf-8').split('\n__ggml_vocab_test__\n')[:-1]
    with open(os.path.join(DATA, base + '.out'), 'r', encoding='utf-8') as f:
        outs = [[int(x) for x in line.split()] for line in f.read().split('\n')[:len(texts)]]
    return list(zip(texts, outs))


def test_inp_out():
    for vocab, base in INP_OUT:
        cases = read_inp_out(base)
        n_ids = n_trip = 0
        for i, (text, want) in enumerate(cases):
            got = tool(vocab).encode(text)
            if got == want:
                n_ids += 1
            else:
                print('# %s with %s, case %d %r:\n#   want %s\n#   got  %s'
                      % (base, vocab, i, text[:60], want, got))
            if check_round_trip(vocab, base, text, want):
                n_trip += 1
            else:
                print('# round trip failed: %s case %d %r' % (base, i, text[:60]))
        check(n_ids == len(cases), '%s.out with %s: %d/%d ids' % (base, vocab, n_ids, len(cases)))
        check(n_trip == len(cases),
              '%s with %s: decode and stream %d/%d' % (base, vocab, n_trip, len(cases)))


def test_jsonl():
    for name, (vocab, add_bos, bos) in JSONL.items():
        t = tool(vocab)
        info = t.ask('i').split()
        check(int(info[1]) == bos and int(info[3]) == int(add_bos),
              '%s: bos %d, add_bos %s' % (vocab, bos, add_bos), repr(info))
        for suffix, special in (('.jsonl', False), ('.special.jsonl', True)):
            with open(os.path.join(DATA, name + suffix), encoding='utf-8') as f:
                rows = [json.loads(line) for line in f if line.strip()]
            n_ids = n_add = n_trip = 0
            for row in rows:
                got = t.encode(row['text'], parse_special=special)
                if got == row['ids']:
                    n_ids += 1
                else:
                    print('# %s%s %r:\n#   want %s\n#   got  %s'
                          % (name, suffix, row['text'][:60], row['ids'], got))
                if special:
                    # BOS as the GGUF says; nothing else is added (no EOS).
                    with_bos = ([bos] if add_bos else []) + got
                    n_add += with_bos == row['ids_add_special']
                n_trip += check_round_trip(vocab, name, row['text'], row['ids'])
            check(n_ids == len(rows), '%s%s: %d/%d ids' % (name, suffix, n_ids, len(rows)))
            if special:
                check(n_add == len(rows),
                      '%s%s: %d/%d ids_add_special' % (name, suffix, n_add, len(rows)))
            check(n_trip == len(rows),
                  '%s%s: decode and stream %d/%d' % (name, suffix, n_trip, len(rows)))


def test_special_lookup():
    for vocab, table in SPECIAL_IDS.items():
        t = tool(vocab)
        bad = []
        for text, want in table.items():
            data = text.encode('utf-8')
            got = int(t.ask('f %d' % len(data), data))
            if got != want:
                bad.append((text, want, got))
        check(not bad, '%s: find_token of %d strings' % (vocab, len(table)), repr(bad))
    bad = [(v, i, want) for v, i, want in EOG if int(tool(v).ask('g %d' % i)) != int(want)]
    check(not bad, 'end-of-generation ids', repr(bad))


def test_parse_special_off():
    # Control tokens stay text without parse_special; added (user-defined)
    # ones like <think> are still recognised, as in llama.cpp and HF.
    t = tool('vocab-deepseek-r1-qwen.gguf')
    ids = t.encode('<｜User｜>hi<think>', parse_special=False)
    check(151644 not in ids and ids[-1] == 151648, 'R1-Qwen: <｜User｜> is text, <think> a token '
          'without parse_special', repr(ids))
    ids = t.encode('<｜User｜>hi<think>', parse_special=True)
    check(ids[0] == 151644 and ids[-1] == 151648, 'R1-Qwen: both tokens with parse_special',
          repr(ids))


def test_invalid_utf8():
    for vocab in JSONL.values():
        t = tool(vocab[0])
        data = b'ab\xff\xfe c\xe4\xb8 d\xed\xa0\x80\xc0\xaf x\xe4'
        ids = t.encode(data)
        check(t.decode(ids) == data, '%s: ill-formed UTF-8 input round-trips byte for byte'
              % vocab[0], repr(ids))


def test_stream_bytes():
    # Python's decoder replaces each maximal ill-formed subpart with one
    # U+FFFD (Unicode 3.9 D93b), which is what the stream promises.
    t = tool('vocab-qwen3.gguf')
    cases = [b'plain', 'héllo wörld 🦙 中文'.encode(), b'\xe4\xb8a', b'\xff\xfe\xfd',
             b'\xf0\x9f\xa6', b'a\xed\xa0\x80b', b'\xc0\xafz', b'\xf4\x90\x80\x80',
             b'\xe2\x82\xac\x80', '🦙'.encode()[:3] + '🦙'.encode()]
    bad = []
    for data in cases:
        chunks = t.stream_bytes(data)
        joined = b''.join(chunks)
        whole = all(c.decode('utf-8', 'strict') is not None for c in chunks)
        if joined != data.decode('utf-8', 'replace').encode('utf-8') or not whole:
            bad.append((data, chunks))
    check(not bad, 'streaming UTF-8 of %d byte strings, one byte per push' % len(cases),
          repr(bad))


def test_long_line():
    # 100 KB of one line must not blow up quadratically (BPE heap, regex
    # back-tracking). Printed, not asserted on time.
    rng = random.Random(7)
    words = ['hello', 'world', ' ', '  ', '123456', 'naïve', '中文字符', '🦙', '...', '\t']
    samples = {
        'letters': 'a' * 100000,
        'spaces': ' ' * 100000 + 'x',
        'digits': '7' * 100000,
        'mixed': ''.join(rng.choice(words) for _ in range(20000))[:100000],
    }
    for vocab in ['vocab-qwen3.gguf', 'vocab-llama3.gguf', 'vocab-deepseek-v3.gguf',
                  'ggml-vocab-deepseek-llm.gguf', 'ggml-vocab-deepseek-coder.gguf']:
        for label, text in samples.items():
            data = text.encode('utf-8')
            start = time.monotonic()
            reply = tool(vocab).ask('t 0 %d' % len(data), data).split()
            wall = time.monotonic() - start
            print('# %s %s: %d bytes -> %s tokens in %s ms (%.0f ms wall)'
                  % (vocab, label, len(data), reply[0], reply[1], wall * 1e3))
            check(int(reply[0]) > 0, '%s: 100 KB line of %s' % (vocab, label))


def test_random_round_trip():
    # decode(encode(x)) == x (NFC(x) for Qwen) for random mixtures of the
    # characters tokenizers find hard, with and without special parsing.
    rng = random.Random(11)
    alphabet = (list('aZ09 \t\n\r\'"<>|!~.,-_') + ['é', 'e\u0301', 'Å', '\u212b', 'ß',
                'я', 'ع', 'ह', '中', 'の', 'カ', '한', '🦙', '👍🏽', '\u200b', '\ufeff',
                '\u00a0', '\u3000', '１', '٣', '<think>', '</think>', '<|im_end|>',
                '<｜User｜>', '<｜Assistant｜>', '<｜end▁of▁sentence｜>', '<|EOT|>', "'S", "'ll"])
    for vocab in ['vocab-qwen3.gguf', 'vocab-deepseek-r1-qwen.gguf', 'vocab-llama3.gguf',
                  'vocab-deepseek-v3.gguf', 'ggml-vocab-deepseek-llm.gguf',
                  'ggml-vocab-deepseek-coder.gguf']:
        t = tool(vocab)
        bad = []
        for i in range(150):
            text = ''.join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            ids = t.encode(text, parse_special=bool(i % 2))
            if t.decode(ids) != expected_text(vocab, text).encode('utf-8'):
                bad.append(text)
        for i in range(50):
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 30)))
            if vocab not in QWEN and t.decode(t.encode(data)) != data:
                bad.append(data)
        check(not bad, '%s: 200 random strings round-trip' % vocab, repr(bad[:3]))


def test_special_scan_cost():
    # Every position of a special-looking text probes the special index;
    # make sure that stays linear (printed, not asserted on time).
    data = ('<｜' * 20000 + '<|' * 20000).encode('utf-8')
    for vocab in ['vocab-deepseek-v3.gguf', 'vocab-llama3.gguf']:
        start = time.monotonic()
        reply = tool(vocab).ask('t 1 %d' % len(data), data).split()
        print('# %s: %d bytes of special-token prefixes -> %s tokens in %s ms (%.0f ms wall)'
              % (vocab, len(data), reply[0], reply[1], (time.monotonic() - start) * 1e3))
        check(int(reply[0]) > 0, '%s: long text of special-token prefixes' % vocab)


def write_vocab(path, tokens=None, types=None, merges=None, pre='qwen2', model='gpt2',
                extra=None, drop=()):
    tokens = ['a', 'b', 'c', 'ab', 'abc', '<s>'] if tokens is None else tokens
    w = GGUFWriter(path)
    w.add_string('general.architecture', 'qwen2')
    if 'model' not in drop:
        w.add_string('tokenizer.ggml.model', model)
    if pre is not None:
        w.add_string('tokenizer.ggml.pre', pre)
    if 'tokens' not in drop:
        w.add_array('tokenizer.ggml.tokens', tokens, GGUFValueType.STRING)
    if 'types' not in drop:
        w.add_array('tokenizer.ggml.token_type',
                    [1] * (len(tokens) - 1) + [3] if types is None else types,
                    GGUFValueType.INT32)
    if 'merges' not in drop:
        w.add_array('tokenizer.ggml.merges', ['a b', 'ab c'] if merges is None else merges,
                    GGUFValueType.STRING)
    for key, (value_type, value) in (extra or {}).items():
        w.add_kv(key, value_type, value)
    w.write()


def test_hostile_vocabs():
    cases = [
        ('valid', {}, None),
        ('unknown pre', {'pre': 'mystery-pre'}, ('unsupported', 'mystery-pre')),
        ('not gpt2', {'model': 'llama'}, ('unsupported', 'llama')),
        ('no tokens', {'drop': ('tokens',)}, ('format error', 'tokenizer.ggml.tokens')),
        ('empty vocab', {'tokens': [], 'types': [], 'merges': []},
         ('format error', 'tokenizer.ggml.tokens')),
        ('short token_type', {'types': [1, 1, 1]}, ('format error', 'token_type')),
        ('bad token_type', {'types': [1, 1, 1, 1, 99, 3]}, ('format error', 'token_type')),
        ('merge of a missing token', {'merges': ['a b', 'ab zz']}, ('format error', 'zz')),
        ('merge without space', {'merges': ['ab']}, ('format error', 'merges[0]')),
        ('merge with missing result', {'merges': ['b c']}, ('format error', 'bc')),
        ('no merges', {'drop': ('merges',)}, ('format error', 'merges')),
        ('no token_type (optional)', {'drop': ('types',)}, None),
        ('bos out of range', {'extra': {'tokenizer.ggml.bos_token_id':
                                        (GGUFValueType.UINT32, 1000)}},
         ('format error', 'bos_token_id')),
        ('bos as string', {'extra': {'tokenizer.ggml.bos_token_id':
                                     (GGUFValueType.STRING, 'x')}},
         ('format error', 'bos_token_id')),
        ('pre as int', {'pre': None, 'extra': {'tokenizer.ggml.pre': (GGUFValueType.UINT32, 3)}},
         ('format error', 'tokenizer.ggml.pre')),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for label, kwargs, want in cases:
            path = os.path.join(tmp, 'hostile.gguf')
            write_vocab(path, **kwargs)
            proc = subprocess.run([TOOL, path], input=b'e 0 3\nabc', capture_output=True)
            out = proc.stdout.decode('utf-8', 'replace')
            if want is None:
                check(proc.returncode == 0 and out.strip() == 'ok 4',
                      'hostile vocab: %s loads and encodes' % label, out + repr(proc.returncode))
            else:
                check(proc.returncode == 2 and out.startswith('error ' + want[0])
                      and want[1] in out,
                      'hostile vocab: %s -> %s naming %s' % (label, want[0], want[1]),
                      '%r rc %d' % (out, proc.returncode))


def main():
    for test in (test_inp_out, test_jsonl, test_special_lookup, test_parse_special_off,
                 test_invalid_utf8, test_stream_bytes, test_long_line, test_random_round_trip,
                 test_special_scan_cost, test_hostile_vocabs):
        try:
            test()
        except Exception as e:  # a crash of the tool is a failure, not an abort
            check(False, test.__name__ + ' raised', repr(e))
    for vocab, t in tools.items():
        rc = t.close()
        check(rc == 0, '%s: tool exits cleanly' % vocab, 'rc %d' % rc)
    print('1..%d' % len(results))
    for i, (ok, name, detail) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        if not ok and detail:
            print('#   ' + detail.replace('\n', '\n#   '))
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
