#!/usr/bin/python3
# run_fuzz_tokenizer.py: builds tests/fuzz-tokenizer.c with clang's libFuzzer
# and AddressSanitizer/UBSan and fuzzes the tokenizer for a bounded time:
# half on text (round trip through the Llama-3 and DeepSeek-V3 vocabularies
# of shared/testdata), half on hostile vocabulary files (seeded with small
# vocabularies from gguf_writer.py).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage (meson runs it in suite 'slow'): run_fuzz_tokenizer.py [SECONDS]
# Environment: PONDER_SOURCE_ROOT, PONDER_SHARED_TESTDATA,
# PONDER_FUZZ_SECONDS overrides SECONDS. Exit 77 (skip) when clang or
# libFuzzer is missing. Crashing inputs are kept in
# PONDER_BUILD_ROOT/fuzz-tokenizer-crashes/ and printed as hex.

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gguf_writer import GGUFWriter, GGUFValueType  # noqa: E402


def build(clang, src, exe):
    engine = os.path.join(src, 'engine')
    sources = [os.path.join(src, 'tests', 'fuzz-tokenizer.c')] + \
        [os.path.join(engine, f) for f in ('tokenizer.c', 'tokenizer-bpe.c', 'tokenizer-pre.c',
                                           'unicode.c', 'gguf.c', 'gguf-lookup.c',
                                           'gguf-open.c', 'error.c')]
    # The weight-type table (quant.c) pulls in the dequantisers and SIMD
    # kernels of every format, which need their own compiler flags: take
    # them from the built library (uninstrumented, which ASan allows).
    build_root = os.environ.get('PONDER_BUILD_ROOT', os.path.join(src, 'build'))
    archive = os.path.join(build_root, 'engine', 'libponder-engine.a')
    if not os.path.exists(archive):
        print('FAIL: %s not found: build the engine first' % archive)
        return 1
    extra = [archive, '-ldl']
    cmd = [clang, '-g', '-O1', '-fsanitize=fuzzer,address,undefined',
           '-fno-sanitize-recover=undefined', '-DPONDER_LIBFUZZER', '-std=c11',
           '-D_POSIX_C_SOURCE=200809L', '-D_DEFAULT_SOURCE', '-I', engine,
           *sources, *extra, '-lpcre2-8', '-lunistring', '-lm', '-lpthread', '-o', exe]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        if 'libclang_rt.fuzzer' in r.stderr or 'cannot find' in r.stderr:
            print('libFuzzer runtime missing; skipping\n' + r.stderr)
            return SKIP
        print(' '.join(cmd) + '\n' + r.stderr)
        return 1
    return 0


def text_seeds(data, corpus):
    with open(os.path.join(data, 'corpus-public.json'), encoding='utf-8') as f:
        rows = json.load(f)
    with open(os.path.join(data, 'corpus-public-special.json'), encoding='utf-8') as f:
        rows += json.load(f)
    for i, row in enumerate(rows):
        # first byte: which vocabulary, and whether special tokens are parsed
        for flag in (0x00, 0x81):
            with open(os.path.join(corpus, 'seed-%d-%x' % (i, flag)), 'wb') as f:
                f.write(bytes([flag]) + row['text'].encode('utf-8'))


def vocab_seeds(corpus):
    base = ['a', 'b', 'c', 'ab', 'abc', '<s>', 'Ġ', 'Ċ', 'Ġa']
    variants = [
        dict(pre='qwen2'), dict(pre='llama-bpe'), dict(pre='deepseek-v3'),
        dict(pre='deepseek-llm'), dict(pre='deepseek-coder'), dict(pre='nope'),
        dict(pre='qwen2', merges=['a b', 'ab q']), dict(pre='qwen2', types=[1, 1]),
    ]
    for i, v in enumerate(variants):
        path = os.path.join(corpus, 'vocab-%d.gguf' % i)
        w = GGUFWriter(path)
        w.add_string('tokenizer.ggml.model', 'gpt2')
        w.add_string('tokenizer.ggml.pre', v['pre'])
        w.add_array('tokenizer.ggml.tokens', base, GGUFValueType.STRING)
        w.add_array('tokenizer.ggml.token_type', v.get('types', [1] * 5 + [3] + [1] * 3),
                    GGUFValueType.INT32)
        w.add_array('tokenizer.ggml.merges', v.get('merges', ['a b', 'ab c', 'Ġ a']),
                    GGUFValueType.STRING)
        w.add_uint32('tokenizer.ggml.bos_token_id', 5)
        w.add_uint32('tokenizer.ggml.eos_token_id', 5)
        w.add_bool('tokenizer.ggml.add_bos_token', True)
        w.write()


def fuzz(exe, mode, seconds, corpus, crashes, env):
    env = dict(env, PONDER_FUZZ_MODE=mode, ASAN_OPTIONS='detect_leaks=1:abort_on_error=0',
               UBSAN_OPTIONS='print_stacktrace=1')
    r = subprocess.run([exe, '-max_total_time=%d' % seconds, '-max_len=4096', '-timeout=10',
                        '-rss_limit_mb=2048', '-print_final_stats=1',
                        '-artifact_prefix=' + crashes + '/', corpus],
                       env=env, capture_output=True, text=True)
    print('== %s\n%s' % (mode, r.stderr[-4000:]))
    return r.returncode


def main():
    src = os.environ.get('PONDER_SOURCE_ROOT', os.path.dirname(HERE))
    out = os.environ.get('PONDER_BUILD_ROOT', os.path.join(src, 'build'))
    data = os.path.join(os.environ.get('PONDER_SHARED_TESTDATA',
                                       os.path.join(src, '..', 'shared', 'testdata')),
                        'tokenizer')
    seconds = int(os.environ.get('PONDER_FUZZ_SECONDS', sys.argv[1] if len(sys.argv) > 1 else 60))
    clang = shutil.which('clang') or shutil.which('clang-14')
    if clang is None:
        print('clang not found; skipping')
        return SKIP

    with tempfile.TemporaryDirectory(prefix='ponder-fuzz-tokenizer-') as tmp:
        exe = os.path.join(tmp, 'fuzz-tokenizer')
        status = build(clang, src, exe)
        if status != 0:
            return status
        crashes = os.path.join(tmp, 'crashes')
        os.makedirs(crashes)
        env = dict(os.environ, PONDER_FUZZ_VOCABS=':'.join(
            os.path.join(data, v) for v in ('vocab-llama3.gguf', 'vocab-deepseek-v3.gguf')))
        rc = 0
        for mode, make_seeds in (('text', lambda c: text_seeds(data, c)), ('vocab', vocab_seeds)):
            corpus = os.path.join(tmp, 'corpus-' + mode)
            os.makedirs(corpus)
            make_seeds(corpus)
            rc |= fuzz(exe, mode, max(1, seconds // 2), corpus, crashes, env)
        found = sorted(glob.glob(os.path.join(crashes, '*')))
        if rc != 0 or found:
            keep = os.path.join(out, 'fuzz-tokenizer-crashes')
            os.makedirs(keep, exist_ok=True)
            for f in found:
                shutil.copy(f, keep)
                with open(f, 'rb') as fh:
                    print('%s: %s' % (os.path.basename(f), fh.read().hex()))
            print('fuzz-tokenizer failed; inputs kept in %s' % keep)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
