"""Static reading of userdata shell scripts: never executed, only tokenized.

A small POSIX-shell word splitter that keeps, for every character of every word, its
offset in the script, so a sysctl named inside
``--kubelet-extra-args "--node-labels=a=b --allowed-unsafe-sysctls 'net.x'"`` is
reported at its own column. It understands quoting, escapes, line continuations,
comments, here-documents and redirections, and substitutes variables assigned a
literal earlier in the script (``ARGS="--max-pods=58"`` then ``"$ARGS"``); anything it
cannot know (``$(curl ...)``, ``${cluster_name}`` template holes) stays marked as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEPARATORS = frozenset(";&|()\n")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=(.*)", re.S)
# Words that may precede the real command word.
_SHELL_KEYWORDS = ("if", "then", "else", "elif", "do", "while", "until", "!", "{", "time")
_WRAPPERS = ("exec", "sudo", "nohup", "env", "command", "bash", "sh", "/bin/bash", "/bin/sh", "/usr/bin/env")
_PREFIX_WORDS = frozenset((*_SHELL_KEYWORDS, *_WRAPPERS, "/usr/bin/bash", "source", "."))


@dataclass(slots=True)
class Word:
    """A shell word after quote removal. ``offsets[i]`` is the source offset of
    ``text[i]``; ``unknown`` is set when part of it came from an expansion ekslint
    cannot evaluate."""

    text: str
    start: int
    end: int
    offsets: list[int] = field(repr=False)
    unknown: bool = False
    quoted: bool = False

    def sub(self, begin: int, stop: int) -> Word:
        """The characters ``text[begin:stop]`` as a word of their own."""
        offsets = self.offsets[begin:stop]
        if not offsets:
            anchor = self.offsets[min(begin, len(self.offsets) - 1)] if self.offsets else self.start
            return Word("", anchor, anchor, [], self.unknown, self.quoted)
        return Word(self.text[begin:stop], offsets[0], offsets[-1] + 1, offsets, self.unknown, self.quoted)


@dataclass(slots=True)
class Command:
    """A simple command: its words, with leading assignments split off."""

    words: list[Word]
    assignments: list[tuple[str, Word]]
    extent: tuple[int, int] = (0, 0)  # offsets of the whole command in the script
    # For a command that may run bootstrap.sh: the variables bootstrap.sh reads that
    # the script has set by then, each with whether it is exported (a child process
    # sees only those; a sourced script sees all).
    variables: dict[str, tuple[Word, bool]] | None = None


class _Scanner:
    def __init__(self, source: str, env: dict[str, Word | None]) -> None:
        self.s = source
        self.n = len(source)
        self.i = 0
        self.env = env
        # Every variable assigned at the top level (unknown values included) and the
        # exported names, for what a child process inherits.
        self.assigned: dict[str, Word] = {}
        self.exported: set[str] = set()
        self.allexport = False  # set -a
        self.pending_heredocs: list[tuple[str, bool]] = []
        self.comments: list[tuple[int, int]] = []  # offset ranges of # comments
        self.heredocs: list[tuple[int, int]] = []  # offset ranges of here-document bodies

    def _skip_heredocs(self) -> None:
        """Called at a newline: skip the bodies of here-documents opened on this line."""
        for delimiter, strip_tabs in self.pending_heredocs:
            begin = self.i
            while self.i < self.n:
                end = self.s.find("\n", self.i)
                line = self.s[self.i : end if end != -1 else self.n]
                self.i = end + 1 if end != -1 else self.n
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
            self.heredocs.append((begin, self.i))
        self.pending_heredocs.clear()

    def commands(self) -> list[Command]:
        result: list[Command] = []
        words: list[Word] = []
        s, n = self.s, self.n
        while self.i < n:
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\\" and self.i + 1 < n and s[self.i + 1] == "\n":
                self.i += 2
            elif c == "#":
                end = s.find("\n", self.i)
                end = end if end != -1 else n
                self.comments.append((self.i, end))
                self.i = end
            elif c in _SEPARATORS:
                self.i += 1
                if words:
                    result.append(self._command(words))
                    words = []
                if c == "\n" and self.pending_heredocs:
                    self._skip_heredocs()
            elif c in "<>":
                self._redirection(words)
            else:
                word = self._word()
                if word is not None:
                    words.append(word)
        if words:
            result.append(self._command(words))
        return result

    def _command(self, words: list[Word]) -> Command:
        assignments: list[tuple[str, Word]] = []
        rest = words
        exporting = False
        # ``export A=1`` and plain ``A=1`` both set A for the rest of the script;
        # ``export A`` (and ``declare -x``) hands A to the commands run after it.
        if rest and rest[0].text in ("export", "readonly", "declare", "local", "typeset") and not rest[0].quoted:
            options = [w.text for w in rest[1:] if w.text.startswith("-")]
            exporting = rest[0].text == "export" or any("x" in o for o in options if not o.startswith("+"))
            candidates = [w for w in rest[1:] if not w.text.startswith(("-", "+"))]
            names = [w for w in candidates if _NAME.fullmatch(w.text)]
            if exporting:
                for word in names:
                    self.exported.add(word.text)
                    value = self.env.get(word.text)
                    if word.text not in self.assigned and value is not None:
                        self.assigned[word.text] = value
            candidates = [w for w in candidates if w not in names]
            if candidates and all(_ASSIGNMENT.fullmatch(w.text) for w in candidates):
                rest = candidates
            elif not candidates and names:
                return Command([], [], (words[0].start, words[-1].end))
        elif rest and rest[0].text == "set" and len(rest) > 1:
            flags = [w.text for w in rest[1:]]
            if any(f.startswith("-") and "a" in f[1:] for f in flags if not f.startswith("--")) or (
                "allexport" in flags and "-o" in flags
            ):
                self.allexport = True
            if any(f.startswith("+") and "a" in f[1:] for f in flags) or ("allexport" in flags and "+o" in flags):
                self.allexport = False
        elif rest and rest[0].text == "unset":
            for word in rest[1:]:
                self.env.pop(word.text, None)
                self.assigned.pop(word.text, None)
                self.exported.discard(word.text)
        while rest:
            m = _ASSIGNMENT.fullmatch(rest[0].text)
            if not m or (rest[0].quoted and rest[0].offsets and self.s[rest[0].start] in "'\""):
                break
            value = rest[0].sub(m.start(2), len(rest[0].text))
            assignments.append((m.group(1), value))
            rest = rest[1:]
        if not rest:  # only assignments: they stay in effect for the rest of the script
            for name, value in assignments:
                self.env[name] = None if value.unknown else value
                self.assigned[name] = value
                if exporting or self.allexport:
                    self.exported.add(name)
        command = Command(rest, assignments, (words[0].start, words[-1].end))
        if any(w.text.endswith("bootstrap.sh") for w in rest):
            command.variables = {
                name: (word, name in self.exported)
                for name, word in self.assigned.items()
                if name in BOOTSTRAP_ENVIRONMENT
            }
        return command

    def _redirection(self, words: list[Word]) -> None:
        s = self.s
        # ``2>&1``: a word of digits right before the operator is a file descriptor.
        if words and words[-1].end == self.i and words[-1].text.isdigit():
            words.pop()
        if s.startswith("<<", self.i) and not s.startswith("<<<", self.i):
            self.i += 2
            strip_tabs = self.i < self.n and s[self.i] == "-"
            if strip_tabs:
                self.i += 1
            while self.i < self.n and s[self.i] in " \t":
                self.i += 1
            delimiter = self._word()
            if delimiter is not None:
                self.pending_heredocs.append((delimiter.text, strip_tabs))
            return
        while self.i < self.n and s[self.i] in "<>&|":
            self.i += 1
        if self.i < self.n and (s[self.i].isdigit() or s[self.i] == "-") and s[self.i - 1] == "&":
            while self.i < self.n and (s[self.i].isdigit() or s[self.i] == "-"):
                self.i += 1
            return
        while self.i < self.n and s[self.i] in " \t":
            self.i += 1
        self._word()  # the file name: not an argument

    def _word(self) -> Word | None:
        s, n = self.s, self.n
        start = self.i
        chars: list[str] = []
        offsets: list[int] = []
        unknown = quoted = False
        while self.i < n:
            c = s[self.i]
            if c in " \t\r" or c in _SEPARATORS or c in "<>":
                break
            if c == "\\":
                if self.i + 1 < n:
                    if s[self.i + 1] != "\n":
                        chars.append(s[self.i + 1])
                        offsets.append(self.i + 1)
                    self.i += 2
                else:
                    self.i += 1
            elif c == "'":
                quoted = True
                end = s.find("'", self.i + 1)
                end = n if end == -1 else end
                chars.extend(s[self.i + 1 : end])
                offsets.extend(range(self.i + 1, end))
                self.i = end + 1
            elif c == '"':
                quoted = True
                self.i += 1
                while self.i < n and s[self.i] != '"':
                    d = s[self.i]
                    if d == "\\" and self.i + 1 < n and s[self.i + 1] in '$`"\\\n':
                        if s[self.i + 1] != "\n":
                            chars.append(s[self.i + 1])
                            offsets.append(self.i + 1)
                        self.i += 2
                    elif d in "$`":
                        unknown |= self._expansion(chars, offsets)
                    else:
                        chars.append(d)
                        offsets.append(self.i)
                        self.i += 1
                self.i += 1
            elif c in "$`":
                unknown |= self._expansion(chars, offsets)
            else:
                chars.append(c)
                offsets.append(self.i)
                self.i += 1
        if self.i == start:
            self.i += 1  # never stall on a character no branch consumed
            return None
        return Word("".join(chars), start, self.i, offsets, unknown, quoted)

    def _expansion(self, chars: list[str], offsets: list[int]) -> bool:
        """Consume ``$NAME``, ``${NAME}``, ``$(...)``, ``$((...))`` or a backquote
        substitution. Returns True when its value is unknown."""
        s, n = self.s, self.n
        begin = self.i
        if s[begin] == "`":
            end = s.find("`", begin + 1)
            self.i = n if end == -1 else end + 1
            return True
        nxt = s[begin + 1] if begin + 1 < n else ""
        name: str | None = None
        if nxt == "(":
            self.i = _matching(s, begin + 1, "(", ")")
            return True
        if nxt == "{":
            close = s.find("}", begin + 2)
            self.i = n if close == -1 else close + 1
            inner = s[begin + 2 : close if close != -1 else n]
            name = inner if _NAME.fullmatch(inner) else None
        else:
            m = _NAME.match(s, begin + 1)
            if not m:
                chars.append("$")
                offsets.append(begin)
                self.i = begin + 1
                return False
            self.i = m.end()
            name = m.group()
        value = self.env.get(name) if name is not None else None
        if value is None:
            return True
        chars.extend(value.text)
        offsets.extend(value.offsets)  # positions point at the assignment
        return value.unknown


def _matching(s: str, i: int, opening: str, closing: str) -> int:
    depth = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == "'":
            end = s.find("'", i + 1)
            i = n if end == -1 else end
        elif c == "\\":
            i += 1
        i += 1
    return n


@dataclass(slots=True)
class Script:
    commands: list[Command]
    comments: list[tuple[int, int]]  # offset ranges of comments (not heredoc bodies)
    heredocs: list[tuple[int, int]] = field(default_factory=list)  # offset ranges of here-document bodies


def read_script(source: str) -> Script:
    scanner = _Scanner(source, {})
    commands = scanner.commands()
    return Script(commands, scanner.comments, scanner.heredocs)


def parse_script(source: str) -> list[Command]:
    """Simple commands of a script, in order, with literal variables substituted."""
    return read_script(source).commands


def split_words(word: Word) -> list[Word]:
    """Split a word's text again, honouring quotes, the way systemd splits
    ``$KUBELET_EXTRA_ARGS`` and nodeadm's kubelet flags: offsets still point into the
    original script."""
    result: list[Word] = []
    text = word.text
    n = len(text)
    i = 0
    while i < n:
        while i < n and text[i] in " \t\n\r":
            i += 1
        if i >= n:
            break
        keep: list[int] = []
        quoted = False
        while i < n and text[i] not in " \t\n\r":
            c = text[i]
            if c in "'\"":
                quoted = True
                end = text.find(c, i + 1)
                end = n if end == -1 else end
                keep.extend(range(i + 1, end))
                i = end + 1
            elif c == "\\" and i + 1 < n:
                keep.append(i + 1)
                i += 2
            else:
                keep.append(i)
                i += 1
        if keep:
            offsets = [word.offsets[k] for k in keep]
            result.append(
                Word("".join(text[k] for k in keep), offsets[0], offsets[-1] + 1, offsets, word.unknown, quoted)
            )
    return result


def command_name(command: Command) -> tuple[int, Word] | None:
    """Index and word of the program a command runs, skipping wrappers such as
    ``sudo``, ``exec`` or ``bash -x``."""
    for index, word in enumerate(command.words):
        if word.text in _PREFIX_WORDS or (index and word.text.startswith("-")):
            continue
        if index and _ASSIGNMENT.fullmatch(word.text) and any(w.text in _ENV_WRAPPERS for w in command.words[:index]):
            continue  # env NAME=value program
        return index, word
    return None


_ENV_WRAPPERS = frozenset(("env", "/usr/bin/env", "sudo"))


# -- bootstrap.sh ---------------------------------------------------------------------

# amazon-eks-ami templates/al2/runtime/bootstrap.sh @0ab84280: every option takes the
# next argument as its value ("--flag value"); "--flag=value" is not recognised and
# lands among the positional arguments (DOMAIN.md §1.3).
BOOTSTRAP_OPTIONS = frozenset(
    (
        "--apiserver-endpoint",
        "--aws-api-retry-attempts",
        "--b64-cluster-ca",
        "--cluster-id",
        "--container-runtime",
        "--containerd-config-file",
        "--dns-cluster-ip",
        "--docker-config-json",
        "--enable-docker-bridge",
        "--enable-local-outpost",
        "--ip-family",
        "--kubelet-extra-args",
        "--local-disks",
        "--mount-bpf-fs",
        "--pause-container-account",
        "--pause-container-version",
        "--service-ipv4-cidr",
        "--service-ipv6-cidr",
        "--use-max-pods",
    )
)


# The variables bootstrap.sh reads from its environment when the option is not given
# (``KUBELET_EXTRA_ARGS="${KUBELET_EXTRA_ARGS:-}"``, ``USE_MAX_PODS="${USE_MAX_PODS:-true}"``,
# amazon-eks-ami templates/al2/runtime/bootstrap.sh), with the option each stands for.
BOOTSTRAP_ENVIRONMENT = {
    "USE_MAX_PODS": "--use-max-pods",
    "B64_CLUSTER_CA": "--b64-cluster-ca",
    "APISERVER_ENDPOINT": "--apiserver-endpoint",
    "KUBELET_EXTRA_ARGS": "--kubelet-extra-args",
    "ENABLE_DOCKER_BRIDGE": "--enable-docker-bridge",
    "API_RETRY_ATTEMPTS": "--aws-api-retry-attempts",
    "DOCKER_CONFIG_JSON": "--docker-config-json",
    "CONTAINERD_CONFIG_FILE": "--containerd-config-file",
    "PAUSE_CONTAINER_ACCOUNT": "--pause-container-account",
    "PAUSE_CONTAINER_VERSION": "--pause-container-version",
    "DNS_CLUSTER_IP": "--dns-cluster-ip",
    "CONTAINER_RUNTIME": "--container-runtime",
    "IP_FAMILY": "--ip-family",
    "SERVICE_IPV4_CIDR": "--service-ipv4-cidr",
    "SERVICE_IPV6_CIDR": "--service-ipv6-cidr",
    "ENABLE_LOCAL_OUTPOST": "--enable-local-outpost",
    "CLUSTER_ID": "--cluster-id",
    "MOUNT_BPF_FS": "--mount-bpf-fs",
    "LOCAL_DISKS": "--local-disks",
}


@dataclass(slots=True)
class BootstrapCall:
    """One ``/etc/eks/bootstrap.sh`` invocation."""

    program: Word
    cluster_name: Word | None
    options: dict[str, Word]
    positional: list[Word]
    # Values bootstrap.sh throws away: an option given twice keeps only its last value.
    overridden: list[tuple[str, Word]] = field(default_factory=list)
    extent: tuple[int, int] = (0, 0)  # offsets of the whole command
    # Options bootstrap.sh takes from its environment (``--kubelet-extra-args`` for
    # ``KUBELET_EXTRA_ARGS``): exported before the call, assigned on the call's own
    # line, or any variable of a script that sources bootstrap.sh.
    environment: dict[str, Word] = field(default_factory=dict)

    def option(self, name: str) -> Word | None:
        """The value bootstrap.sh uses for an option: the argument, else its variable."""
        given = self.options.get(name)
        return given if given is not None else self.environment.get(name)

    @property
    def kubelet_args(self) -> list[Word]:
        extra = self.option("--kubelet-extra-args")
        return split_words(extra) if extra is not None else []

    @property
    def extra_kubelet_flags(self) -> list[Flag]:
        """The kubelet flags passed in ``--kubelet-extra-args``."""
        return kubelet_flags(self.kubelet_args)


def is_bootstrap_program(word: Word) -> bool:
    text = word.text
    return text == "bootstrap.sh" or text.endswith("/eks/bootstrap.sh") or text == "/etc/eks/bootstrap.sh"


def bootstrap_calls(commands: list[Command]) -> list[BootstrapCall]:
    calls: list[BootstrapCall] = []
    for command in commands:
        found = command_name(command)
        if found is None or not is_bootstrap_program(found[1]):
            continue
        index, program = found
        environment = _call_environment(command, index)
        options: dict[str, Word] = {}
        overridden: list[tuple[str, Word]] = []
        positional: list[Word] = []
        args = command.words[index + 1 :]
        i = 0
        while i < len(args):
            arg = args[i]
            if arg.text in BOOTSTRAP_OPTIONS and i + 1 < len(args):
                if arg.text in options:
                    overridden.append((arg.text, options[arg.text]))
                options[arg.text] = args[i + 1]
                i += 2
                continue
            if arg.text not in ("-h", "--help"):
                positional.append(arg)
            i += 1
        calls.append(
            BootstrapCall(
                program,
                positional[0] if positional else None,
                options,
                positional,
                overridden,
                command.extent,
                environment,
            )
        )
    return calls


def _call_environment(command: Command, index: int) -> dict[str, Word]:
    """The options a bootstrap.sh call gets from variables: exported ones (not through
    ``sudo``, which resets the environment, unless ``-E``), all of them when the
    script sources bootstrap.sh, and ``NAME=value`` on the call's own line."""
    wrappers = [w.text for w in command.words[:index]]
    sourced = bool(wrappers) and wrappers[-1] in ("source", ".")
    reset = "sudo" in wrappers and not any(w in ("-E", "--preserve-env") for w in wrappers)
    found: dict[str, Word] = {}
    for name, (word, exported) in (command.variables or {}).items():
        if sourced or (exported and not reset):
            found[BOOTSTRAP_ENVIRONMENT[name]] = word
    inline = list(command.assignments)
    for word in command.words[:index]:  # env NAME=value bootstrap.sh / sudo NAME=value ...
        m = _ASSIGNMENT.fullmatch(word.text)
        if m is not None:
            inline.append((m.group(1), word.sub(m.start(2), len(word.text))))
    for name, value in inline:
        if name in BOOTSTRAP_ENVIRONMENT:
            found[BOOTSTRAP_ENVIRONMENT[name]] = value
    return found


# -- kubelet command-line flags ---------------------------------------------------------


@dataclass(slots=True)
class Flag:
    name: str  # without leading dashes
    flag: Word
    value: Word | None


def kubelet_flags(words: list[Word]) -> list[Flag]:
    """Kubelet flags in ``--name=value`` or ``--name value`` form (pflag rules: a value
    in the next argument is taken unless it looks like another flag)."""
    flags: list[Flag] = []
    i = 0
    while i < len(words):
        word = words[i]
        text = word.text
        if text.startswith("-") and len(text) > 1:
            body = text.lstrip("-")
            dashes = len(text) - len(body)
            if "=" in body:
                eq = body.index("=")
                flags.append(Flag(body[:eq], word.sub(0, dashes + eq), word.sub(dashes + eq + 1, len(text))))
            elif i + 1 < len(words) and not words[i + 1].text.startswith("-"):
                flags.append(Flag(body, word, words[i + 1]))
                i += 1
            else:
                flags.append(Flag(body, word, None))
        i += 1
    return flags


def split_list(word: Word, sep: str = ",") -> list[Word]:
    """Items of a comma-separated flag value, each with its own offsets."""
    items: list[Word] = []
    begin = 0
    text = word.text
    for i, c in enumerate(text + sep):
        if c == sep:
            item = word.sub(begin, i)
            stripped = item.text.strip()
            if stripped:
                lead = len(item.text) - len(item.text.lstrip())
                items.append(item.sub(lead, lead + len(stripped)))
            begin = i + 1
    return items
