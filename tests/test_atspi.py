#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads the real window through AT-SPI, as a screen reader does.

Run by run-atspi-test.sh (a private D-Bus session, the accessibility bus
and Xvfb). Starts a11y-app (the window on a stored conversation with two
answers), finds it on the accessibility bus and checks what a screen reader
would say: the messages and their text, the reasoning card's name and
expanded state (and that activating it opens it), the branch arrows and
"Version 2 of 2", and that every button has a name and takes focus.

Usage: test_atspi.py A11Y-APP
"""

import os
import subprocess
import sys
import time

import gi

gi.require_version('Atspi', '2.0')
from gi.repository import Atspi  # noqa: E402

TIMEOUT_S = 30


def fail(message):
    print('not ok - ' + message)
    sys.exit(1)


def walk(node, depth=0):
    """Yields every accessible below node (GTK 4 trees are small here)."""
    if node is None or depth > 60:
        return
    yield node
    for i in range(node.get_child_count()):
        yield from walk(node.get_child_at_index(i), depth + 1)


def states(node):
    node.clear_cache()  # no event listener here: read the state afresh
    state_set = node.get_state_set()
    return {s for s in Atspi.StateType.__enum_values__.values() if state_set.contains(s)}


def text_of(node):
    try:
        text = node.get_text_iface()
    except Exception:
        text = None
    if text is not None:
        return text.get_text(0, text.get_character_count())
    return ''


def find_app(pid):
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is not None and app.get_process_id() == pid:
            return app
    return None


def wait_for(what, probe):
    end = time.monotonic() + TIMEOUT_S
    while time.monotonic() < end:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    fail('timed out waiting for ' + what)


def main():
    env = dict(os.environ)
    env.pop('NO_AT_BRIDGE', None)
    env['GTK_A11Y'] = 'atspi'
    child = subprocess.Popen([sys.argv[1]], stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = child.stdout.readline()
        if line.strip() != 'READY':
            fail('a11y-app did not start (%r)' % line)
        app = wait_for('the app on the accessibility bus', lambda: find_app(child.pid))

        def by_name(role, predicate):
            return [n for n in walk(app)
                    if n.get_role() == role and predicate(n.get_name() or '')]

        # The conversation: a named group per message, holding its text.
        answer = wait_for('the answer group',
                          lambda: by_name(Atspi.Role.PANEL, lambda s: s == 'Answer'))
        if len(answer) != 1:
            fail('expected one "Answer" group, found %d' % len(answer))
        spoken = [n.get_name() or text_of(n) for n in walk(answer[0])]
        if not any('Hello from the second version.' in s for s in spoken):
            fail('the answer text is not readable: %r' % spoken[:20])
        questions = by_name(Atspi.Role.PANEL, lambda s: s == 'Your message')
        if len(questions) != 1 or not any('Read this to me, please.' in (n.get_name() or text_of(n))
                                          for n in walk(questions[0])):
            fail('the question is not readable')
        print('ok 1 - messages are named groups with readable text')

        # The reasoning card: its header is the name, its state is expanded.
        cards = by_name(Atspi.Role.PUSH_BUTTON, lambda s: s == 'Thought for 12 seconds')
        if len(cards) != 1:
            fail('expected one "Thought for 12 seconds" button, found %d' % len(cards))
        card = cards[0]
        if Atspi.StateType.EXPANDABLE not in states(card):
            fail('the reasoning card is not marked expandable')
        if Atspi.StateType.EXPANDED in states(card):
            fail('the reasoning card starts expanded')
        card.get_action_iface().do_action(0)
        wait_for('the card to read as expanded',
                 lambda: Atspi.StateType.EXPANDED in states(card))
        print('ok 2 - the reasoning card reads its state and opens')

        # The branch arrows and the count between them.
        for name in ('Previous version', 'Next version'):
            if len(by_name(Atspi.Role.PUSH_BUTTON, lambda s, n=name: s == n)) != 1:
                fail('no "%s" button' % name)
        if not [n for n in walk(app) if (n.get_name() or '') == 'Version 2 of 2']:
            fail('the version count does not read "Version 2 of 2"')
        print('ok 3 - branch arrows and "Version 2 of 2"')

        # Every button shown has a name and a keyboard path.
        buttons = [n for n in walk(app)
                   if n.get_role() in (Atspi.Role.PUSH_BUTTON, Atspi.Role.TOGGLE_BUTTON)
                   and Atspi.StateType.VISIBLE in states(n)]
        if len(buttons) < 10:
            fail('only %d buttons found' % len(buttons))
        for button in buttons:
            if not (button.get_name() or '').strip():
                fail('a button has no name (%s)' % button.get_description())
            # A menu button takes focus through the toggle button inside it.
            if not any(Atspi.StateType.FOCUSABLE in states(n) for n in walk(button)):
                fail('button "%s" cannot take focus' % button.get_name())
        print('ok 4 - %d buttons, each named and focusable' % len(buttons))
        print('1..4')
    finally:
        child.kill()
        child.wait()


if __name__ == '__main__':
    main()
