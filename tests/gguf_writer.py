# gguf_writer.py: an independent GGUF v2/v3 writer and reader for tests.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Written from ../shared/docs/engine-spec.md section 1 (not from gguf-py), so
# that tests never check the engine's reader against itself. Besides valid
# files it can produce hostile ones: every header field, count, offset and
# length can be overridden, raw bytes can be spliced in, and the byte
# positions of each field are recorded in `layout` after to_bytes()/write().
#
# Usage:
#   w = GGUFWriter('model.gguf')
#   w.add_string('general.architecture', 'qwen2')
#   w.add_array('tokenizer.ggml.tokens', ['a', 'b'], GGUFValueType.STRING)
#   w.add_tensor('token_embd.weight', np.zeros((4, 8), np.float32))  # ne = [8, 4]
#   w.write()

import struct
from enum import IntEnum

try:
    import numpy as np
except ImportError:  # the writer works on plain bytes without numpy
    np = None

GGUF_MAGIC = b'GGUF'
GGUF_DEFAULT_ALIGNMENT = 32


class GGUFValueType(IntEnum):
    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


# struct format of each fixed-size value type (little-endian).
_SCALAR_FMT = {
    GGUFValueType.UINT8: '<B',
    GGUFValueType.INT8: '<b',
    GGUFValueType.UINT16: '<H',
    GGUFValueType.INT16: '<h',
    GGUFValueType.UINT32: '<I',
    GGUFValueType.INT32: '<i',
    GGUFValueType.FLOAT32: '<f',
    GGUFValueType.BOOL: '<B',
    GGUFValueType.UINT64: '<Q',
    GGUFValueType.INT64: '<q',
    GGUFValueType.FLOAT64: '<d',
}

# ggml type ids, engine-spec 2.1.
GGML_TYPE = {
    'F32': 0, 'F16': 1, 'Q4_0': 2, 'Q4_1': 3, 'Q5_0': 6, 'Q5_1': 7,
    'Q8_0': 8, 'Q8_1': 9, 'Q2_K': 10, 'Q3_K': 11, 'Q4_K': 12, 'Q5_K': 13,
    'Q6_K': 14, 'Q8_K': 15, 'IQ2_XXS': 16, 'IQ2_XS': 17, 'IQ3_XXS': 18,
    'IQ1_S': 19, 'IQ4_NL': 20, 'IQ3_S': 21, 'IQ2_S': 22, 'IQ4_XS': 23,
    'I8': 24, 'I16': 25, 'I32': 26, 'I64': 27, 'F64': 28, 'IQ1_M': 29,
    'BF16': 30, 'TQ1_0': 34, 'TQ2_0': 35, 'MXFP4': 39,
}
GGML_TYPE_NAME = {v: k for k, v in GGML_TYPE.items()}

# id -> (elements per block, bytes per block), engine-spec 2.1.
GGML_BLOCK = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
    8: (32, 34), 9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144),
    13: (256, 176), 14: (256, 210), 15: (256, 292), 16: (256, 66),
    17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
    22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54),
    35: (256, 66), 39: (32, 17),
}


def ggml_type_id(t):
    """Accepts an id or a name ('Q4_K')."""
    if isinstance(t, str):
        return GGML_TYPE[t]
    return int(t)


def tensor_nbytes(ggml_type, shape):
    """Byte size of a tensor of shape [ne0, ne1, ...] (engine-spec 1.5)."""
    block, block_bytes = GGML_BLOCK[ggml_type_id(ggml_type)]
    if shape[0] % block:
        raise ValueError('ne0 %d is not a multiple of the block size %d' % (shape[0], block))
    n = shape[0] // block * block_bytes
    for d in shape[1:]:
        n *= d
    return n


def align_up(n, alignment):
    return (n + alignment - 1) // alignment * alignment


def encode_string(s):
    if isinstance(s, str):
        s = s.encode('utf-8')
    return struct.pack('<Q', len(s)) + bytes(s)


def encode_scalar(value_type, value):
    value_type = GGUFValueType(value_type)
    if value_type == GGUFValueType.STRING:
        return encode_string(value)
    if value_type == GGUFValueType.BOOL and isinstance(value, bool):
        value = int(value)
    return struct.pack(_SCALAR_FMT[value_type], value)


def encode_value(value_type, value, array_type=None):
    """Encodes a value (without its type word). An ARRAY value is a list of
    elements of array_type; for nested arrays (array_type == ARRAY) each
    element is a (inner_type, inner_list) pair."""
    value_type = GGUFValueType(value_type)
    if value_type != GGUFValueType.ARRAY:
        return encode_scalar(value_type, value)
    array_type = GGUFValueType(array_type)
    out = [struct.pack('<IQ', array_type, len(value))]
    if array_type == GGUFValueType.ARRAY:
        for inner_type, inner in value:
            out.append(encode_value(GGUFValueType.ARRAY, inner, inner_type))
    elif array_type == GGUFValueType.STRING:
        for s in value:
            out.append(encode_string(s))
    elif np is not None and isinstance(value, np.ndarray):
        fmt = _SCALAR_FMT[array_type]
        out.append(value.astype(np.dtype(fmt)).tobytes())
    else:
        fmt = '<%d%s' % (len(value), _SCALAR_FMT[array_type][1])
        if array_type == GGUFValueType.BOOL:
            value = [int(v) for v in value]
        out.append(struct.pack(fmt, *value))
    return b''.join(out)


class GGUFWriter:
    """Builds a GGUF file in memory and writes it.

    Hooks for hostile files (all default to None = the correct value):
      magic (bytes), version, n_tensors, n_kv: header fields as written;
      n_tensors_field_fmt / n_kv_field_fmt ('<q' normally, '<I' for v1 files);
      data_pad_byte: the byte used for padding (default 0);
      tail: bytes appended after everything; truncate: cut the file to n bytes.
    Per-kv and per-tensor overrides are keyword arguments of add_kv_raw and
    add_tensor (offset=, n_dims=, type_override=, name bytes etc.).
    After to_bytes(), self.layout holds byte positions:
      'kv': [start of each kv record], 'ti': [start of each tensor info],
      'ti_offset_field': [position of each tensor's offset u64],
      'data_start', 'tensor_data': [absolute start of each tensor's bytes].
    """

    def __init__(self, path, alignment=GGUF_DEFAULT_ALIGNMENT, version=3):
        self.path = path
        self.alignment = alignment
        self.version = version
        self.magic = None
        self.n_tensors = None
        self.n_kv = None
        self.data_pad_byte = b'\x00'
        self.tail = b''
        self.truncate = None
        self.big_endian = False
        self._kv = []        # list of raw encoded records (bytes)
        self._kv_keys = []
        self._tensors = []   # list of dicts
        self.layout = {}
        if alignment != GGUF_DEFAULT_ALIGNMENT:
            self.add_uint32('general.alignment', alignment)

    # ---- key/values ------------------------------------------------------

    def add_kv(self, key, value_type, value, array_type=None):
        value_type = GGUFValueType(value_type)
        record = encode_string(key) + struct.pack('<I', value_type) + \
            encode_value(value_type, value, array_type)
        self._kv.append(record)
        self._kv_keys.append(key)

    def add_kv_raw(self, key, raw):
        """Appends a record whose value part (type word included) is raw bytes."""
        self._kv.append(encode_string(key) + raw)
        self._kv_keys.append(key)

    def add_raw_record(self, raw):
        """Appends a whole kv record as raw bytes (key included)."""
        self._kv.append(raw)
        self._kv_keys.append(None)

    def add_uint8(self, k, v): self.add_kv(k, GGUFValueType.UINT8, v)
    def add_int8(self, k, v): self.add_kv(k, GGUFValueType.INT8, v)
    def add_uint16(self, k, v): self.add_kv(k, GGUFValueType.UINT16, v)
    def add_int16(self, k, v): self.add_kv(k, GGUFValueType.INT16, v)
    def add_uint32(self, k, v): self.add_kv(k, GGUFValueType.UINT32, v)
    def add_int32(self, k, v): self.add_kv(k, GGUFValueType.INT32, v)
    def add_uint64(self, k, v): self.add_kv(k, GGUFValueType.UINT64, v)
    def add_int64(self, k, v): self.add_kv(k, GGUFValueType.INT64, v)
    def add_float32(self, k, v): self.add_kv(k, GGUFValueType.FLOAT32, v)
    def add_float64(self, k, v): self.add_kv(k, GGUFValueType.FLOAT64, v)
    def add_bool(self, k, v): self.add_kv(k, GGUFValueType.BOOL, v)
    def add_string(self, k, v): self.add_kv(k, GGUFValueType.STRING, v)

    def add_array(self, k, values, array_type):
        self.add_kv(k, GGUFValueType.ARRAY, values, array_type)

    # ---- tensors ---------------------------------------------------------

    def add_tensor(self, name, data, ggml_type=None, shape=None, offset=None,
                   n_dims=None, dims_override=None, type_override=None):
        """data: bytes of already quantised blocks, or an np.ndarray (float32 ->
        F32, float16 -> F16 unless ggml_type says otherwise). shape is in GGUF
        order (shape[0] = ne0, the row length); for an ndarray it defaults to
        the numpy shape reversed.
        Hostile overrides: offset (u64 written in the info), n_dims (written
        count), dims_override (list of i64 written instead of shape),
        type_override (i32 written instead of the type)."""
        if np is not None and isinstance(data, np.ndarray):
            if ggml_type is None:
                if data.dtype == np.float32:
                    ggml_type = 'F32'
                elif data.dtype == np.float16:
                    ggml_type = 'F16'
                else:
                    raise ValueError('give ggml_type for dtype %s' % data.dtype)
            if shape is None:
                shape = list(reversed(data.shape))
            data = np.ascontiguousarray(data).tobytes()
        if ggml_type is None or shape is None:
            raise ValueError('bytes data needs ggml_type and shape')
        ggml_type = ggml_type_id(ggml_type)
        shape = [int(d) for d in shape]
        self._tensors.append({
            'name': name, 'data': bytes(data), 'type': ggml_type, 'shape': shape,
            'offset': offset, 'n_dims': n_dims, 'dims': dims_override,
            'type_written': type_override,
        })

    # ---- output ----------------------------------------------------------

    def _tensor_info(self, t, offset):
        name = t['name']
        dims = t['dims'] if t['dims'] is not None else t['shape']
        n_dims = t['n_dims'] if t['n_dims'] is not None else len(dims)
        typ = t['type_written'] if t['type_written'] is not None else t['type']
        head = encode_string(name) + struct.pack('<I', n_dims) + \
            b''.join(struct.pack('<q', d) for d in dims) + struct.pack('<i', typ)
        return head, struct.pack('<Q', offset)

    def to_bytes(self):
        out = bytearray()
        layout = {'kv': [], 'ti': [], 'ti_offset_field': [], 'tensor_data': []}
        out += self.magic if self.magic is not None else GGUF_MAGIC
        n_tensors = self.n_tensors if self.n_tensors is not None else len(self._tensors)
        n_kv = self.n_kv if self.n_kv is not None else len(self._kv)
        if self.version == 1:
            out += struct.pack('<III', 1, n_tensors, n_kv)
        else:
            out += struct.pack('<Iqq', self.version, n_tensors, n_kv)
        for record in self._kv:
            layout['kv'].append(len(out))
            out += record
        # data offsets: packed in order, each aligned (engine-spec 1.6)
        offsets = []
        running = 0
        for t in self._tensors:
            offsets.append(running)
            running += align_up(len(t['data']), self.alignment)
        for t, off in zip(self._tensors, offsets):
            layout['ti'].append(len(out))
            head, off_field = self._tensor_info(t, t['offset'] if t['offset'] is not None else off)
            out += head
            layout['ti_offset_field'].append(len(out))
            out += off_field
        if self._tensors:
            pad = align_up(len(out), self.alignment) - len(out)
            out += self.data_pad_byte * pad
        layout['data_start'] = len(out)
        data_start = len(out)
        for t, off in zip(self._tensors, offsets):
            assert len(out) == data_start + off
            layout['tensor_data'].append(len(out))
            out += t['data']
            pad = align_up(len(t['data']), self.alignment) - len(t['data'])
            out += self.data_pad_byte * pad
        out += self.tail
        if self.big_endian:
            # swap the version and count words, as a byte-swapped writer would
            out[4:8] = out[4:8][::-1]
            if self.version != 1:
                out[8:16] = out[8:16][::-1]
                out[16:24] = out[16:24][::-1]
        if self.truncate is not None:
            del out[self.truncate:]
        self.layout = layout
        return bytes(out)

    def write(self):
        data = self.to_bytes()
        with open(self.path, 'wb') as f:
            f.write(data)
        return data


# ---- reader ----------------------------------------------------------------

class _Cursor:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError('GGUF truncated at byte %d (need %d more)' % (self.pos, n))
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        n = self.unpack('<Q')
        return bytes(self.take(n)).decode('utf-8', errors='surrogateescape')


def _read_value(cur, value_type):
    value_type = GGUFValueType(value_type)
    if value_type == GGUFValueType.STRING:
        return cur.string(), None
    if value_type == GGUFValueType.ARRAY:
        array_type = GGUFValueType(cur.unpack('<I'))
        n = cur.unpack('<Q')
        if array_type == GGUFValueType.STRING:
            return [cur.string() for _ in range(n)], array_type
        if array_type == GGUFValueType.ARRAY:
            return [_read_value(cur, GGUFValueType.ARRAY)[::-1] for _ in range(n)], array_type
        fmt = _SCALAR_FMT[array_type]
        size = struct.calcsize(fmt)
        raw = cur.take(n * size)
        vals = list(struct.unpack('<%d%s' % (n, fmt[1]), raw))
        if array_type == GGUFValueType.BOOL:
            vals = [bool(v) for v in vals]
        return vals, array_type
    v = cur.unpack(_SCALAR_FMT[value_type])
    if value_type == GGUFValueType.BOOL:
        v = bool(v)
    return v, None


def read_gguf(path, typed=False):
    """Reads a GGUF v2/v3 file.

    Returns (kv, tensors): kv maps key -> value (python int/float/str/bool or
    list); with typed=True key -> (value_type, value, array_type), so that
    `writer.add_kv(key, *kv[key])` copies a key exactly. tensors maps
    name -> (ggml_type, shape [ne0, ...], bytes)."""
    with open(path, 'rb') as f:
        buf = f.read()
    cur = _Cursor(buf)
    if cur.take(4) != GGUF_MAGIC:
        raise ValueError('%s: not a GGUF file' % path)
    version = cur.unpack('<I')
    if version not in (2, 3):
        raise ValueError('%s: unsupported GGUF version %d' % (path, version))
    n_tensors = cur.unpack('<q')
    n_kv = cur.unpack('<q')
    kv = {}
    for _ in range(n_kv):
        key = cur.string()
        value_type = GGUFValueType(cur.unpack('<I'))
        value, array_type = _read_value(cur, value_type)
        kv[key] = (value_type, value, array_type) if typed else value
    infos = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.unpack('<I')
        shape = [cur.unpack('<q') for _ in range(n_dims)]
        typ = cur.unpack('<i')
        off = cur.unpack('<Q')
        infos.append((name, typ, shape, off))
    alignment = GGUF_DEFAULT_ALIGNMENT
    if 'general.alignment' in kv:
        a = kv['general.alignment']
        alignment = a[1] if typed else a
    data_start = align_up(cur.pos, alignment)
    tensors = {}
    for name, typ, shape, off in infos:
        n = tensor_nbytes(typ, shape)
        start = data_start + off
        if start + n > len(buf):
            raise ValueError('%s: tensor %r past end of file' % (path, name))
        tensors[name] = (typ, shape, buf[start:start + n])
    return kv, tensors


def copy_kv(writer, kv_typed, keys=None, prefix=None):
    """Copies typed kvs (from read_gguf(path, typed=True)) into writer: the
    given keys, or all keys starting with prefix (e.g. 'tokenizer.')."""
    for key, (value_type, value, array_type) in kv_typed.items():
        if key in writer._kv_keys:  # e.g. general.alignment from __init__
            continue
        if keys is not None and key not in keys:
            continue
        if prefix is not None and not key.startswith(prefix):
            continue
        writer.add_kv(key, value_type, value, array_type)


def split_name(prefix, index, count):
    """llama-gguf-split's name of part index (0-based) of count."""
    return '%s-%05d-of-%05d.gguf' % (prefix, index + 1, count)


def split_gguf(src_path, n_parts, out_prefix):
    """Rewrites a GGUF file as n_parts files the way llama-gguf-split does
    (engine-spec 1.8): every part has split.no/split.count, the first also
    split.tensors.count and all other metadata; tensors are dealt out in
    order, as evenly as possible. Returns the part paths."""
    kv, tensors = read_gguf(src_path, typed=True)
    alignment = kv['general.alignment'][1] if 'general.alignment' in kv else GGUF_DEFAULT_ALIGNMENT
    names = list(tensors)
    paths = []
    for i in range(n_parts):
        w = GGUFWriter(split_name(out_prefix, i, n_parts), alignment=alignment)
        if i == 0:
            copy_kv(w, kv)
        w.add_uint16('split.no', i)
        w.add_uint16('split.count', n_parts)
        if i == 0:
            w.add_int32('split.tensors.count', len(names))
        for name in names[len(names) * i // n_parts:len(names) * (i + 1) // n_parts]:
            typ, shape, data = tensors[name]
            w.add_tensor(name, data, typ, shape)
        w.write()
        paths.append(w.path)
    return paths
