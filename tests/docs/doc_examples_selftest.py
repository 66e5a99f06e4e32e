#!/usr/bin/env python3
"""Shows that doc_examples.py can fail: runs it on fixtures/examples.md, where one example
holds and three are broken on purpose (wrong output, wrong exit status, a failing sh block)
and one block has no marker, and checks that exactly those are reported.

    doc_examples_selftest.py --bin BUILD/bin
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    fixture = os.path.join(HERE, "fixtures", "examples.md")
    out = subprocess.run([sys.executable, os.path.join(HERE, "doc_examples.py"), "--bin",
                          args.bin, fixture], capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    expect = [
        (out.returncode == 1, "exit status 1"),
        (f"ok   {fixture}:4" in text, "the good example holds"),
        (f"FAIL {fixture}:13" in text and "right output" in text, "wrong output caught"),
        (f"FAIL {fixture}:19" in text and "actual (exit 3)" in text, "wrong exit caught"),
        (f"FAIL {fixture}:24" in text and "exited 1" in text, "failing sh block caught"),
        (f"FAIL {fixture}:28: a sh example without a marker" in text, "unmarked block caught"),
        ("4 run, 3 failed, 1 marked not runnable" in text, "the summary counts"),
    ]
    bad = [what for ok, what in expect if not ok]
    if bad:
        print("doc_examples.py did not behave:", ", ".join(bad), "\n--- its output:\n" + text)
        return 1
    print("doc_examples.py catches wrong output, wrong exit status, failing and unmarked blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
