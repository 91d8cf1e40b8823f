# test_chat_template.py: Ponder's R1 prompt rendering against jinja2 running
# the real chat templates, and chat-family detection.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test_chat_template.py CHAT_TOOL
#
# References (none of them Ponder's output):
#  * shared/testdata/tokenizer/templates/*.jinja: the R1-Distill-Qwen-32B and
#    R1-Distill-Llama-8B templates and llama.cpp's own deepseek-r1 template;
#  * the tokenizer.chat_template of shared/testdata/tokenizer/vocab-*.gguf: the
#    R1-Distill-Qwen template and DeepSeek-V3's template (the 671B format:
#    all system messages joined with "\n\n");
# rendered with jinja2 the way transformers does (trim_blocks, lstrip_blocks,
# loopcontrols), bos_token = "<｜begin▁of▁sentence｜>", add_generation_prompt
# both ways.
#
# Where a template differs from engine-spec 5.5 on purpose, the difference is
# stated next to it and undone on the template's output before comparing:
#  * R1-Distill-Qwen-32B (llama.cpp's copy): it appends "</think>" to the
#    generation prompt unless enable_thinking is set; we render with
#    enable_thinking=True, so its prompt ends "<｜Assistant｜><think>\n" like
#    ours. The distill templates otherwise match the spec exactly.
#  * llama.cpp's deepseek-r1.jinja (llama.cpp's rewrite, not DeepSeek's): it
#    writes "<｜end▁of▁sentence｜>" after every user turn (removed before
#    comparing), keeps only the last system message (compared with the distill
#    family), and takes an assistant turn with empty content for a tool-call
#    turn (such conversations are not compared).
#  * DeepSeek-V3's template (the revision before 2025-02-09): its generation
#    prompt is "<｜Assistant｜>" alone, where the spec (and DeepSeek's later R1
#    templates) add "<think>\n"; and it does not drop the reasoning of earlier
#    turns, so it is given the assistant contents already cut after their last
#    "</think>" (the cut itself is checked by the distill templates).
# Prints TAP.

import os
import random
import subprocess
import sys
import tempfile

import jinja2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_writer import GGUFWriter, GGUFValueType, read_gguf  # noqa: E402

TOOL = sys.argv[1]
DATA = os.path.join(os.environ.get('PONDER_SHARED_TESTDATA',
                                   os.path.join(os.path.dirname(__file__), '..', '..',
                                                'shared', 'testdata')), 'tokenizer')

BOS = '<｜begin▁of▁sentence｜>'
EOS = '<｜end▁of▁sentence｜>'
USER = '<｜User｜>'
ASSISTANT = '<｜Assistant｜>'
QWEN = 'deepseek-r1-distill-qwen'
LLAMA = 'deepseek-r1-distill-llama'
FULL = 'deepseek-r1'

S, U, A = 'system', 'user', 'assistant'

CONVERSATIONS = [
    [],
    [(U, 'What is 1+1?')],
    [(U, 'What is 1+1?'), (A, '<think>\nEasy.\n</think>\n\nIt is 2.'), (U, 'Explain more!')],
    [(S, 'You are helpful.'), (U, 'Hi')],
    [(S, 'First.'), (U, 'Hi'), (S, 'Second.'), (U, 'again')],
    [(S, 'a'), (S, 'b'), (S, 'c'), (U, 'q')],
    [(S, ''), (U, 'empty system')],
    [(S, 'x'), (S, ''), (U, 'empty second system')],
    [(U, 'a'), (A, 'no think block'), (U, 'b')],
    [(U, 'a'), (A, 'x</think>y</think>\n\nz'), (U, 'b')],
    [(U, 'a'), (A, '<think>only reasoning</think>'), (U, 'b')],
    [(U, 'a'), (A, '</think>'), (U, 'b')],
    [(U, 'a'), (A, ''), (U, 'b')],
    [(U, '')],
    [(U, ''), (A, ''), (U, '')],
    [(S, 'Réponds en français 🙂'), (U, '你好，世界 — «ok» \u200b\n\ttab'),
     (A, '<think>思考\n</think>\n\n答案'), (U, 'ÅΩ≈ç√ emoji 👩\u200d👩\u200d👧 ١٢٣')],
    [(U, 'a'), (A, 'b'), (U, 'c'), (A, '<think>\n\n</think>\n\nd'), (U, 'e')],
    [(A, 'the assistant speaks first'), (U, 'q')],
    [(U, 'ends with the assistant'), (A, '<think>r</think>\n\nanswer')],
    [(U, 'literal <｜User｜> and <think> and </thinking> in a user turn')],
    [(U, 'newlines\n\n\nand trailing spaces  \n')],
    [(U, 'q'), (A, 'has <｜end▁of▁sentence｜> inside'), (U, 'r')],
    [(U, 'q1'), (U, 'q2'), (A, 'a1'), (A, 'a2')],
]

FRAGMENTS = ['hello', ' world', '\n', '\n\n', '</think>', '<think>', '你好', '🙂', ' ', '<',
             '</', 'think>', '\t', 'x' * 50, '{% raw %}', '{{ x }}', '\\n', '"quoted"',
             "'single'", 'é', '<｜User｜>']


def random_conversations(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        conv = []
        for _ in range(rng.randint(0, 7)):
            role = rng.choice([S, U, U, A, A])
            content = ''.join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 6)))
            conv.append((role, content))
        out.append(conv)
    return out


def encode_conversation(family, conv, gen):
    data = ('%s %d %d\n' % (family, int(gen), len(conv))).encode()
    for role, content in conv:
        raw = content.encode('utf-8')
        data += ('%s %d\n' % (role, len(raw))).encode() + raw + b'\n'
    return data


def render_many(requests):
    """Renders [(family, conv, gen)] with one run of the tool."""
    data = b''.join(encode_conversation(*r) for r in requests)
    res = subprocess.run([TOOL, 'render'], input=data, capture_output=True)
    if res.returncode != 0:
        raise RuntimeError('chat-tool render failed: %s' % res.stderr.decode(errors='replace'))
    out, pos, texts = res.stdout, 0, []
    for _ in requests:
        nl = out.index(b'\n', pos)
        n = int(out[pos:nl])
        texts.append(out[nl + 1:nl + 1 + n].decode('utf-8'))
        pos = nl + 1 + n
    if pos != len(out):
        raise RuntimeError('chat-tool wrote %d extra bytes' % (len(out) - pos))
    return texts


def render_c(family, conv, gen):
    return render_many([(family, conv, gen)])[0]


def make_env():
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                             extensions=['jinja2.ext.loopcontrols'])
    return env


def render_jinja(template, conv, gen, content_map=None):
    messages = []
    for role, content in conv:
        if content_map is not None and role == A:
            content = content_map(content)
        messages.append({'role': role, 'content': content})
    return template.render(messages=messages, bos_token=BOS, eos_token=EOS,
                           add_generation_prompt=gen, enable_thinking=True)


def cut_reasoning(content):
    return content.split('</think>')[-1]


def strip_user_eos(text, conv):
    """Undoes llama.cpp's EOS after each user turn, turn by turn in order."""
    pos = 0
    for role, content in conv:
        if role != U:
            continue
        turn = USER + content + EOS
        at = text.find(turn, pos)
        if at < 0:
            raise AssertionError('user turn %r not found in llama.cpp rendering' % content)
        text = text[:at] + USER + content + text[at + len(turn):]
        pos = at + len(USER) + len(content)
    return text


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name, detail=''):
        self.n += 1
        if not ok:
            self.failed += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, name))
        if not ok and detail:
            for line in detail.splitlines():
                print('# ' + line)


def compare_templates(tap):
    env = make_env()
    tdir = os.path.join(DATA, 'templates')

    def load_file(name):
        with open(os.path.join(tdir, name), encoding='utf-8') as f:
            return env.from_string(f.read())

    def load_gguf(name):
        kv, _ = read_gguf(os.path.join(DATA, name))
        return env.from_string(kv['tokenizer.chat_template'])

    # (label, template, family, kind) with kind 'exact', 'llamacpp' or 'v3'
    cases = [
        ('R1-Distill-Qwen-32B.jinja', load_file('deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja'),
         QWEN, 'exact'),
        ('R1-Distill-Llama-8B.jinja', load_file('deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja'),
         LLAMA, 'exact'),
        ('llama-cpp-deepseek-r1.jinja', load_file('llama-cpp-deepseek-r1.jinja'), QWEN,
         'llamacpp'),
        ('vocab-deepseek-r1-qwen.gguf template', load_gguf('vocab-deepseek-r1-qwen.gguf'), QWEN,
         'exact'),
        ('vocab-deepseek-v3.gguf template', load_gguf('vocab-deepseek-v3.gguf'), FULL, 'v3'),
    ]
    conversations = CONVERSATIONS + random_conversations(150, 20250209)

    # The generation prompts as the files have them (the facts the
    # adaptations below rest on).
    prompt_ends = {'R1-Distill-Qwen-32B.jinja': ASSISTANT + '<think>\n',
                   'R1-Distill-Llama-8B.jinja': ASSISTANT + '<think>\n',
                   'llama-cpp-deepseek-r1.jinja': ASSISTANT + '<think>\n',
                   'vocab-deepseek-r1-qwen.gguf template': ASSISTANT + '<think>\n',
                   'vocab-deepseek-v3.gguf template': USER + 'q' + ASSISTANT}
    for label, template, _, _ in cases:
        text = render_jinja(template, [(U, 'q')], True)
        tap.check(text.endswith(prompt_ends[label]),
                  '%s: generation prompt ends %r' % (label, prompt_ends[label]), repr(text))
    text = cases[0][1].render(messages=[{'role': U, 'content': 'q'}], bos_token=BOS,
                              add_generation_prompt=True, enable_thinking=False)
    tap.check(text.endswith('<think>\n</think>'),
              'R1-Distill-Qwen-32B.jinja closes the think block unless enable_thinking',
              repr(text))

    for label, template, family, kind in cases:
        for gen in (True, False):
            mismatches = []
            compared = 0
            chosen = [(i, conv) for i, conv in enumerate(conversations)
                      # llama.cpp's template takes an empty assistant turn for a tool call
                      if not (kind == 'llamacpp' and any(r == A and c == '' for r, c in conv))]
            rendered = render_many([(family, conv, gen) for _, conv in chosen])
            for (i, conv), got in zip(chosen, rendered):
                if kind == 'v3':
                    want = render_jinja(template, conv, gen, content_map=cut_reasoning)
                    if gen:
                        assert want.endswith(ASSISTANT)
                        want += '<think>\n'  # the old revision's generation prompt
                else:
                    want = render_jinja(template, conv, gen)
                    if kind == 'llamacpp':
                        want = strip_user_eos(want, conv)
                compared += 1
                if got != want:
                    mismatches.append('conversation %d %r\n  want %r\n  got  %r'
                                      % (i, conv, want, got))
            tap.check(not mismatches and compared > 100,
                      '%s, add_generation_prompt=%s: %d conversations render the same as %s'
                      % (family, gen, compared, label),
                      '\n'.join(mismatches[:5]))

    # The full family joins the systems, the distills keep the last one.
    conv = [(S, 'one'), (U, 'q'), (S, 'two')]
    tap.check(render_c(FULL, conv, True) == BOS + 'one\n\ntwo' + USER + 'q' + ASSISTANT
              + '<think>\n', 'deepseek-r1 joins system prompts with a blank line')
    tap.check(render_c(QWEN, conv, True) == BOS + 'two' + USER + 'q' + ASSISTANT + '<think>\n',
              'the distills keep the last system prompt')
    # The spec's own example (5.5).
    conv = [(U, 'What is 1+1?'), (A, '<think>\nsum\n</think>\n\nIt is 2.'), (U, 'Explain more!')]
    want = (BOS + USER + 'What is 1+1?' + ASSISTANT + '\n\nIt is 2.' + EOS + USER
            + 'Explain more!' + ASSISTANT + '<think>\n')
    for family in (QWEN, LLAMA, FULL):
        tap.check(render_c(family, conv, True) == want, '%s renders the spec example' % family)
    # A NULL content renders like an empty one.
    tap.check(render_c(QWEN, [('null-user', '')], True) == BOS + USER + ASSISTANT + '<think>\n',
              'a NULL content renders as empty')


def write_gguf(path, arch=None, template=None, tokens=None):
    w = GGUFWriter(path)
    if arch is not None:
        w.add_string('general.architecture', arch)
    if tokens is not None:
        w.add_array('tokenizer.ggml.tokens', tokens, GGUFValueType.STRING)
    if template is not None:
        w.add_string('tokenizer.chat_template', template)
    w.write()


def detect(paths):
    res = subprocess.run([TOOL, 'detect'] + paths, capture_output=True, check=True)
    return res.stdout.decode('utf-8').splitlines()


def check_detection(tap):
    tdir = os.path.join(DATA, 'templates')

    def read(name):
        with open(os.path.join(tdir, name), encoding='utf-8') as f:
            return f.read()

    qwen_t = read('deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja')
    llama_t = read('deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja')
    lcpp_t = read('llama-cpp-deepseek-r1.jinja')
    v3_t = read_gguf(os.path.join(DATA, 'vocab-deepseek-v3.gguf'))[0]['tokenizer.chat_template']
    chatml_t = read_gguf(os.path.join(DATA, 'vocab-qwen3.gguf'))[0]['tokenizer.chat_template']
    llama3_t = read_gguf(os.path.join(DATA, 'vocab-llama3.gguf'))[0]['tokenizer.chat_template']
    r1_tokens = ['a', 'b', '<think>', '</think>', USER, ASSISTANT, BOS, EOS]
    plain_tokens = ['a', 'b', '<|im_start|>', '<|im_end|>']

    # (label, arch, template, tokens, expected: family name or 'error unsupported')
    cases = [
        ('qwen2 + R1-Distill-Qwen template', 'qwen2', qwen_t, r1_tokens, 'ok ' + QWEN),
        ('llama + R1-Distill-Llama template', 'llama', llama_t, r1_tokens, 'ok ' + LLAMA),
        ('qwen2 + R1-Distill-Llama template', 'qwen2', llama_t, r1_tokens, 'ok ' + QWEN),
        ('deepseek2 + llama.cpp R1 template', 'deepseek2', lcpp_t, r1_tokens, 'ok ' + FULL),
        ('deepseek2 + V3 template', 'deepseek2', v3_t, r1_tokens, 'ok ' + FULL),
        ('qwen3 + systems-joining template', 'qwen3', v3_t, r1_tokens, 'ok ' + FULL),
        ('qwen3 + distill template', 'qwen3', qwen_t, r1_tokens, 'ok ' + QWEN),
        ('qwen2 + ChatML template', 'qwen2', chatml_t, plain_tokens, 'error unsupported'),
        ('qwen2 + ChatML template, R1 vocabulary', 'qwen2', chatml_t, r1_tokens,
         'error unsupported'),
        ('llama + Llama 3 template', 'llama', llama3_t, plain_tokens, 'error unsupported'),
        ('no template, R1 vocabulary, llama', 'llama', None, r1_tokens, 'ok ' + LLAMA),
        ('no template, R1 vocabulary, qwen2', 'qwen2', None, r1_tokens, 'ok ' + QWEN),
        ('no template, R1 vocabulary, qwen3', 'qwen3', None, r1_tokens, 'ok ' + QWEN),
        ('no template, R1 vocabulary, deepseek2', 'deepseek2', None, r1_tokens, 'ok ' + FULL),
        ('empty template, R1 vocabulary, qwen2', 'qwen2', '', r1_tokens, 'ok ' + QWEN),
        ('unknown template, R1 vocabulary, llama', 'llama', '{{ messages }}', r1_tokens,
         'ok ' + LLAMA),
        ('no template, R1 vocabulary, unknown architecture', 'gpt2', None, r1_tokens,
         'error unsupported'),
        ('no template, R1 vocabulary, no architecture', None, None, r1_tokens,
         'error unsupported'),
        ('no template, plain vocabulary', 'qwen2', None, plain_tokens, 'error unsupported'),
        ('no template, no vocabulary', 'qwen2', None, None, 'error unsupported'),
        ('unknown template, plain vocabulary', 'qwen2', '{{ messages }}', plain_tokens,
         'error unsupported'),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (label, arch, template, tokens, _) in enumerate(cases):
            path = os.path.join(tmp, 'case%d.gguf' % i)
            write_gguf(path, arch, template, tokens)
            paths.append(path)
        lines = detect(paths)
        for (label, _, _, _, want), line, path in zip(cases, lines, paths):
            tap.check(line.startswith(want), 'detect %s: %s' % (label, want),
                      'got: ' + line)
            if want.startswith('error'):
                tap.check(os.path.basename(path) in line,
                          'the message of %s names the file' % label, 'got: ' + line)
        chatml_line = lines[[c[0] for c in cases].index('qwen2 + ChatML template')]
        tap.check('ChatML' in chatml_line and '<|im_start|>' in chatml_line,
                  'a ChatML template is named as such', chatml_line)

    real = [('vocab-deepseek-r1-qwen.gguf', 'ok ' + QWEN),
            ('vocab-deepseek-v3.gguf', 'ok ' + FULL),
            ('vocab-qwen3.gguf', 'error unsupported'),
            ('vocab-llama3.gguf', 'error unsupported')]
    lines = detect([os.path.join(DATA, name) for name, _ in real])
    for (name, want), line in zip(real, lines):
        tap.check(line.startswith(want), 'detect shared/testdata %s: %s' % (name, want),
                  'got: ' + line)


def main():
    tap = Tap()
    compare_templates(tap)
    check_detection(tap)
    print('1..%d' % tap.n)
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
