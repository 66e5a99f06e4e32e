#!/usr/bin/env python3
"""Writes the hostile config corpus of tests/reliability/config_hostile_test.cc.

Each NAME.yaml is a config that `sqlite-maintd validate-config` must refuse with exit 78
and a message naming the file and, as listed in EXPECTED, the key (or line) at fault:
never a crash, never a hang. accepted/*.yaml hold configs that look hostile but are fine
(values are bound, quoted identifiers that really exist, read-only subqueries): they must
be accepted and, run by the real jobs, harm nothing.

The files use ${MAINTD_TEST_DB} (a database with tables events, tasks, pins, victim) and
${MAINTD_TEST_DIR}, set by the test. Run this script again after editing it; the output is
committed so the corpus also seeds the fuzzer (fuzz/run.sh).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DB = "databases:\n  - name: app\n    path: ${MAINTD_TEST_DB}\n"


def ret(extra):  # a retention rule on `events` plus extra keys
    return (DB + "    retention:\n      - table: events\n        time_column: created_at\n"
            "        delete_after: 30d\n" + extra)


def lease(extra):  # a lease_requeue rule on `tasks` plus extra keys
    return DB + "    lease_requeue:\n      - table: tasks\n" + extra


# name -> (substrings the error message must contain besides the file name, content)
HOSTILE = {
    # --- SQL injection through identifiers and keep_where --------------------------
    "inject_table_name.yaml": (["retention[0].table", "no table"],
        DB + "    retention:\n      - table: 'events\"; DROP TABLE victim; --'\n"),
    "inject_table_name_bracket.yaml": (["retention[0].table", "no table"],
        DB + "    retention:\n      - table: \"[events] WHERE 1; DROP TABLE victim; --\"\n"),
    "inject_time_column.yaml": (["retention[0].time_column", "no column"],
        DB + "    retention:\n      - table: events\n        time_column: \"created_at < 0) OR (1\"\n"),
    "inject_lease_status_column.yaml": (["lease_requeue[0].status_column", "no column"],
        lease("        status_column: 'status\" = ''leased''; UPDATE tasks SET status = ''x''; --'\n")),
    "inject_lease_expires_column.yaml": (["lease_requeue[0].expires_column", "no column"],
        lease("        expires_column: \"lease_expires_at OR 1=1\"\n")),
    "inject_keep_where_drop.yaml": (["retention[0].keep_where", "';' is not allowed"],
        ret("        keep_where: \"x'); DROP TABLE victim; --\"\n")),
    "inject_keep_where_paren.yaml": (["retention[0].keep_where", "parenthesis"],
        ret("        keep_where: \"1) OR (1\"\n")),
    "inject_keep_where_close_then_comment.yaml": (["retention[0].keep_where", "parenthesis"],
        ret("        keep_where: \"status = 'x') --\"\n")),
    "inject_keep_where_union.yaml": (["retention[0].keep_where", "parenthesis"],
        ret("        keep_where: \"1) UNION SELECT name FROM sqlite_master WHERE (1\"\n")),
    "inject_keep_where_attach.yaml": (["retention[0].keep_where", "';' is not allowed"],
        ret("        keep_where: \"1\\n) ; ATTACH DATABASE '/tmp/evil.db' AS evil; --\"\n")),
    "inject_keep_where_open_comment.yaml": (["retention[0].keep_where", "unterminated comment"],
        ret("        keep_where: \"status = 'x' /* \"\n")),
    "inject_keep_where_open_quote.yaml": (["retention[0].keep_where", "unterminated quote"],
        ret("        keep_where: \"status = 'x\"\n")),
    "inject_keep_where_unknown_column.yaml": (["retention[0].keep_where", "does not compile"],
        ret("        keep_where: \"no_such_column = 1\"\n")),
    "inject_keep_where_missing_table.yaml": (["retention[0].keep_where", "does not compile"],
        ret("        keep_where: \"id IN (SELECT id FROM no_such_table)\"\n")),
    "inject_keep_where_row_value.yaml": (["retention[0].keep_where", "does not compile"],
        ret("        keep_where: \"1, 2\"\n")),
    # Conservative on purpose: a ';' even inside a literal is refused (write char(59)).
    "inject_keep_where_semicolon_in_literal.yaml": (["retention[0].keep_where", "';' is not allowed"],
        ret("        keep_where: \"status = 'a;b'\"\n")),
    "inject_keep_where_blank.yaml": (["retention[0].keep_where", "empty"],
        ret("        keep_where: \"   \"\n")),
    "inject_db_name_traversal.yaml": (["databases[0].name"],
        "databases:\n  - name: ../../etc/passwd\n    path: ${MAINTD_TEST_DB}\n"),
    "inject_log_level.yaml": (["log.level"], "log: { level: \"info; rm -rf /\" }\n"),
    "inject_http_listen.yaml": (["http.listen"], "http: { listen: \"127.0.0.1:80 ; rm -rf /\" }\n"),
    "inject_time_format.yaml": (["lease_requeue[0].time_format"],
        lease("        time_format: \"unix'); DROP TABLE victim; --\"\n")),
    # --- paths -----------------------------------------------------------------------
    "path_relative.yaml": (["databases[0].path"], "databases:\n  - path: relative/app.db\n"),
    "path_empty.yaml": (["databases[0]"], "databases:\n  - path: \"\"\n"),
    "path_missing_db.yaml": (["/no/such/dir/app.db"], "databases:\n  - path: /no/such/dir/app.db\n"),
    "path_journal_relative.yaml": (["journal"], "journal: journal.db\n" + DB),
    "path_journal_is_db.yaml": (["journal"], "journal: ${MAINTD_TEST_DB}\n" + DB),
    "path_lock_dir_relative.yaml": (["lock_dir"], "lock_dir: locks\n" + DB),
    "path_archive_relative.yaml": (["retention[0].archive_to"],
        ret("        archive_after: 7d\n        archive_to: archive.db\n")),
    "path_archive_is_db.yaml": (["retention[0].archive_to"],
        ret("        archive_after: 7d\n        archive_to: ${MAINTD_TEST_DB}\n")),
    "path_archive_is_db_dot.yaml": (["retention[0].archive_to"],
        ret("        archive_after: 7d\n        archive_to: ${MAINTD_TEST_DIR}/./app.db\n")),
    "path_archive_is_db_slashes.yaml": (["retention[0].archive_to"],
        ret("        archive_after: 7d\n        archive_to: ${MAINTD_TEST_DIR}//app.db\n")),
    "path_archive_missing_dir.yaml": (["retention[0].archive_to", "does not exist"],
        ret("        archive_after: 7d\n        archive_to: /no/such/dir/archive.db\n")),
    "path_archive_not_sqlite.yaml": (["retention[0].archive_to"],
        ret("        archive_after: 7d\n        archive_to: ${MAINTD_TEST_DIR}/not_a_db.txt\n")),
    "path_db_not_sqlite.yaml": (["databases[not_a_db]", "not a database"],
        "databases:\n  - path: ${MAINTD_TEST_DIR}/not_a_db.txt\n    retention:\n      - table: events\n"),
    "path_duplicate_db.yaml": (["databases[1]", "already"],
        "databases:\n  - path: ${MAINTD_TEST_DB}\n  - path: ${MAINTD_TEST_DB}\n"),
    "path_glob_with_name.yaml": (["databases[0].name"],
        "databases:\n  - glob: \"${MAINTD_TEST_DIR}/*.db\"\n    name: x\n"),
    # --- numbers ---------------------------------------------------------------------
    "number_huge_int.yaml": (["max_concurrent_jobs"],
        "max_concurrent_jobs: 99999999999999999999999999999\n"),
    "number_huge_float_int.yaml": (["retention[0].batch"], ret("        batch: 1e300\n")),
    "number_huge_duration.yaml": (["checkpoint.every"],
        DB + "    checkpoint: { every: 99999999999999d }\n"),
    "number_huge_duration_digits.yaml": (["busy_timeout"],
        "defaults: { busy_timeout: " + "9" * 400 + "s }\n"),
    "number_huge_size.yaml": (["truncate_wal_above"],
        DB + "    checkpoint: { truncate_wal_above: 99999999999TiB }\n"),
    "number_negative_duration.yaml": (["busy_timeout"], "defaults: { busy_timeout: -5s }\n"),
    "number_negative_every.yaml": (["checkpoint.every"], DB + "    checkpoint: { every: \"-1m\" }\n"),
    "number_negative_keep.yaml": (["backup.keep"], "defaults: { backup: { keep: -1 } }\n"),
    "number_negative_batch.yaml": (["lease_requeue[0].batch"], lease("        batch: -100\n")),
    "number_zero_batch.yaml": (["retention[0].batch"], ret("        batch: 0\n")),
    "number_nan_ratio.yaml": (["trigger_free_ratio"],
        "defaults: { vacuum: { trigger_free_ratio: .nan } }\n"),
    "number_inf_ratio.yaml": (["trigger_free_ratio"],
        "defaults: { vacuum: { trigger_free_ratio: .inf } }\n"),
    "number_ratio_above_one.yaml": (["trigger_free_ratio"],
        "defaults: { vacuum: { trigger_free_ratio: 7 } }\n"),
    "number_negative_factor.yaml": (["min_free_disk_factor"],
        "defaults: { vacuum: { min_free_disk_factor: -2 } }\n"),
    "number_zero_pages_per_step.yaml": (["pages_per_step"],
        "defaults: { vacuum: { pages_per_step: 0 } }\n"),
    "number_percent_over.yaml": (["free_disk_warning"],
        "defaults: { health: { free_disk_warning: 250% } }\n"),
    "number_zero_concurrency.yaml": (["max_concurrent_jobs"], "max_concurrent_jobs: 0\n"),
    "number_port_too_big.yaml": (["http.listen"], "http: { listen: \"127.0.0.1:99999\" }\n"),
    "number_time_of_day.yaml": (["daily_at"], "defaults: { analyze: { daily_at: \"25:61\" } }\n"),
    "number_archive_after_delete.yaml": (["retention[0].archive_after"],
        ret("        archive_after: 60d\n        archive_to: ${MAINTD_TEST_DIR}/archive.db\n")),
    # --- types -----------------------------------------------------------------------
    "type_section_is_list.yaml": (["defaults.checkpoint"], "defaults:\n  checkpoint: [1, 2, 3]\n"),
    "type_duration_is_map.yaml": (["busy_timeout"], "defaults:\n  busy_timeout: { seconds: 5 }\n"),
    "type_databases_is_string.yaml": (["databases"], "databases: \"/tmp/app.db\"\n"),
    "type_bool_maybe.yaml": (["retention[0].dry_run"], ret("        dry_run: maybe\n")),
    "type_rules_is_map.yaml": (["retention"], DB + "    retention: { table: events }\n"),
    "type_root_is_list.yaml": ([], "- a\n- b\n"),
    "type_root_is_scalar.yaml": ([], "just a string\n"),
    "type_null_database.yaml": (["databases[0]"], "databases: [~]\n"),
    "type_unknown_key.yaml": (["checkpoint.evry", "did you mean"], DB + "    checkpoint: { evry: 1m }\n"),
    "type_duplicate_key.yaml": (["every"], DB + "    checkpoint: { every: 1m, every: 1d }\n"),
    "type_duplicate_section.yaml": (["checkpoint"],
        DB + "    checkpoint: { every: 1m }\n    checkpoint: { mode: restart }\n"),
    "type_python_tag.yaml": (["busy_timeout"],
        "defaults:\n  busy_timeout: !!python/object/apply:os.system [\"rm -rf /\"]\n"),
    "type_binary_tag.yaml": (["databases[0].path"], "databases:\n  - path: !!binary L2V0Yy9wYXNzd2Q=\n"),
    "type_complex_key.yaml": ([], "? [a, b]\n: 1\n"),
    "type_multi_document.yaml": (["line 2", "second document"], "log: { level: info }\n---\nlog: { level: debug }\n"),
    "type_bad_yaml.yaml": (["invalid YAML"], "databases:\n  - path: [unclosed\n"),
    "type_tab_indent.yaml": (["line 2"], "databases:\n\t- path: /x.db\n"),
    # --- environment expansion -------------------------------------------------------
    "env_unset.yaml": (["MAINTD_NO_SUCH_VAR", "line 2"],
        "databases:\n  - path: ${MAINTD_NO_SUCH_VAR}/app.db\n"),
    "env_unterminated.yaml": (["line 2", "unterminated"], "databases:\n  - path: ${MAINTD_TEST_DB\n"),
    "env_bad_name.yaml": (["line 1"], "journal: ${1; rm -rf /}\n"),
    # --- encoding --------------------------------------------------------------------
    "enc_latin1.yaml": (["line 2", "UTF-8"], b"databases:\n  - name: caf\xe9\n    path: /x.db\n"),
    "enc_invalid_bytes.yaml": (["line 1", "UTF-8"], b"log: { level: \xff\xfe\xfd }\n"),
    "enc_overlong_slash.yaml": (["line 2", "UTF-8"],
        b"databases:\n  - name: a\xc0\xafb\n    path: /x.db\n"),
    "enc_surrogate.yaml": (["line 1", "UTF-8"], b"log: { level: \xed\xa0\x80 }\n"),
    "enc_utf16.yaml": (["line 1"], "log: { level: info }\n".encode("utf-16")),
    "enc_nul_byte.yaml": (["line 2", "0x00"], b"log: { level: info }\ndatabases:\x00\n  - path: /x.db\n"),
    "enc_escape_sequence.yaml": (["line 1", "0x1B"], b"log: { level: \"\x1b[2J\x1b[31minfo\" }\n"),
    "enc_truncated_utf8.yaml": (["line 1", "UTF-8"], b"log: { level: \xe2\x82"),
    # --- size ------------------------------------------------------------------------
    "long_key.yaml": (["line 2", "invalid YAML"], "defaults:\n  " + "k" * 20000 + ": 1\n"),
    "long_table_name.yaml": (["retention[0].table"],
        DB + "    retention:\n      - table: " + "t" * 30000 + "\n"),
}

# Deep nesting, 10000 levels: flow sequences, flow maps, block sequences.
N = 10000
HOSTILE["deep_nesting_sequences.yaml"] = (["nested too deeply"], "defaults: " + "[" * N + "]" * N + "\n")
HOSTILE["deep_nesting_maps.yaml"] = (["nested too deeply"], "defaults: " + "{a: " * N + "1" + "}" * N + "\n")
HOSTILE["deep_nesting_block.yaml"] = (["nested too deeply"], "defaults:\n  " + "- " * N + "x\n")

# Billion laughs: 9 levels of 9 (or 10) aliases each; expanded it would be 10^9 nodes.
laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
prev = "a"
for name in "bcdefghi":
    laughs.append(f"{name}: &{name} [" + ",".join(["*" + prev] * 9) + "]")
    prev = name
HOSTILE["anchor_billion_laughs.yaml"] = (["unknown key"], "\n".join(laughs) + "\n")
bomb = ['x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for i in range(1, 9):
    bomb.append(f"x{i}: &x{i} [" + ",".join([f"*x{i-1}"] * 10) + "]")
HOSTILE["anchor_bomb_in_defaults.yaml"] = (["defaults"],
    "defaults:\n  health: &top\n" + "\n".join("    " + l for l in bomb) + "\n")
HOSTILE["anchor_alias_as_rule.yaml"] = (["retention[0]"],
    DB + "    checkpoint: &r { every: 1m }\n    retention:\n      - *r\n")
HOSTILE["anchor_many_databases.yaml"] = (["databases[1]", "already"],
    "databases: [" + ",".join(['&e { path: "${MAINTD_TEST_DB}" }'] + ["*e"] * 999) + "]\n")
HOSTILE["anchor_recursive.yaml"] = ([], "defaults: &d\n  checkpoint: *d\n")

# Accepted: look hostile, are fine. The test runs the jobs with them and checks that
# table `victim` and the data survive.
ACCEPTED = {
    # Values are bound, never spliced: these are just odd status strings.
    "values_with_sql.yaml": lease(
        "        every: 1m\n"
        "        leased_value: \"leased'); DROP TABLE victim; --\"\n"
        "        queued_value: \"queued'; DELETE FROM tasks; --\"\n"
        "        dead_value: 'dead\"; DROP TABLE tasks; --'\n"
        "        attempts_column: attempts\n        max_attempts: 3\n"),
    # A read-only subquery is an expression: allowed (it can read, never write).
    "keep_where_subquery.yaml": ret(
        "        keep_where: \"id IN (SELECT event_id FROM pins) OR status = 'pinned'\"\n"
        "        batch: 7\n        pause_between_batches: 0ms\n"),
    # A YAML merge key (yaml-cpp supports them): plain YAML, not an unknown key.
    "merge_key.yaml": "defaults:\n  checkpoint:\n    <<: { every: 7m }\n",
    # A table whose real name is an injection attempt: quoted, so it just works.
    "identifier_with_quotes.yaml": DB + "    retention:\n"
        "      - table: 'odd\"; DROP TABLE victim; --'\n        time_column: \"cr'eated\"\n"
        "        delete_after: 1d\n        pause_between_batches: 0ms\n",
}


def write(path, content):
    data = content if isinstance(content, bytes) else content.encode()
    with open(path, "wb") as f:
        f.write(data)


def main():
    for name in os.listdir(HERE):
        if name.endswith(".yaml"):
            os.remove(os.path.join(HERE, name))
    lines = ["# file<TAB>substrings (separated by ' | ') the error message must contain,",
             "# besides the config file's path. Written by make_corpus.py."]
    for name in sorted(HOSTILE):
        expects, content = HOSTILE[name]
        write(os.path.join(HERE, name), content)
        lines.append(name + "\t" + " | ".join(expects))
    write(os.path.join(HERE, "EXPECTED"), "\n".join(lines) + "\n")
    os.makedirs(os.path.join(HERE, "accepted"), exist_ok=True)
    for name, content in ACCEPTED.items():
        write(os.path.join(HERE, "accepted", name), content)
    print(f"{len(HOSTILE)} hostile, {len(ACCEPTED)} accepted configs")


if __name__ == "__main__":
    main()
