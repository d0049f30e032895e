"""`manage.py simulate_methodology --tenant SLUG --version ID [--compare ID]
[--athlete ID ... | --all-enrolled] [--weeks 4] [--end YYYY-MM-DD]`: shadow mode.

Replays a methodology version (a draft too) over past nights and prints what it would
have done; with `--compare`, both versions side by side. Writes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from athletes.models import AthleteProfile
from coaching.methodology import RulesInvalid
from coaching.models import MethodologyVersion, Tenant
from coaching.tenancy import tenant_context
from programs import simulation


def _fmt(value: Any) -> str:
    return "—" if value is None else str(value)


class Command(BaseCommand):
    help = "Replay a methodology version over past weeks (shadow mode); writes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        # `--version` is the methodology version here: it replaces Django's.
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--version", required=True, type=int, help="Methodology version id.")
        parser.add_argument("--compare", type=int, help="A second version id to compare with.")
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--athlete", type=int, nargs="+", help="Athlete profile ids.")
        who.add_argument(
            "--all-enrolled",
            action="store_true",
            help="Everyone enrolled on the version's methodology (the default).",
        )
        parser.add_argument("--weeks", type=int, default=4, help="1–26 (default 4).")
        parser.add_argument("--end", help="Last night, YYYY-MM-DD (default yesterday).")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        weeks = options["weeks"]
        if not 1 <= weeks <= simulation.MAX_WEEKS:
            raise CommandError(f"--weeks must be 1–{simulation.MAX_WEEKS}.")
        try:
            end = (
                datetime.date.fromisoformat(options["end"])
                if options["end"]
                else timezone.localdate() - datetime.timedelta(days=1)
            )
        except ValueError as exc:
            raise CommandError(f"--end must be YYYY-MM-DD, got {options['end']!r}.") from exc
        with tenant_context(tenant):
            version = self._version(options["version"])
            other = self._version(options["compare"]) if options["compare"] else None
            if options["athlete"]:
                athletes = list(AthleteProfile.objects.filter(pk__in=options["athlete"]))
                missing = sorted(set(options["athlete"]) - {a.pk for a in athletes})
                if missing:
                    raise CommandError(f"No athlete with id {missing[0]} in {tenant.slug}.")
            else:
                athletes = simulation.enrolled_on(version.methodology_id)
            try:
                if other is None:
                    report = simulation.simulate(
                        athletes=athletes, rules=version.rules, end=end, weeks=weeks
                    )
                    self._print(f"v{version.number} (id {version.pk})", report)
                else:
                    comparison = simulation.compare(
                        athletes=athletes,
                        rules_a=version.rules,
                        rules_b=other.rules,
                        end=end,
                        weeks=weeks,
                    )
                    self._print(f"A: v{version.number} (id {version.pk})", comparison.a)
                    self._print(f"B: v{other.number} (id {other.pk})", comparison.b)
                    self._differences(comparison.differences())
            except RulesInvalid as exc:
                raise CommandError(f"The version's rules are invalid: {exc}") from exc

    def _version(self, pk: int) -> MethodologyVersion:
        version = MethodologyVersion.objects.filter(pk=pk).first()
        if version is None:
            raise CommandError(f"No methodology version with id {pk} in this tenant.")
        return version

    def _print(self, title: str, report: simulation.SimulationReport) -> None:
        out = self.stdout
        out.write(
            f"{title}: {report.start.isoformat()} → {report.end.isoformat()} "
            f"({report.weeks} week{'s' if report.weeks != 1 else ''})"
        )
        header = (
            f"  {'athlete':<24} {'nights':>6} {'props':>6} {'clipped':>7} {'mag %':>7} "
            f"{'ready':>6} {'Δkg':>7} {'Δmin':>7}  rules"
        )
        out.write(header)
        rows = [(a.name[:24], a.status, a.tally) for a in report.athletes]
        rows.append(("TOTAL", "ok", report.total))
        for name, status, tally in rows:
            if status != "ok":
                out.write(f"  {name:<24} {status}")
                continue
            d = tally.as_dict()
            rules = ", ".join(f"{k} {v}" for k, v in d["rules"].items()) or "—"
            out.write(
                f"  {name:<24} {d['nights']:>6} {d['proposals']:>6} {d['clipped']:>7} "
                f"{_fmt(d['mean_magnitude_percent']):>7} {_fmt(d['readiness_mean']):>6} "
                f"{_fmt(d['strength']['mean_abs_diff_kg']):>7} "
                f"{_fmt(d['endurance']['mean_abs_diff_min']):>7}  {rules}"
            )
        d = report.total.as_dict()
        changes = ", ".join(f"{k} {v}" for k, v in d["changes"].items()) or "—"
        rails = ", ".join(f"{k} {v}" for k, v in d["guardrails"].items()) or "—"
        out.write(f"  changes: {changes}")
        out.write(f"  guardrails: {rails}")
        out.write("")

    def _differences(self, diff: dict[str, Any]) -> None:
        out = self.stdout
        out.write("B − A:")
        out.write(f"  proposals {diff['proposals']:+d}, clipped {diff['clipped']:+d}")
        for key in ("rules", "changes", "guardrails"):
            items = ", ".join(f"{k} {v:+d}" for k, v in diff[key].items() if v) or "no change"
            out.write(f"  {key}: {items}")
