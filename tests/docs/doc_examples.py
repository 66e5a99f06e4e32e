#!/usr/bin/env python3
"""Runs the shell examples of the operator docs and fails when one no longer holds.

    doc_examples.py --bin BUILD/bin FILE.md...          run every example, print a summary
    doc_examples.py --bin BUILD/bin --list FILE.md...   list the examples and their markers

Every fenced block of a checked file needs a language, and every shell block (sh, bash,
console, shell) needs a marker on the line before its fence, so no example escapes:

    <!-- doc-test: run -->                      run it (options below)
    <!-- doc-test: skip needs systemd -->       not runnable on one machine; says why

Options of `run`, space separated:
    setup=NAME[,NAME]   run the named setup scripts first (defined once per file, anywhere:
                        <!-- doc-test-setup NAME ... --> with the script on the lines between)
    map=/abs/dir:rel    the doc's absolute path /abs/dir is the test's ./rel (created): the
                        command text is rewritten, and output is compared after mapping back
    env=NAME=VALUE      set in the block's environment (the value mapped like the commands)
    timeout=SECONDS     for the whole block (default 60)

A `sh` block runs as one bash script (`set -e -o pipefail`): it must exit 0.
A `console` block is a session: `$ command` lines (continued by `> ` lines), each followed
by the output it must print (stdout and stderr together) and, when the exit status is not
0, a last line `[N]`. An expected line may hold `...` (any text there); a line that is only
`...` stands for any number of lines. No output lines means the command prints nothing.

Each block runs in a fresh temp dir (its working directory), with the built binaries first
on PATH, HOME in the temp dir, and every process it starts killed at its end. Exit status:
0 when every `run` example held, 1 otherwise (each failure shows the command, the expected
and the actual output).
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

SHELL_LANGS = {"sh", "bash", "console", "shell"}
MARKER_RE = re.compile(r"^\s*<!--\s*doc-test:\s*(run|skip)\b(.*?)-->\s*$")
SETUP_RE = re.compile(r"^<!--\s*doc-test-setup\s+(\S+)\s*$")
FENCE_RE = re.compile(r"^(\s{0,4})(```+|~~~+)\s*(\S*)(.*)$")


class Example:
    def __init__(self, path, line, lang, body, marker, options):
        self.path, self.line, self.lang, self.body = path, line, lang, body
        self.marker, self.options = marker, options

    def where(self):
        return f"{self.path}:{self.line}"


def parse_markdown(path):
    """Returns (examples, setups, problems) of one markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    examples, setups, problems = [], {}, []
    i = 0
    while i < len(lines):
        setup = SETUP_RE.match(lines[i])
        if setup:
            end = i + 1
            while end < len(lines) and lines[end].strip() != "-->":
                end += 1
            setups[setup.group(1)] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        fence = FENCE_RE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, ticks, lang = len(fence.group(1)), fence.group(2), fence.group(3).lower()
        end = i + 1
        while end < len(lines) and not lines[end].lstrip().startswith(ticks):
            end += 1
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[i + 1:end]]
        prev = i - 1
        marker = MARKER_RE.match(lines[prev]) if prev >= 0 else None
        if not lang:
            problems.append(f"{path}:{i + 1}: a fenced block without a language (write ```sh, "
                            "```console, ```text, ...)")
        elif lang in SHELL_LANGS:
            if not marker:
                problems.append(f"{path}:{i + 1}: a {lang} example without a marker: put "
                                "<!-- doc-test: run --> or <!-- doc-test: skip REASON --> "
                                "on the line before its fence")
            else:
                kind, rest = marker.group(1), marker.group(2).strip()
                if kind == "skip" and not rest:
                    problems.append(f"{path}:{i}: doc-test: skip needs a reason")
                examples.append(Example(path, i + 1, lang, body, kind, rest))
        i = end + 1
    return examples, setups, problems


def parse_options(example):
    opts = {"setup": [], "map": [], "env": [], "timeout": 60.0}
    for word in shlex.split(example.options):
        key, _, value = word.partition("=")
        if key == "setup":
            opts["setup"] += [v for v in value.split(",") if v]
        elif key == "map":
            src, _, dst = value.partition(":")
            if not src.startswith("/") or not dst:
                raise ValueError(f"map={value}: want map=/abs/dir:relative/dir")
            opts["map"].append((src.rstrip("/"), dst.strip("/")))
        elif key == "env":
            name, _, env_value = value.partition("=")
            opts["env"].append((name, env_value))
        elif key == "timeout":
            opts["timeout"] = float(value)
        else:
            raise ValueError(f"unknown doc-test option '{word}'")
    return opts


def map_in(text, maps, root):
    for src, dst in maps:
        text = re.sub(re.escape(src) + r"(?=/|\b|$)", os.path.join(root, dst), text)
    return text


def map_out(text, maps, root):
    for src, dst in maps:
        text = text.replace(os.path.join(root, dst), src)
    return text.replace(root + "/", "").replace(root, ".")


def parse_session(body):
    """A console block as [(command, expected_lines, expected_rc)]."""
    steps = []
    for line in body:
        if line.startswith("$ "):
            steps.append([line[2:], [], 0])
        elif line.startswith("> ") and steps and not steps[-1][1]:
            steps[-1][0] += "\n" + line[2:]
        elif not steps:
            if line.strip():
                raise ValueError(f"output before the first '$ ' command: {line!r}")
        elif re.fullmatch(r"\[\d+\]", line.strip()):
            steps[-1][2] = int(line.strip()[1:-1])
        else:
            steps[-1][1].append(line)
    for step in steps:
        while step[1] and not step[1][-1].strip():
            step[1].pop()
    return steps


def line_matches(expected, actual):
    parts = [re.escape(p) for p in expected.split("...")]
    return re.fullmatch(".*".join(parts), actual) is not None


def output_matches(expected, actual):
    """Whole-output match: '...' alone on a line matches any number of lines."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":
        return any(output_matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and line_matches(expected[0], actual[0]) and \
        output_matches(expected[1:], actual[1:])


class Runner:
    def __init__(self, bin_dir, keep):
        self.bin_dir, self.keep = os.path.abspath(bin_dir), keep

    def env(self, root, extra=()):
        env = dict(os.environ)
        env["PATH"] = self.bin_dir + os.pathsep + env.get("PATH", "")
        env["HOME"] = root
        env.pop("SQLITE_MAINTD_CONFIG", None)
        env["TZ"] = "UTC"
        env.update(extra)
        return env

    def shell(self, script, root, timeout, extra_env=()):
        """Runs bash in its own process group; kills the group when it ends."""
        proc = subprocess.Popen(["bash", "-c", script], cwd=root, env=self.env(root, extra_env),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            out, rc = b"", None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        return rc, out.decode(errors="replace")

    def run(self, example, setups):
        """Returns None when the example held, else a failure text."""
        opts = parse_options(example)
        root = tempfile.mkdtemp(prefix="maintd-doc-")
        try:
            for _, dst in opts["map"]:
                os.makedirs(os.path.join(root, dst), exist_ok=True)
            for name in opts["setup"]:
                if name not in setups:
                    return f"setup '{name}' is not defined in {example.path}"
                rc, out = self.shell("set -e -o pipefail\n" + map_in(setups[name], opts["map"],
                                                                    root), root, 60)
                if rc != 0:
                    return f"setup '{name}' failed (exit {rc}):\n{out}"
            opts["env"] = [(k, map_in(v, opts["map"], root)) for k, v in opts["env"]]
            if example.lang == "console":
                return self.run_session(example, opts, root)
            script = "set -e -o pipefail\n" + map_in("\n".join(example.body), opts["map"], root)
            rc, out = self.shell(script, root, opts["timeout"], opts["env"])
            if rc != 0:
                return f"the block exited {rc} (timed out)" if rc is None else \
                    f"the block exited {rc}; output:\n{map_out(out, opts['map'], root)}"
            return None
        finally:
            if self.keep:
                print(f"  kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)

    def run_session(self, example, opts, root):
        steps = parse_session(example.body)
        # One bash for the whole session (variables and background jobs carry over); each
        # command's output goes to its own file, its status after it.
        script = []
        for n, (command, _, _) in enumerate(steps):
            script.append(f"{{\n{map_in(command, opts['map'], root)}\n}} "
                          f">.doc-out.{n} 2>&1 </dev/null; echo $? >.doc-rc.{n}")
        rc, out = self.shell("\n".join(script), root, opts["timeout"], opts["env"])
        if rc is None:
            return "the session timed out"
        for n, (command, expected, want_rc) in enumerate(steps):
            try:
                with open(os.path.join(root, f".doc-rc.{n}")) as f:
                    got_rc = int(f.read().strip())
                with open(os.path.join(root, f".doc-out.{n}"), errors="replace") as f:
                    actual = map_out(f.read(), opts["map"], root).rstrip("\n").split("\n")
            except (OSError, ValueError):
                return f"$ {command}\n  did not run (the session stopped before it)"
            if actual == [""]:
                actual = []
            if got_rc != want_rc or not output_matches(expected, actual):
                return (f"$ {command}\n  expected (exit {want_rc}):\n" +
                        "".join(f"    {x}\n" for x in expected) +
                        f"  actual (exit {got_rc}):\n" + "".join(f"    {x}\n" for x in actual))
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="directory of the built sqlite-maintd")
    parser.add_argument("--list", action="store_true", help="list the examples, run nothing")
    parser.add_argument("--keep", action="store_true", help="keep each example's temp dir")
    parser.add_argument("--only", default="", help="run only examples whose FILE:LINE has this")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    problems, examples, setups_of = [], [], {}
    for path in args.files:
        found, setups, found_problems = parse_markdown(path)
        examples += found
        setups_of[path] = setups
        problems += found_problems
    runner = Runner(args.bin, args.keep)
    ran = failed = 0
    skipped = [e for e in examples if e.marker == "skip"]
    for example in examples:
        if args.list:
            print(f"{example.where()}: {example.lang} {example.marker} {example.options}")
            continue
        if example.marker != "run" or args.only not in example.where():
            continue
        ran += 1
        try:
            failure = runner.run(example, setups_of[example.path])
        except ValueError as e:
            failure = f"bad marker or block: {e}"
        if failure:
            failed += 1
            print(f"FAIL {example.where()}\n{failure}")
        else:
            print(f"ok   {example.where()}")
    for p in problems:
        print(f"FAIL {p}")
    print(f"doc examples: {ran} run, {failed} failed, {len(skipped)} marked not runnable "
          f"({'; '.join(sorted({e.options for e in skipped}))}), {len(problems)} unmarked or "
          "unlabelled blocks")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
