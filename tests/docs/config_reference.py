#!/usr/bin/env python3
"""Checks docs/configuration.md's key tables against what `validate-config` prints.

    config_reference.py --bin BUILD/bin --doc docs/configuration.md

Every table headed `| key | type | default | meaning |` is read, each key placed where the
normalized config has it (by the heading it sits under: top level, `shutdown`, a
`defaults:` section, a `databases:` entry, a lease or retention rule), and checked:
  - the key exists in the printed config (name),
  - its documented default is what is printed for a config that sets nothing else (default),
  - the printed value has the documented type's syntax: durations and sizes in their units,
    ratios, booleans, integers (unit);
and every key the daemon prints is documented, so neither side can drift. The config used
names one database (made here, with a queue table and an events table) with two lease rules
(one by expiry, one by heartbeat) and one retention rule that set only what is required. Exit 0 when all hold, 1 otherwise.
"""

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

ROW_RE = re.compile(r"^\|\s*`([a-z_.]+)`\s*\|([^|]*)\|([^|]*)\|")
HEADER_RE = re.compile(r"^\|\s*key\s*\|\s*type\s*\|\s*default\s*\|")
TYPE_SYNTAX = {
    "duration": r"0|[0-9.]+(ms|s|m|h|d)",
    "size": r"[0-9]+(KiB|MiB|GiB|TiB)?",
    "boolean": r"true|false",
    "ratio": r"[0-9.]+",
    "factor": r"[0-9.]+",
    "integer": r"-?[0-9]+",
}


def parse_printed(text):
    """The normalized config (block YAML: maps, lists of maps, scalars) as flat
    {dotted.path: value}; list items are [0], [1]..."""
    flat, stack = {}, []  # stack of (indent, path)
    counters = {}
    for raw in text.split("\n"):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip())
        line = raw.strip()
        item = line.startswith("- ")
        if item:
            line = line[2:]
        while stack and stack[-1][0] >= indent + (0 if not item else 0) and \
                not (item and stack[-1][0] < indent):
            stack.pop()
        parent = stack[-1][1] if stack else ""
        if item:
            n = counters.get(parent, -1) + 1
            counters[parent] = n
            parent = f"{parent}[{n}]"
            stack.append((indent, parent))
            indent += 2
        key, _, value = line.partition(":")
        path = f"{parent}.{key}" if parent else key
        value = value.strip()
        if value == "":
            stack.append((indent, path))
        else:
            flat[path] = value
    return flat


def doc_rows(doc_path):
    """[(line, dotted key, type, default cell)] with keys placed by their heading."""
    rows, h2, h3, in_table = [], "", "", False
    with open(doc_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("## "):
                h2, h3 = line[3:].strip().lower(), ""
            elif line.startswith("### "):
                h3 = line[4:].strip().lower()
            if HEADER_RE.match(line):
                in_table = True
                continue
            if not line.startswith("|"):
                in_table = False
                continue
            m = ROW_RE.match(line) if in_table else None
            if not m:
                continue
            key, typ, default = m.group(1), m.group(2).strip(), m.group(3).strip()
            if h2.startswith("defaults"):
                key = f"defaults.{key}"
            elif h2.startswith("databases"):
                key = f"databases[0].{key}"
            elif h2.startswith("lease requeue") and h3.startswith("lease_requeue"):
                key = f"databases[0].lease_requeue[0].{key}"
            elif h2.startswith("lease requeue") and h3.startswith("retention"):
                key = f"databases[0].retention[0].{key}"
            elif h2.startswith("top-level") or h2.startswith("shutdown"):
                pass
            else:
                continue
            rows.append((n, key, typ, default))
    return rows


def literal_default(cell):
    """The default a cell states as a literal (`5m`, `"03:00"`), or None ("see ...",
    "not set", "the file stem", "**required**")."""
    m = re.match(r"^`([^`]*)`", cell)
    return m.group(1) if m else None


def make_config(root):
    db = os.path.join(root, "app.db")
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT, lease_expires_at INTEGER,
                           heartbeat_at INTEGER);
        CREATE TABLE events(id INTEGER PRIMARY KEY, created_at INTEGER);""")
    con.close()
    cfg = os.path.join(root, "config.yaml")
    with open(cfg, "w") as f:
        f.write(f"databases:\n  - path: {db}\n    lease_requeue:\n      - table: tasks\n"
                f"      - table: tasks\n        heartbeat_column: heartbeat_at\n"
                f"    retention:\n      - table: events\n")
    return cfg


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--doc", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maintd-cfgdoc-") as root:
        cfg = make_config(root)
        out = subprocess.run([os.path.join(args.bin, "sqlite-maintd"), "validate-config",
                              "--config", cfg], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            print(f"FAIL validate-config exited {out.returncode}:\n{out.stdout}{out.stderr}")
            return 1
        printed = parse_printed(out.stdout)

    problems, documented = [], set()
    for line, key, typ, cell in doc_rows(args.doc):
        documented.add(key)
        where = f"{args.doc}:{line}: {key}"
        is_section = cell.startswith("see ") or typ in ("map", "list", "list of rules")
        if is_section or any(k.startswith(key + ".") or k.startswith(key + "[")
                             for k in printed):
            continue  # a section row: its keys have rows of their own
        if key not in printed and key.replace("lease_requeue[0]", "lease_requeue[1]") in printed:
            key = key.replace("lease_requeue[0]", "lease_requeue[1]")  # heartbeat-only keys
        if key not in printed:
            if "not set" in cell or "**required**" in cell or cell in ("–", "-"):
                continue
            problems.append(f"{where}: documented, but validate-config prints no such key")
            continue
        value = printed[key]
        default = literal_default(cell)
        if default is not None and default != value and f'"{default}"' != value \
                and default != value.strip('"'):
            problems.append(f"{where}: documented default {default!r}, validate-config "
                            f"prints {value!r}")
        for word, syntax in TYPE_SYNTAX.items():
            if typ.startswith(word) and not re.fullmatch(syntax, value.strip('"')):
                problems.append(f"{where}: type {typ!r}, but the printed value {value!r} "
                                "has not that syntax")
    for key in sorted(printed):
        key_doc = re.sub(r"(lease_requeue|retention)\[\d+\]", r"\1[0]", key)
        if key_doc in documented or key_doc.replace("lease_requeue[0]", "lease_requeue[1]") in documented:
            continue
        if key in documented or key.startswith("databases[0].path") or \
                key in ("databases[0].lease_requeue[0].table", "databases[0].retention[0].table"):
            continue
        generic = re.sub(r"^databases\[0\]\.(checkpoint|analyze|vacuum|health|backup|"
                         r"journal_retention|busy_timeout)", r"defaults.\1", key)
        if generic in documented or generic in printed and generic != key:
            continue
        problems.append(f"{args.doc}: {key} (validate-config prints it = {printed[key]}) "
                        "is not documented in a key table")
    for p in problems:
        print(f"FAIL {p}")
    print(f"config reference: {len(documented)} documented keys checked against "
          f"{len(printed)} printed, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
