#!/usr/bin/env bash
# Keeps the repository self-contained: everything a person who clones it needs is inside it.
# Fails (exit 1, listing every hit) when
#   1. a tracked file names a path outside the repository: the development workspace's sibling
#      `shared` folder or its work directory (the one exception: bench's optional FastAPI
#      baseline, named through BASELINE_RUN on the same line);
#   2. a relative Markdown link of a tracked .md file points to a file that does not exist;
#   3. an error string the server can send (a {"detail": ...} of the HTTP layer, a 422 `msg` or
#      `type`, an {"error": ...} of the WebSocket layer) is not written verbatim in docs/protocol.md.
# Registered as the ctest `self_contained_docs` (label lint).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import os
import re
import subprocess
import sys
from pathlib import Path

SELF = "scripts/check-self-contained.sh"
CONTRACT = Path("docs/protocol.md")
problems = []


def tracked_files():
    """Tracked files that exist in the work tree (all files when this is not a git checkout)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout.decode()
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = [str(p) for p in Path(".").rglob("*")
                 if p.is_file() and not p.parts[0].startswith((".git", "build"))]
    return sorted(n for n in names if os.path.isfile(n))


def text_of(name):
    data = Path(name).read_bytes()
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


files = tracked_files()

# 1. Paths outside the repository.
# Spelled in pieces, so that this file does not itself name the paths it refuses.
sibling_folder, work_directory = "../" + "shared", "/" + "work/"
outside = re.compile(re.escape(sibling_folder) + "|" + re.escape(work_directory))
for name in files:
    if name == SELF:
        continue
    text = text_of(name)
    if text is None:
        continue
    for number, line in enumerate(text.splitlines(), 1):
        if not outside.search(line):
            continue
        optional_baseline = ((name.startswith("bench/") or name == "BENCHMARKS.md") and "BASELINE_RUN" in line
                             and work_directory not in line)
        if not optional_baseline:
            problems.append(f"{name}:{number}: path outside the repository: {line.strip()}")

# 2. Relative Markdown links that lead nowhere.
link = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
for name in files:
    if not name.endswith(".md"):
        continue
    fenced = False
    for number, line in enumerate(Path(name).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        for target in link.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http:, https:, mailto:, or an anchor of the same page
            path = target.split("#", 1)[0].split("?", 1)[0]
            base = Path(".") if path.startswith("/") else Path(name).parent
            resolved = base / path.lstrip("/")
            if not resolved.exists():
                problems.append(f"{name}:{number}: broken link: {target}")

# 3. Error strings of the server, each written verbatim in docs/protocol.md.
CALLS = ("fail", "error_response", "plain_error", "reject", "body_error", "fail_validation", "unexpected",
         "spawn_refusal", "json_parse_error")
literal = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def call_arguments(text, start):
    """The text between the parenthesis (or brace) at `start` and its match."""
    opening = text[start]
    closing = {"(": ")", "{": "}"}[opening]
    depth, i, in_string = 0, start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return ""


def pieces(arguments):
    """The string literals of `arguments`, adjacent ones joined as C++ joins them."""
    joined = re.sub(r'"\s*\n?\s*"', "", arguments)  # "a " "b" -> "a b"
    return [m.encode().decode("unicode_escape") for m in literal.findall(joined)]


strings = {}  # string -> where it is defined
# Left out: what never reaches a client. src/cluster/ fails between server processes and into the
# log; src/app/ (and an admin command line, wherever it lives) prints to the operator's terminal;
# the texts that src/store/ writes itself are the administration commands' (REST answers of the
# store use the default texts of src/core/error.cpp, which are checked).
NOT_SENT = ("src/cluster/", "src/app/", "src/admin/", "src/cli/", "src/store/")
sources = [n for n in files if n.startswith("src/") and not n.startswith(NOT_SENT)
           and n.endswith((".cpp", ".hpp", ".ipp"))]
# Error kinds declared in src/core/error.hpp with the comment "administration only": their default
# texts are printed by the commands, never sent by the server.
errc_header = Path("src/core/error.hpp")
ADMIN_ONLY = set(re.findall(r"^\s*(\w+),\s*//.*administration only", errc_header.read_text(encoding="utf-8"), re.M)
                 if errc_header.exists() else [])
call = re.compile(r"\b(?:std::)?(" + "|".join(CALLS) + r")\s*([({])")
for name in sources:
    text = Path(name).read_text(encoding="utf-8")
    for m in call.finditer(text):
        for s in pieces(call_arguments(text, m.start(2))):
            strings.setdefault(s, name)
    if name in ("src/core/error.cpp", "src/core/json_parse.cpp"):  # default details, JSON parse errors
        for line in text.splitlines():
            if "errc::validation_failed" in line:  # its detail is the list of field errors, never text
                continue
            kind = re.search(r"errc::(\w+)", line)
            if kind and kind.group(1) in ADMIN_ONLY:
                continue
            for s in re.findall(r'return\s+"((?:[^"\\]|\\.)*)"', line):
                strings.setdefault(s, name)
    if name == "src/signaling/messages.hpp":  # the {"error": ...} strings of the WebSocket layer
        block = re.search(r"namespace errors \{(.*?)\n\}", text, re.S)
        for s in re.findall(r'string_view\s+\w+\s*=\s*"((?:[^"\\]|\\.)*)"', block.group(1) if block else ""):
            strings.setdefault(s, name)

if not CONTRACT.exists():
    problems.append(f"{CONTRACT}: missing")
else:
    contract = CONTRACT.read_text(encoding="utf-8")
    for s, where in sorted(strings.items()):
        if len(s.strip(" ,.:;()?")) < 3:
            continue  # a bare separator (" ", "?)") between the parts of a composed message
        if s not in contract:
            problems.append(f"{CONTRACT}: error string of {where} not documented verbatim: {s!r}")

for p in problems:
    print(p, file=sys.stderr)
if problems:
    print(f"check-self-contained: {len(problems)} problem(s)", file=sys.stderr)
    sys.exit(1)
print(f"check-self-contained: {len(files)} tracked files, {len(strings)} error strings: ok")
PY
