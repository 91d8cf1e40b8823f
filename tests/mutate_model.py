#!/usr/bin/python3
# mutate_model.py: copies a GGUF model with one deliberate defect, for the
# engine's binding checks (test-session.c).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: mutate_model.py IN OUT MUTATION
#   arch=NAME          general.architecture := NAME
#   swap=TENSOR        TENSOR's two dimensions swapped (same bytes)
#   drop=TENSOR        TENSOR left out
#   type=TENSOR:TYPE   TENSOR rewritten as random bytes of TYPE (same shape)

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gguf_writer  # noqa: E402


def main():
    src, out, mutation = sys.argv[1:4]
    what, _, arg = mutation.partition('=')
    kv, tensors = gguf_writer.read_gguf(src, typed=True)
    w = gguf_writer.GGUFWriter(out)
    if what == 'arch':
        kv['general.architecture'] = (gguf_writer.GGUFValueType.STRING, arg, None)
    gguf_writer.copy_kv(w, kv)
    rng = np.random.default_rng(1)
    for name, (typ, shape, data) in tensors.items():
        if what == 'drop' and name == arg:
            continue
        if what == 'swap' and name == arg:
            shape = list(reversed(shape))
        if what == 'type' and name == arg.split(':')[0]:
            typ = arg.split(':')[1]
            n = gguf_writer.tensor_nbytes(gguf_writer.ggml_type_id(typ), shape)
            data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        w.add_tensor(name, data, typ, shape)
    w.write()
    return 0


if __name__ == '__main__':
    sys.exit(main())
