"""The shell scripts pass shellcheck, and every command they call exists.

shellcheck does not see a call to a function that is not defined (build-images.sh
once called `cleanup` after the helper became `remove_rootfs`, and every fresh
machine failed). So each script is parsed with shfmt, and every command name it
calls, including trap handlers and what `exec`, `nohup`, `setsid`, `xargs` or
`timeout` run, must be a function of the script or of a file it sources, a bash
builtin or keyword, or a program on PATH. This runs after scripts/machine-setup.sh,
so the programs it installs are on PATH.
"""

import glob
import json
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tests/vm/run-in-vm.sh is left out: it runs inside the VM, whose programs differ.
SCRIPTS = sorted(glob.glob(os.path.join(REPO, "scripts", "*.sh")) + glob.glob(os.path.join(REPO, "bench", "*.sh"))) + [
    os.path.join(REPO, ".ci", "run"), os.path.join(REPO, "tests", "sanity", "run.sh")]
# Commands that run their arguments: the command is the first word that is not an option
# (and, for timeout, not its duration).
WRAPPERS = {"exec", "nohup", "setsid", "command", "xargs", "timeout", "env", "flock"}


def parse(text):
    result = subprocess.run(["shfmt", "--tojson"], input=text, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def literal(word):
    """A word's text if it is made of literal text and quotes only (no expansion), else None."""
    text = ""
    for part in word.get("Parts", []):
        if part["Type"] in ("Lit", "SglQuoted"):
            text += part["Value"]
        elif part["Type"] == "DblQuoted" and all(inner["Type"] == "Lit" for inner in part.get("Parts", [])):
            text += "".join(inner["Value"] for inner in part.get("Parts", []))
        else:
            return None
    return text or None


def nodes(tree, kind):
    if isinstance(tree, dict):
        if tree.get("Type") == kind:
            yield tree
        for value in tree.values():
            yield from nodes(value, kind)
    elif isinstance(tree, list):
        for value in tree:
            yield from nodes(value, kind)


# Options of the wrappers that take a value.
VALUED = {"timeout": {"-k", "-s", "--kill-after", "--signal"}, "flock": {"-w", "-E", "--timeout"},
          "xargs": {"-I", "-n", "-P", "-d", "-a", "-L", "-s", "-E"}}


def wrapped_command(name, args):
    """The command a wrapper runs, from its argument words (literal or None)."""
    operands = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg is not None and arg in VALUED.get(name, ()):
            skip = True
        elif arg is None or not arg.startswith("-") and not (name == "env" and "=" in arg):
            operands.append(arg)
    if name in ("timeout", "flock"):
        operands = operands[1:]  # the duration, the lock's file or descriptor
    return operands[0] if operands else None


def calls(tree):
    """(command name, line) of every call with a literal command name, trap handlers included."""
    for call in nodes(tree, "CallExpr"):
        args = [literal(word) for word in call.get("Args", [])]
        if not args or args[0] is None:
            continue
        line = call["Pos"]["Line"]
        yield args[0], line
        name = args[0]
        while name in WRAPPERS:
            name = wrapped_command(name, args[1:])
            if name is None:
                break
            yield name, line
            args = args[args.index(name):]
        if args[0] == "trap" and len(args) > 2 and args[1] is not None and not args[1].startswith("-"):
            for handler, _line in calls(parse(args[1])):
                yield handler, line


def sourced(tree, script):
    """Files the script sources (`. FILE` or `source FILE`), found next to it by their base name."""
    for call in nodes(tree, "CallExpr"):
        words = call.get("Args", [])
        if len(words) >= 2 and literal(words[0]) in (".", "source"):
            last = words[1]["Parts"][-1]
            text = last.get("Value") or "".join(p.get("Value", "") for p in last.get("Parts", []))
            path = os.path.join(os.path.dirname(script), os.path.basename(text))
            if os.path.isfile(path):
                yield path


def functions(script, seen=None):
    """Functions defined in the script and in the files it sources."""
    seen = set() if seen is None else seen
    if script in seen:
        return set()
    seen.add(script)
    with open(script) as handle:
        tree = parse(handle.read())
    names = {decl["Name"]["Value"] for decl in nodes(tree, "FuncDecl")}
    for path in sourced(tree, script):
        names |= functions(path, seen)
    return names


def builtins():
    listing = subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True, text=True, check=True)
    return set(listing.stdout.split())


def undefined(script):
    with open(script) as handle:
        tree = parse(handle.read())
    known = functions(script) | builtins()
    path = os.pathsep.join([os.path.join(REPO, ".venv", "bin"), os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return sorted({"%s:%d: %s" % (os.path.relpath(script, REPO), line, name) for name, line in calls(tree)
                   if name not in known and "/" not in name and shutil.which(name, path=path) is None})


def test_shellcheck():
    result = subprocess.run(["shellcheck", "--external-sources", *SCRIPTS], cwd=REPO, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: os.path.relpath(path, REPO))
def test_every_command_a_script_calls_exists(script):
    assert not undefined(script), "commands that are neither functions, builtins nor programs on PATH"


def test_the_check_finds_an_undefined_function(tmp_path):
    """The regression that broke every fresh machine, and the places a command name hides in."""
    (tmp_path / "lib.sh").write_text("remove_rootfs() { :; }\n")
    script = tmp_path / "build.sh"
    script.write_text('. "$here/lib.sh"\ntrap remove_rootfs EXIT\ntrap "wipe_all; true" INT\nremove_rootfs\n'
                      'if true; then\n  cleanup\nfi\nx=$(nohup gone_too --flag)\nexec timeout -k 1 5 also_gone\n')
    name = os.path.relpath(script, REPO)
    assert undefined(str(script)) == sorted(["%s:3: wipe_all" % name, "%s:6: cleanup" % name,
                                             "%s:8: gone_too" % name, "%s:9: also_gone" % name])
