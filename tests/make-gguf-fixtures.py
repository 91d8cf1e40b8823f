#!/usr/bin/python3
# make-gguf-fixtures.py: writes GGUF files for test-gguf and a manifest of
# what each file holds (valid files) or how reading it must fail (hostile ones).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: make-gguf-fixtures.py OUTDIR
#
# The expected values come from this script (built with gguf_writer.py from
# engine-spec section 1), never from the C reader. manifest.tsv, one record
# per line, tab-separated:
#   file    NAME VERSION ALIGNMENT N_KV N_TENSORS N_SPLITS TOTAL_BYTES
#   kv      KEY TYPE VALUE            (ints decimal, floats repr, bools 0/1, strings hex)
#   arr     KEY ELEM_TYPE LEN V1,V2,...  ('-' when empty; strings hex)
#   nest    KEY LEN                   (array of arrays, stored undecoded)
#   tensor  NAME TYPE N_DIMS NE0,NE1,NE2,NE3 N_BYTES SPLIT_INDEX OFFSET_IN_PART SHA256
#   end
#   bad     NAME STATUS MESSAGE_SUBSTRING   (STATUS: format, unsupported, io)
#   truncate NAME MIN_VALID_LENGTH         (every shorter prefix must fail)
# 'file' records are followed by their kv/arr/nest/tensor records and 'end'.

import hashlib
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_writer import (GGUFWriter, GGUFValueType as VT, GGML_TYPE, GGML_BLOCK,  # noqa: E402
                         encode_string, read_gguf, split_gguf, tensor_nbytes)

OUT = None
MANIFEST = []
RNG = np.random.default_rng(20251123)


def path(name):
    return os.path.join(OUT, name)


def f32(x):
    """x rounded to binary32, as the file stores it."""
    return struct.unpack('<f', struct.pack('<f', x))[0]


def fmt_value(value_type, v):
    if value_type == VT.STRING:
        return (v.encode('utf-8') if isinstance(v, str) else v).hex()
    if value_type == VT.BOOL:
        return '1' if v else '0'
    if value_type == VT.FLOAT32:
        return repr(f32(v))
    if value_type == VT.FLOAT64:
        return repr(float(v))
    return str(int(v))


class Model:
    """A GGUFWriter plus the manifest records describing what it holds."""

    def __init__(self, name, alignment=32, version=3):
        self.name = name
        self.w = GGUFWriter(path(name), alignment=alignment, version=version)
        self.alignment = alignment
        self.version = version
        self.records = []
        if alignment != 32:
            self.records.append(('kv', 'general.alignment', VT.UINT32, fmt_value(VT.UINT32, alignment)))

    def kv(self, key, value_type, value):
        self.w.add_kv(key, value_type, value)
        self.records.append(('kv', key, int(value_type), fmt_value(value_type, value)))

    def arr(self, key, elem_type, values):
        self.w.add_array(key, values, elem_type)
        text = ','.join(fmt_value(elem_type, v) for v in values) or '-'
        self.records.append(('arr', key, int(elem_type), len(values), text))

    def nest(self, key, inner):
        self.w.add_array(key, inner, VT.ARRAY)
        self.records.append(('nest', key, len(inner)))

    def tensor(self, name, type_name, shape):
        t = GGML_TYPE[type_name]
        data = RNG.integers(0, 256, tensor_nbytes(t, shape), dtype=np.uint8).tobytes()
        self.w.add_tensor(name, data, t, shape)
        return data

    def write(self, split_index=0):
        self.w.write()
        infos = []
        for i, t in enumerate(self.w._tensors):
            ne = (t['shape'] + [1, 1, 1, 1])[:4]
            infos.append(('tensor', t['name'], t['type'], len(t['shape']),
                          ','.join(map(str, ne)), len(t['data']), split_index,
                          self.w.layout['tensor_data'][i],
                          hashlib.sha256(t['data']).hexdigest()))
        return infos

    def emit(self, n_splits=1, extra_tensors=(), total_bytes=None, name=None):
        infos = self.write()
        tensors = infos + list(extra_tensors)
        size = total_bytes if total_bytes is not None else os.path.getsize(path(self.name))
        MANIFEST.append(('file', name or self.name, self.version, self.alignment,
                         len(self.w._kv), len(tensors), n_splits, size))
        MANIFEST.extend(self.records)
        MANIFEST.extend(tensors)
        MANIFEST.append(('end',))


# ---- valid files -----------------------------------------------------------

def every_kv_type(m):
    m.kv('general.architecture', VT.STRING, 'qwen2')
    m.kv('test.uint8', VT.UINT8, 255)
    m.kv('test.int8', VT.INT8, -128)
    m.kv('test.uint16', VT.UINT16, 65535)
    m.kv('test.int16', VT.INT16, -32768)
    m.kv('test.uint32', VT.UINT32, 4294967295)
    m.kv('test.int32', VT.INT32, -2147483648)
    m.kv('test.float32', VT.FLOAT32, 3.14159)
    m.kv('test.bool_true', VT.BOOL, True)
    m.kv('test.bool_false', VT.BOOL, False)
    m.kv('test.string', VT.STRING, 'h\u00e9llo \u4e16\u754c <\uff5cUser\uff5c>')
    m.kv('test.empty_string', VT.STRING, '')
    m.kv('test.uint64', VT.UINT64, 18446744073709551615)
    m.kv('test.int64', VT.INT64, -9223372036854775808)
    m.kv('test.float64', VT.FLOAT64, -2.5e-300)
    m.arr('test.arr.uint8', VT.UINT8, [0, 1, 254, 255])
    m.arr('test.arr.int8', VT.INT8, [-128, -1, 0, 127])
    m.arr('test.arr.uint16', VT.UINT16, [0, 65535])
    m.arr('test.arr.int16', VT.INT16, [-32768, 32767, 7])
    m.arr('test.arr.uint32', VT.UINT32, [1, 2, 4294967295])
    m.arr('test.arr.int32', VT.INT32, [-2147483648, 2147483647, -5])
    m.arr('test.arr.float32', VT.FLOAT32, [0.5, -1e-3, 1e30])
    m.arr('test.arr.bool', VT.BOOL, [True, False, True])
    m.arr('test.arr.string', VT.STRING, ['a', '', '\u0120the', 'x' * 300])
    m.arr('test.arr.uint64', VT.UINT64, [0, 9223372036854775808, 18446744073709551615])
    m.arr('test.arr.int64', VT.INT64, [-9223372036854775808, 9223372036854775807])
    m.arr('test.arr.float64', VT.FLOAT64, [1.0 / 3.0, -0.0, 1e308])
    m.arr('test.arr.empty', VT.INT32, [])
    m.nest('test.arr.nested', [(VT.INT32, [1, 2, 3]), (VT.STRING, ['x', 'yz']),
                               (VT.ARRAY, [(VT.UINT8, [9])])])


def valid_files():
    for version in (2, 3):
        m = Model('kv-all-v%d.gguf' % version, version=version)
        every_kv_type(m)
        m.emit()

    # tensors of several types and ranks, under several alignments
    for alignment in (32, 1, 8, 64, 256):
        m = Model('tensors-a%d.gguf' % alignment, alignment=alignment)
        m.kv('general.architecture', VT.STRING, 'llama')
        m.tensor('token_embd.weight', 'Q4_K', [256, 3])
        m.tensor('output_norm.weight', 'F32', [7])
        m.tensor('blk.0.attn_q.weight', 'Q8_0', [64, 5])
        m.tensor('blk.0.attn_k.weight', 'F16', [3, 2, 2])
        m.tensor('blk.0.ffn_gate_exps.weight', 'IQ2_XXS', [256, 2, 3])
        m.tensor('blk.0.x4', 'BF16', [2, 3, 1, 2])
        m.tensor('blk.0.q5', 'Q5_0', [32, 1])
        m.tensor('blk.0.q6k', 'Q6_K', [512, 1])
        m.tensor('blk.0.iq1s', 'IQ1_S', [256, 1])
        m.tensor('blk.0.empty', 'F32', [4, 0])
        m.tensor('blk.0.' + 'n' * 57, 'MXFP4', [32, 2])  # a 63-byte name
        m.emit()

    m = Model('no-tensors.gguf')
    m.kv('general.name', VT.STRING, 'vocab only')
    m.emit()

    m = Model('empty.gguf')
    m.emit()

    split_files()


def split_model(prefix, n_parts, tensor_plan, mutate=None):
    """Writes PREFIX-0000i-of-0000N.gguf. tensor_plan: per part, a list of
    (name, type, shape). mutate(part_index, model) may break a part.
    Returns (models, tensor manifest records)."""
    models = []
    records = []
    total = sum(len(p) for p in tensor_plan)
    for i in range(n_parts):
        name = '%s-%05d-of-%05d.gguf' % (prefix, i + 1, n_parts)
        m = Model(name)
        if i == 0:
            m.kv('general.architecture', VT.STRING, 'deepseek2')
            m.kv('general.name', VT.STRING, 'split test')
        m.kv('split.no', VT.UINT16, i)
        m.kv('split.count', VT.UINT16, n_parts)
        if i == 0:
            m.kv('split.tensors.count', VT.INT32, total)
        for tname, ttype, shape in tensor_plan[i]:
            m.tensor(tname, ttype, shape)
        if mutate:
            mutate(i, m)
        models.append(m)
        records.extend(m.write(split_index=i))
    return models, records


SPLIT_PLAN = [
    [('token_embd.weight', 'Q4_K', [256, 2])],
    [('blk.0.attn_q.weight', 'Q8_0', [32, 3]), ('blk.0.ffn_down.weight', 'F16', [5, 2])],
    [('output.weight', 'Q6_K', [256, 2])],
]


def resplit_file():
    """tensors-a64.gguf cut in 3 parts by gguf_writer.split_gguf (the
    helper other tests use to make split models)."""
    kv, tensors = read_gguf(path('tensors-a64.gguf'), typed=True)
    parts = split_gguf(path('tensors-a64.gguf'), 3, path('resplit'))
    records = []
    for i, p in enumerate(parts):
        _, part_tensors = read_gguf(p)
        for name, (typ, shape, data) in part_tensors.items():
            assert tensors[name][2] == data
            records.append(('tensor', name, typ, len(shape), ','.join(map(str, (shape + [1] * 4)[:4])),
                            len(data), i, 0, hashlib.sha256(data).hexdigest()))
    first_kv, _ = read_gguf(parts[0], typed=True)
    total = sum(os.path.getsize(p) for p in parts)
    MANIFEST.append(('file', os.path.basename(parts[2]), 3, 64, len(first_kv), len(records), 3, total))
    for key, (value_type, value, array_type) in first_kv.items():
        if value_type == VT.ARRAY:
            MANIFEST.append(('arr', key, int(array_type), len(value),
                             ','.join(fmt_value(array_type, v) for v in value) or '-'))
        else:
            MANIFEST.append(('kv', key, int(value_type), fmt_value(value_type, value)))
    MANIFEST.extend(records)
    MANIFEST.append(('end',))


def split_files():
    resplit_file()
    models, records = split_model('split', 3, SPLIT_PLAN)
    total = sum(os.path.getsize(path(m.name)) for m in models)
    first = models[0]
    for opened in ('split-00001-of-00003.gguf', 'split-00002-of-00003.gguf'):
        MANIFEST.append(('file', opened, 3, 32, len(first.w._kv), len(records), 3, total))
        MANIFEST.extend(first.records)
        MANIFEST.extend(records)
        MANIFEST.append(('end',))

    # the first part may carry no tensors at all
    plan = [[], SPLIT_PLAN[1], SPLIT_PLAN[2]]
    models, records = split_model('split0', 3, plan)
    total = sum(os.path.getsize(path(m.name)) for m in models)
    MANIFEST.append(('file', 'split0-00001-of-00003.gguf', 3, 32, len(models[0].w._kv),
                     len(records), 3, total))
    MANIFEST.extend(models[0].records)
    MANIFEST.extend(records)
    MANIFEST.append(('end',))


# ---- hostile files ---------------------------------------------------------

def bad(name, status, substring, writer):
    writer.path = path(name)
    writer.write()
    MANIFEST.append(('bad', name, status, substring))


def base(alignment=32, tensors=True):
    w = GGUFWriter(None, alignment=alignment)
    w.add_string('general.architecture', 'qwen2')
    w.add_array('tokenizer.ggml.tokens', ['a', 'b', 'c'], VT.STRING)
    if tensors:
        w.add_tensor('blk.0.attn_q.weight', bytes(range(68)), GGML_TYPE['Q8_0'], [32, 2])
        w.add_tensor('output_norm.weight', np.arange(5, dtype=np.float32))
    return w


def header_files():
    w = base(); w.magic = b'GGML'
    bad('bad-magic.gguf', 'format', 'not a GGUF file', w)
    w = base(); w.version = 1
    bad('version1.gguf', 'unsupported', 'version 1', w)
    w = base(); w.version = 0
    bad('version0.gguf', 'unsupported', 'GGUF version 0', w)
    w = base(); w.version = 4
    bad('version4.gguf', 'unsupported', 'GGUF version 4', w)
    w = base(); w.big_endian = True
    bad('big-endian.gguf', 'unsupported', 'big-endian', w)
    w = base(); w.n_kv = 1 << 40
    bad('huge-n-kv.gguf', 'format', 'cannot fit', w)
    w = base(); w.n_tensors = 1 << 62
    bad('huge-n-tensors.gguf', 'format', 'cannot fit', w)
    w = base(); w.n_tensors = -1
    bad('negative-n-tensors.gguf', 'format', 'negative tensor or key/value count', w)
    w = base(tensors=False); w.n_kv = 3  # one record more than the file holds
    bad('n-kv-too-big.gguf', 'format', "key/value 2: key at byte", w)
    open(path('zero-bytes.gguf'), 'wb').close()
    MANIFEST.append(('bad', 'zero-bytes.gguf', 'format', 'magic at byte 0 runs past the end'))


def kv_files():
    w = base()
    w.add_kv_raw('test.s', struct.pack('<IQ', VT.STRING, 1 << 20) + b'abc')
    bad('string-past-eof.gguf', 'format', "key 'test.s': string value at byte", w)
    w = base()
    w.add_raw_record(struct.pack('<Q', 70000) + b'k' * 70000 + struct.pack('<IB', VT.UINT8, 1))
    bad('key-too-long.gguf', 'format', 'more than the limit of 65535 bytes', w)
    w = base()
    w.add_raw_record(struct.pack('<Q', 60000) + b'key')
    bad('key-past-eof.gguf', 'format', 'bytes are left in the file', w)
    w = base(); w.add_uint32('', 1)
    bad('empty-key.gguf', 'format', 'the key is empty', w)
    w = base(); w.add_uint32('a\x00b', 1)
    bad('nul-in-key.gguf', 'format', 'contains a NUL byte', w)
    w = base(); w.add_uint32('test.x', 1); w.add_float32('test.x', 2.0)
    bad('duplicate-key.gguf', 'format', "key 'test.x' appears twice", w)
    w = base(); w.add_kv_raw('test.b', struct.pack('<IB', VT.BOOL, 2))
    bad('bad-bool.gguf', 'format', 'has value 2 (must be 0 or 1)', w)
    w = base(); w.add_kv_raw('test.b', struct.pack('<IIQ3B', VT.ARRAY, VT.BOOL, 3, 0, 1, 7))
    bad('bad-bool-array.gguf', 'format', 'has value 7 (must be 0 or 1)', w)
    w = base(); w.add_kv_raw('test.t', struct.pack('<II', 13, 0))
    bad('bad-value-type.gguf', 'format', 'value type 13 at byte', w)
    w = base(); w.add_kv_raw('test.t', struct.pack('<IIQ', VT.ARRAY, 99, 0))
    bad('bad-array-type.gguf', 'format', 'array element type 99', w)
    w = base(); w.add_kv_raw('test.a', struct.pack('<IIQ', VT.ARRAY, VT.UINT32, 1 << 29) + b'1234')
    bad('array-past-eof.gguf', 'format', 'cannot fit in the', w)
    w = base(); w.add_kv_raw('test.a', struct.pack('<IIQ', VT.ARRAY, VT.UINT8, 1 << 31))
    bad('array-too-long.gguf', 'format', 'longer than the limit', w)
    w = base()
    w.add_kv_raw('test.a', struct.pack('<IIQ', VT.ARRAY, VT.STRING, 2) + encode_string('ok')
                 + struct.pack('<Q', 1000) + b'xy')
    bad('array-string-past-eof.gguf', 'format', "key 'test.a': element 1: array string", w)
    deep = struct.pack('<IIQ', VT.ARRAY, VT.ARRAY, 1)
    for _ in range(10):
        deep += struct.pack('<IQ', VT.ARRAY, 1)
    deep += struct.pack('<IQ', VT.UINT8, 0)
    w = base(); w.add_kv_raw('test.deep', deep)
    bad('nested-too-deep.gguf', 'format', 'nested more than 8 deep', w)
    w = base(); w.add_kv_raw('test.n', struct.pack('<IIQ', VT.ARRAY, VT.ARRAY, 1)
                             + struct.pack('<IQ', VT.BOOL, 1) + b'\x05')
    bad('nested-bad-bool.gguf', 'format', 'has value 5', w)
    for value, name, msg in ((48, 'alignment-48.gguf', 'general.alignment is 48, not a power of two'),
                             (0, 'alignment-0.gguf', 'general.alignment is 0, not a power of two')):
        w = base(); w.add_uint32('general.alignment', value)
        bad(name, 'format', msg, w)
    w = base(); w.add_uint64('general.alignment', 64)
    bad('alignment-u64.gguf', 'format', 'has type UINT64, expected UINT32', w)


def tensor_files():
    def one(name, status, msg, **kw):
        w = base()
        shape = kw.pop('shape', [32, 2])
        data = kw.pop('data', bytes(68))
        typ = kw.pop('type', GGML_TYPE['Q8_0'])
        w.add_tensor(kw.pop('tname', 'blk.1.x'), data, typ, shape, **kw)
        bad(name, status, msg, w)

    one('n-dims-5.gguf', 'format', "tensor 'blk.1.x': 5 dimensions (must be 1..4)", n_dims=5,
        dims_override=[32, 2, 1, 1, 1])
    one('n-dims-0.gguf', 'format', '0 dimensions', n_dims=0, dims_override=[])
    one('ne-overflow.gguf', 'format', 'too many elements (overflow)',
        dims_override=[1 << 32, 1 << 32, 1 << 32])
    one('ne-negative.gguf', 'format', 'dimension 1 is negative (-2)', dims_override=[32, -2])
    one('type-4.gguf', 'format', 'unsupported tensor type id 4 (a removed ggml format)',
        type_override=4)
    one('type-42.gguf', 'unsupported', 'unsupported tensor type id 42', type_override=42)
    one('type-negative.gguf', 'format', 'type id -1 (negative)', type_override=-1)
    one('row-not-blocks.gguf', 'format', "row length 16 is not a multiple of Q8_0's block size 32",
        dims_override=[16, 4])
    one('name-64.gguf', 'format', 'tensor name of 64 bytes', tname='n' * 64)
    one('name-empty.gguf', 'format', 'tensor name of 0 bytes', tname='')
    one('dup-tensor.gguf', 'format', "tensor 'output_norm.weight' appears twice",
        tname='output_norm.weight')
    # the third tensor belongs at offset 128: 68 bytes padded to 96, then 20 to 32
    one('misaligned-offset.gguf', 'format', "tensor 'blk.1.x' has offset 100, expected 128",
        offset=100)
    one('gap-offset.gguf', 'format', "tensor 'blk.1.x' has offset 160, expected 128", offset=160)
    w = base(); w._tensors[0]['offset'] = 32
    bad('first-offset.gguf', 'format', "tensor 'blk.0.attn_q.weight' has offset 32, expected 0", w)

    w = base()
    w.truncate = len(w.to_bytes()) - 40
    data_end = w.layout['tensor_data'][1] + 20
    bad('data-past-eof.gguf', 'format',
        "tensor 'output_norm.weight' data ends at byte %d but the file has %d bytes"
        % (data_end, w.truncate), w)
    w = base()
    w.to_bytes()
    w.truncate = w.layout['data_start'] - 3
    bad('data-start-past-eof.gguf', 'format',
        "tensor 'blk.0.attn_q.weight' data ends at byte %d but the file has %d bytes"
        % (w.layout['data_start'] + 68, w.truncate), w)


def truncation_files():
    w = base()
    data = w.to_bytes()
    w.path = path('small.gguf')
    w.write()
    # the padding after the last tensor's bytes may be cut without harm
    MANIFEST.append(('truncate', 'small.gguf', w.layout['tensor_data'][-1] + 20))
    assert len(data) > w.layout['tensor_data'][-1] + 20


def split_bad_files():
    # a missing part
    split_model('miss', 3, SPLIT_PLAN)
    os.unlink(path('miss-00002-of-00003.gguf'))
    MANIFEST.append(('bad', 'miss-00001-of-00003.gguf', 'io', 'miss-00002-of-00003.gguf'))

    def wrong_no(i, m):
        if i == 2:
            m.w._kv[0] = encode_string('split.no') + struct.pack('<IH', VT.UINT16, 1)
    split_model('wrongno', 3, SPLIT_PLAN, wrong_no)
    MANIFEST.append(('bad', 'wrongno-00001-of-00003.gguf', 'format',
                     'wrongno-00003-of-00003.gguf: split.no is 1, expected 2 for part 3 of 3'))

    def wrong_count(i, m):
        if i == 1:
            m.w._kv[1] = encode_string('split.count') + struct.pack('<IH', VT.UINT16, 4)
    split_model('wrongcount', 3, SPLIT_PLAN, wrong_count)
    MANIFEST.append(('bad', 'wrongcount-00001-of-00003.gguf', 'format',
                     'wrongcount-00002-of-00003.gguf: split.count is 4 but the first part says 3'))

    def wrong_total(i, m):
        if i == 0:
            m.w._kv[4] = encode_string('split.tensors.count') + struct.pack('<Ii', VT.INT32, 5)
    split_model('wrongtotal', 3, SPLIT_PLAN, wrong_total)
    MANIFEST.append(('bad', 'wrongtotal-00001-of-00003.gguf', 'format',
                     'split.tensors.count is 5 but the 3 parts hold 4 tensors'))

    plan = [SPLIT_PLAN[0], SPLIT_PLAN[1], [('token_embd.weight', 'F32', [4])]]
    split_model('duptensor', 3, plan)
    MANIFEST.append(('bad', 'duptensor-00002-of-00003.gguf', 'format',
                     "tensor 'token_embd.weight' appears twice, in parts 1 and 3"))

    def truncate_last(i, m):
        if i == 2:
            m.w.truncate = 300
    split_model('trunc', 3, SPLIT_PLAN, truncate_last)
    MANIFEST.append(('bad', 'trunc-00001-of-00003.gguf', 'format',
                     "trunc-00003-of-00003.gguf: tensor 'output.weight' data ends at byte"))

    # split metadata but a name that does not follow the pattern
    m = Model('renamed.gguf')
    m.kv('split.no', VT.UINT16, 0)
    m.kv('split.count', VT.UINT16, 2)
    m.write()
    MANIFEST.append(('bad', 'renamed.gguf', 'format', 'its name does not end in -00001-of-00002.gguf'))


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    valid_files()
    header_files()
    kv_files()
    tensor_files()
    truncation_files()
    split_bad_files()
    with open(path('manifest.tsv'), 'w') as f:
        for rec in MANIFEST:
            f.write('\t'.join(str(x) for x in rec) + '\n')


if __name__ == '__main__':
    main()
