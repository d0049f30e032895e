"""The autoregulation benchmark runs end to end on a few athletes and prints every
figure the benchmark page quotes (no timing assertions: times go in docs/benchmarks.md)."""

from __future__ import annotations

import io
import re

from django.core.management import call_command

from programs.engine.autoregulation import RULE_ORDER


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("bench_autoregulation", *args, stdout=out)
    return out.getvalue()


def test_prints_timings_proposals_and_counts_per_rule():
    text = _run("--athletes", "20", "--seed", "7")

    assert re.search(r"^Athletes: 20 \(seed 7; \d+ strength, \d+ endurance", text, re.M)
    assert re.search(r"^Engine total: [\d.]+ s$", text, re.M)
    assert re.search(r"^Per athlete: p50 [\d.]+ ms, p95 [\d.]+ ms, max [\d.]+ ms", text, re.M)
    proposals = int(re.search(r"^Proposals: (\d+) \([\d.]+ per athlete\)$", text, re.M)[1])
    assert re.search(r"^Athletes with at least one proposal: \d+ \([\d.]+ %\)$", text, re.M)
    assert re.search(r"^Clipped by a guardrail: \d+ proposals$", text, re.M)
    per_rule = {
        m[1]: int(m[2]) for m in re.finditer(r"^  (\w+): (\d+)$", text, re.M) if m[1] in RULE_ORDER
    }
    assert list(per_rule) == list(RULE_ORDER)
    assert sum(per_rule.values()) == proposals


def test_same_seed_same_athletes_and_proposals():
    def counts(text: str) -> list[str]:
        return [line for line in text.splitlines() if not re.search(r" ms|\bs\)?$|built in", line)]

    assert counts(_run("--athletes", "20")) == counts(_run("--athletes", "20"))
