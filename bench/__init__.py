"""Benchmark harness for provincial scale (issue #7): ``python -m bench <command> --size S|M|L``.

Datasets come from the demo generator through the bulk loader and are cached under
``bench/data/<size>/`` (gitignored). Every command prints a table and one JSON line, and
appends the JSON line to ``bench/data/results.jsonl``. Reference engines (SQLite FTS5 trigram,
a bare Flask route) are measured in the same run on the same corpus, so ratios survive a noisy
machine. Load is generated only against 127.0.0.1, for a fixed duration.
"""
