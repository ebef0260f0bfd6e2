#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""man2md.py MANPAGE OUTPUT

Turns a manual page written with the man(7) macros that docs/gsecsock.1
uses (.TH .SH .SS .PP .IP .TP .RS/.RE .EX/.EE .br, the font macros
.B .I .BR .RB .BI .IB .IR .RI and the escapes \\f \\- \\( \\e \\& \\| \\~)
into a gi-docgen Markdown page, so the API reference shows the manual
without a second copy to keep in step. Anything else fails the build:
a new macro must be taught here rather than silently dropped.
"""

import html
import re
import sys

SPECIAL = {'bu': '•', 'aq': "'", 'dq': '"', 'em': '—', 'en': '–', 'lq': '“', 'rq': '”',
           'oq': '‘', 'cq': '’', 'co': '©', 'mu': '×', 'rg': '®', 'ti': '~', 'ha': '^'}
FONT_MACROS = {'B': 'B', 'I': 'I', 'BR': 'BR', 'RB': 'RB', 'BI': 'BI', 'IB': 'IB', 'IR': 'IR', 'RI': 'RI'}


class Failure(Exception):
    pass


def split_args(text):
    """Arguments of a macro line: blank-separated, "quoted" ones kept whole."""
    args, current, quoted, i = [], '', False, 0
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        if c == '"':
            if quoted and text[i + 1:i + 2] == '"':
                current += '"'
                i += 2
                continue
            quoted = not quoted
        elif c in ' \t' and not quoted:
            if current:
                args.append(current)
            current = ''
        else:
            current += c
        i += 1
    if current:
        args.append(current)
    return args


def inline(text, font='R', markdown=True):
    """Roff text with escapes to HTML, starting in FONT (R, B or I); with
    MARKDOWN, escaped for Markdown too."""
    out, stack = [], []

    def set_font(new):
        while stack:
            out.append('</' + stack.pop() + '>')
        if new == 'B':
            out.append('<b>')
            stack.append('b')
        elif new == 'I':
            out.append('<i>')
            stack.append('i')

    set_font(font)
    current = font
    previous = 'R'
    i = 0
    while i < len(text):
        c = text[i]
        if c != '\\':
            out.append(html.escape(c, quote=False))
            i += 1
            continue
        e = text[i + 1:i + 2]
        if e == 'f':
            name = text[i + 2:i + 3]
            if name == '(':
                name, length = text[i + 3:i + 5], 5
            else:
                length = 3
            new = {'B': 'B', 'I': 'I', 'R': 'R', 'P': previous, 'CW': 'R', 'CR': 'R'}.get(name)
            if new is None:
                raise Failure(f'unknown font \\f{name} in {text!r}')
            previous, current = current, new
            set_font(new)
            i += length
        elif e == '(':
            name = text[i + 2:i + 4]
            if name not in SPECIAL:
                raise Failure(f'unknown special character \\({name} in {text!r}')
            out.append(SPECIAL[name])
            i += 4
        elif e == '-':
            # A minus sign, as in options: an entity, or Markdown's
            # typography would turn "--" into a dash.
            out.append('&#45;')
            i += 2
        elif e in ('e', '\\'):
            out.append('\\')
            i += 2
        elif e in ('&', '|', '^', 'c'):
            i += 2
        elif e == '~' or e == ' ':
            out.append('&nbsp;')
            i += 2
        elif e == '"':
            break
        else:
            raise Failure(f'unknown escape \\{e} in {text!r}')
    set_font('R')
    if not markdown:
        return ''.join(out)
    # Markdown must not read the text as emphasis, links or code.
    return re.sub(r'([*_`\[\]])', r'\\\1', ''.join(out))


def font_macro(macro, args):
    fonts = {'B': 'BB', 'I': 'II'}.get(macro, macro)
    if macro in ('B', 'I'):
        return inline(' '.join(args), macro)
    return ''.join(inline(arg, fonts[n % 2]) for n, arg in enumerate(args))


def convert(source):
    lines = source.splitlines()
    out = []
    title = None
    mode = 'text'          # text, pre
    pending_term = False   # after .TP: the next line is the term
    item = None            # the current list or definition item's lines
    paragraph = []

    def flush():
        nonlocal item
        if paragraph:
            text = ' '.join(paragraph)
            if item is not None:
                item.append(text)
            else:
                out.append(text)
                out.append('')
            paragraph.clear()

    def end_item():
        nonlocal item
        flush()
        if item is not None:
            kind, head, body = item[0], item[1], item[2:]
            if kind == 'term':
                out.append(head)
                out.append(': ' + '\n  '.join(body) if body else ': ')
            else:
                out.append('- ' + '\n  '.join(body))
            out.append('')
            item = None

    for number, line in enumerate(lines, start=1):
        try:
            if mode == 'pre':
                if line.startswith('.EE'):
                    out.append('```')
                    out.append('')
                    mode = 'text'
                else:
                    out.append(html.unescape(re.sub(r'<[^>]+>', '', inline(line, markdown=False))))
                continue
            if line.startswith('.\\"') or line.strip() in ('.', ''):
                continue
            if line.startswith('.'):
                parts = line[1:].split(None, 1)
                macro, rest = parts[0], (parts[1] if len(parts) > 1 else '')
                args = split_args(rest)
                if macro == 'TH':
                    title = f'{args[0].lower()}({args[1]})'
                    out.extend([f'Title: {title}', 'SPDX-License-Identifier: LGPL-2.1-or-later', '',
                                f'# {title}', '',
                                f'*{html.escape(" — ".join(a for a in args[3:5] if a))}, generated from '
                                f'the manual page docs/gsecsock.1; also `man {args[1]} {args[0].lower()}`.*',
                                ''])
                elif macro in ('SH', 'SS'):
                    end_item()
                    heading = inline(' '.join(args)).replace('\\', '')
                    if macro == 'SH':
                        heading = heading.capitalize()
                    out.extend([('## ' if macro == 'SH' else '### ') + heading, ''])
                elif macro in ('PP', 'P', 'LP'):
                    end_item()
                elif macro == 'IP':
                    end_item()
                    item = ['bullet', None]
                elif macro == 'TP':
                    end_item()
                    pending_term = True
                elif macro in ('RS', 'RE'):
                    flush()
                elif macro == 'EX':
                    end_item()
                    out.append('```console')
                    mode = 'pre'
                elif macro == 'br':
                    paragraph.append('<br>')
                elif macro in FONT_MACROS:
                    text = font_macro(macro, args)
                    if pending_term:
                        item = ['term', text]
                        pending_term = False
                    else:
                        paragraph.append(text)
                else:
                    raise Failure(f'unknown macro .{macro}')
            else:
                text = inline(line)
                if pending_term:
                    item = ['term', text]
                    pending_term = False
                else:
                    paragraph.append(text)
        except Failure as error:
            raise Failure(f'line {number}: {error}') from None
    end_item()
    if title is None:
        raise Failure('no .TH line')
    return '\n'.join(out).rstrip() + '\n'


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__.splitlines()[0])
    with open(argv[0], encoding='utf-8') as source:
        try:
            text = convert(source.read())
        except Failure as error:
            sys.exit(f'{argv[0]}: {error}')
    with open(argv[1], 'w', encoding='utf-8') as output:
        output.write(text)


if __name__ == '__main__':
    main(sys.argv[1:])
