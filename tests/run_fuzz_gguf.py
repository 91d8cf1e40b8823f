#!/usr/bin/python3
# run_fuzz_gguf.py: builds tests/fuzz-gguf.c with clang's libFuzzer and
# AddressSanitizer/UBSan and fuzzes ponder_gguf_parse for a bounded time,
# seeded with the files of make-gguf-fixtures.py.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage (meson runs it in suite 'slow'): run_fuzz_gguf.py [SECONDS]
# Environment: PONDER_SOURCE_ROOT, PONDER_BUILD_ROOT (for libponder-engine.a,
# which supplies the type table), PONDER_FUZZ_SECONDS overrides SECONDS.
# Exit 77 (skip) when clang or libFuzzer is missing. On a crash the input is
# kept in PONDER_BUILD_ROOT/fuzz-gguf-crashes/ and printed as hex.

import glob
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def main():
    src = os.environ.get('PONDER_SOURCE_ROOT',
                         os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = os.environ.get('PONDER_BUILD_ROOT', os.path.join(src, 'build'))
    seconds = int(os.environ.get('PONDER_FUZZ_SECONDS', sys.argv[1] if len(sys.argv) > 1 else 60))
    clang = shutil.which('clang') or shutil.which('clang-14')
    if clang is None:
        print('clang not found; skipping')
        return SKIP

    with tempfile.TemporaryDirectory(prefix='ponder-fuzz-gguf-') as tmp:
        exe = os.path.join(tmp, 'fuzz-gguf')
        engine = os.path.join(src, 'engine')
        sources = [os.path.join(src, 'tests', 'fuzz-gguf.c')] + \
            [os.path.join(engine, f) for f in ('gguf.c', 'gguf-lookup.c', 'gguf-open.c', 'error.c')]
        archive = os.path.join(build, 'engine', 'libponder-engine.a')
        # the type table lives in quant.c; take it from the library when it
        # is built (uninstrumented, which ASan allows), else compile it
        extra = [archive] if os.path.exists(archive) else [os.path.join(engine, 'quant.c')]
        cmd = [clang, '-g', '-O1', '-fsanitize=fuzzer,address,undefined',
               '-fno-sanitize-recover=undefined', '-DPONDER_LIBFUZZER', '-std=c11',
               '-D_POSIX_C_SOURCE=200809L', '-D_DEFAULT_SOURCE', '-I', engine,
               *sources, *extra, '-lm', '-lpthread', '-o', exe]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            if 'libclang_rt.fuzzer' in r.stderr or 'cannot find' in r.stderr:
                print('libFuzzer runtime missing; skipping\n' + r.stderr)
                return SKIP
            print(' '.join(cmd) + '\n' + r.stderr)
            return 1

        seeds = os.path.join(tmp, 'seeds')
        corpus = os.path.join(tmp, 'corpus')
        os.makedirs(corpus)
        subprocess.run(['/usr/bin/python3', os.path.join(src, 'tests', 'make-gguf-fixtures.py'),
                        seeds], check=True)
        for f in glob.glob(os.path.join(seeds, '*.gguf')):
            if os.path.getsize(f) <= 8192:
                shutil.copy(f, corpus)

        crashes = os.path.join(tmp, 'crashes')
        os.makedirs(crashes)
        env = dict(os.environ, ASAN_OPTIONS='detect_leaks=1:abort_on_error=0',
                   UBSAN_OPTIONS='print_stacktrace=1')
        r = subprocess.run([exe, '-max_total_time=%d' % seconds, '-max_len=8192',
                            '-timeout=10', '-rss_limit_mb=2048', '-print_final_stats=1',
                            '-artifact_prefix=' + crashes + '/', corpus],
                           env=env, capture_output=True, text=True)
        tail = r.stderr[-6000:]
        print(tail)
        found = sorted(glob.glob(os.path.join(crashes, '*')))
        if r.returncode != 0 or found:
            keep = os.path.join(build, 'fuzz-gguf-crashes')
            os.makedirs(keep, exist_ok=True)
            for f in found:
                shutil.copy(f, keep)
                with open(f, 'rb') as fh:
                    print('%s: %s' % (os.path.basename(f), fh.read().hex()))
            print('fuzz-gguf failed (exit %d); inputs kept in %s' % (r.returncode, keep))
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
