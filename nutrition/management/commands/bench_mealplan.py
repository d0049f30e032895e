"""`manage.py bench_mealplan`: how fast and how well the meal-plan engine plans a day.

Times only the pure engine (`nutrition.engine.mealplan`) on varied synthetic client
profiles against the shipped food catalogue, and re-checks every plan's items for
allergens, diets and dislikes independently of the engine. Targets (issue 6): p50 ≤ 20 ms
per day, ≥ 99 % of days feasible without relaxing, 0 violations.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nutrition.engine.bench import BenchResult, random_profiles, run, synthetic_candidates


class Command(BaseCommand):
    help = "Benchmark meal-plan solving on random client profiles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--profiles", type=int, default=500)
        parser.add_argument("--days", type=int, default=1)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--synthetic",
            action="store_true",
            help="use the built-in synthetic catalogue instead of nutrition/data",
        )

    def handle(self, *args: object, **options: object) -> None:
        profiles = int(options["profiles"])  # type: ignore[call-overload]
        days = int(options["days"])  # type: ignore[call-overload]
        seed = int(options["seed"])  # type: ignore[call-overload]
        if profiles < 1:
            raise CommandError(f"--profiles must be at least 1 (got {profiles})")
        if not 1 <= days <= 28:
            raise CommandError(f"--days must be between 1 and 28 (got {days})")
        if options["synthetic"]:
            candidates = synthetic_candidates(seed)
            source = "synthetic catalogue"
        else:
            from nutrition.catalogue import load_catalogue

            candidates = load_catalogue().candidates()
            source = "nutrition/data"
        if not candidates:
            raise CommandError("the catalogue has no candidates")
        foods = sorted({slug for c in candidates if not c.is_recipe for slug in c.foods})
        people = random_profiles(profiles, seed, dislike_pool=foods)
        result = run(people, candidates, days, seed=seed)
        n_recipes = sum(c.is_recipe for c in candidates)
        self.stdout.write(
            f"Profiles: {profiles} × {days} day{'s' if days > 1 else ''} (seed {seed}); "
            f"{len(candidates)} candidates from {source} "
            f"({n_recipes} recipes, {len(candidates) - n_recipes} foods)"
        )
        self._table(result)

    def _table(self, r: BenchResult) -> None:
        total = r.total_days
        w = self.stdout.write
        w(
            f"Solve time per day: p50 {r.solve_ms_p50:.1f} ms, p95 {r.solve_ms_p95:.1f} ms, "
            f"max {r.solve_ms_max:.1f} ms"
        )
        w(
            f"Feasible without relaxing: {r.feasible_strict}/{total} "
            f"({100 * r.feasible_strict / total:.1f} %)"
        )
        w(
            f"Feasible with relaxing:    {r.feasible_relaxed}/{total} "
            f"({100 * r.feasible_relaxed / total:.1f} %)"
        )
        w(f"Days relaxed: {r.relaxed_days}; infeasible: {r.infeasible_days}")
        w("Absolute error vs target (feasible days)   mean %    max %")
        for label, mean, worst in zip(
            ("energy", "protein", "carbohydrate", "fat"),
            (
                r.mean_abs_pct.kcal,
                r.mean_abs_pct.protein_g,
                r.mean_abs_pct.carbs_g,
                r.mean_abs_pct.fat_g,
            ),
            (
                r.max_abs_pct.kcal,
                r.max_abs_pct.protein_g,
                r.max_abs_pct.carbs_g,
                r.max_abs_pct.fat_g,
            ),
            strict=True,
        ):
            w(f"  {label:<40} {mean:6.2f} {worst:8.2f}")
        w(
            f"Violations: allergen {r.allergen_violations}, diet {r.diet_violations}, "
            f"dislike {r.dislike_violations}; unknown items {r.unknown_items}; "
            f"outside the returned tolerance {r.out_of_tolerance}"
        )
        if r.relaxation_counts:
            w("Relaxation steps:")
            for head, count in r.relaxation_counts:
                w(f"  {count:4d}  {head}")
        if r.infeasible_examples:
            w("Infeasible examples:")
            for message in r.infeasible_examples:
                w(f"  - {message}")
