"""The methodology editor: a business's methodologies and versions, a form per rule group
for the draft, the draft-vs-published diff in words, publishing, and the tiers on sale.

Who may do what mirrors the API (coaching/api.py): every staff member (owner, coach,
admin) reads; owners and coaches write (`api.WRITE_ROLES`). Clients, non-members and
other businesses' ids get the same 404 as a missing page. Every write goes through the
services the API uses, so the same validator judges a page's input and an API body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from coaching import selectors, services
from coaching.api import WRITE_ROLES
from coaching.errors import DomainError
from coaching.forms import add_domain_error
from coaching.forms_methodology import RulesForm, RulesJsonForm, TierForm, rules_as_json
from coaching.methodology import default_rules, rules_diff_sentences
from coaching.models import PRODUCT_AUTONOMY, Membership, Methodology, MethodologyVersion, Tier

#: The product names of DESIGN.md for each autonomy level (DIY / hybrid / premium).
AUTONOMY_PRODUCT = {autonomy: product for product, autonomy in PRODUCT_AUTONOMY.items()}
PRODUCT_NAMES = {"diy": "DIY", "hybrid": "Hybrid", "premium": "Premium"}


def _staff(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if request.tenant is None or membership is None or membership.role not in selectors.STAFF_ROLES:
        raise Http404("No such page.")
    return membership


def _writer(request: HttpRequest) -> Membership:
    membership = _staff(request)
    if membership.role not in WRITE_ROLES:
        raise Http404("No such page.")
    return membership


def _methodology(methodology_id: int) -> Methodology:
    methodology = selectors.methodologies().filter(pk=methodology_id).first()
    if methodology is None:
        raise Http404("No such methodology.")
    return methodology


@dataclass(frozen=True, kw_only=True)
class Drafting:
    """Where a methodology stands: its open draft, its latest published version, and
    what the draft changes in words."""

    draft: MethodologyVersion | None
    published: MethodologyVersion | None
    changes: list[str]

    @property
    def base_rules(self) -> dict[str, Any]:
        """What the editor starts from: the draft, else the published rules."""
        version = self.draft or self.published
        return dict(version.rules) if version is not None else {}


def drafting_of(methodology: Methodology) -> Drafting:
    latest = selectors.latest_version(methodology)
    draft = latest if latest is not None and not latest.is_published else None
    published = selectors.latest_published_version(methodology)
    changes = (
        rules_diff_sentences(published.rules, draft.rules)
        if draft is not None and published
        else []
    )
    return Drafting(draft=draft, published=published, changes=changes)


def autonomy_product(tier: Tier) -> str:
    return PRODUCT_NAMES.get(AUTONOMY_PRODUCT.get(tier.autonomy, ""), tier.get_autonomy_display())


@login_required
def methodology_list(request: HttpRequest) -> HttpResponse:
    """Every methodology of the business with its versions (status, author, dates)."""
    membership = _staff(request)
    rows = []
    for methodology in selectors.methodologies():
        versions = list(
            selectors.versions_of(methodology, membership=membership).select_related("created_by")
        )
        rows.append(
            {
                "methodology": methodology,
                "versions": versions,
                "draft": next((v for v in versions if not v.is_published), None),
            }
        )
    return render(
        request,
        "coaching/methodology_list.html",
        {"rows": rows, "can_edit": membership.role in WRITE_ROLES},
    )


def _rules_for_editor(methodology: Methodology, drafting: Drafting) -> dict[str, Any]:
    return drafting.base_rules or default_rules(methodology.discipline)


@login_required
def methodology_edit(request: HttpRequest, methodology_id: int) -> HttpResponse:
    """The draft as a form per rule group (and, secondarily, as JSON). Saving edits the
    open draft or starts the next one from the published rules; a refused document is
    shown with each error at its input and everything entered kept, and nothing stored
    changes."""
    membership = _writer(request)
    methodology = _methodology(methodology_id)
    drafting = drafting_of(methodology)
    rules = _rules_for_editor(methodology, drafting)
    notes = drafting.draft.notes if drafting.draft is not None else ""
    form = RulesForm(rules=rules, notes=notes)
    json_form = RulesJsonForm(initial={"rules_json": rules_as_json(rules), "notes": notes})
    json_open = False
    if request.method == "POST":
        if request.POST.get("editor") == "json":
            json_form, json_open = RulesJsonForm(request.POST), True
            bound = json_form
        else:
            form = RulesForm(request.POST, rules=rules)
            bound = form
        if bound.is_valid():
            document = bound.cleaned_data["rules_json"] if bound is json_form else form.document()
            try:
                version = services.version_draft_save(
                    methodology=methodology,
                    rules=document,
                    notes=bound.cleaned_data["notes"],
                    created_by=request.user,
                )
            except services.RulesDocumentInvalid as exc:
                bound.add_rule_errors(exc.fields)
            except DomainError as exc:
                add_domain_error(bound, exc)
            else:
                messages.success(request, f"Draft v{version.number} saved.")
                return redirect("methodology_edit", methodology_id=methodology.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "coaching/methodology_edit.html",
        {
            "membership": membership,
            "methodology": methodology,
            "drafting": drafting,
            "form": form,
            "json_form": json_form,
            "json_open": json_open,
            "sessions": rules.get("sessions", []),
        },
        status=status,
    )


@login_required
def methodology_publish(request: HttpRequest, methodology_id: int) -> HttpResponse:
    """GET: what publishing the draft changes, and a button to confirm. POST: publish
    (the service validates the draft again; the published version never changes)."""
    _writer(request)
    methodology = _methodology(methodology_id)
    drafting = drafting_of(methodology)
    if drafting.draft is None:
        messages.info(request, "There is no draft to publish: save a change first.")
        return redirect("methodology_edit", methodology_id=methodology.pk)
    if request.method == "POST":
        try:
            version = services.version_publish(version=drafting.draft)
        except DomainError as exc:
            details = " ".join(
                f"{path}: {msg}" for path, msgs in exc.fields.items() for msg in msgs
            )
            messages.error(request, f"{exc.message} {details}".strip())
            return redirect("methodology_edit", methodology_id=methodology.pk)
        messages.success(
            request,
            f"{methodology.name} v{version.number} is published: tonight's plans use it.",
        )
        return redirect("methodology_versions", methodology_id=methodology.pk)
    return render(
        request,
        "coaching/methodology_publish.html",
        {"methodology": methodology, "drafting": drafting},
    )


# --- tiers and prices -----------------------------------------------------------------


def billing_online() -> bool:
    """Whether clients pay online here. Read from the setting billing's gateway reads
    (coaching may not import billing); without a Stripe key billing is off."""
    return bool(
        getattr(settings, "STRIPE_SECRET_KEY", "") or getattr(settings, "STRIPE_API_KEY", "")
    )


@login_required
def tier_list(request: HttpRequest) -> HttpResponse:
    """What the business sells: each tier's autonomy (DIY / hybrid / premium), price and
    sign-up lines."""
    membership = _staff(request)
    tiers = [
        {"tier": tier, "product": autonomy_product(tier)}
        for tier in selectors.tiers_visible_to(membership)
    ]
    return render(
        request,
        "coaching/methodology_tiers.html",
        {
            "tiers": tiers,
            "can_edit": membership.role in WRITE_ROLES,
            "billing_online": billing_online(),
        },
    )


@login_required
def tier_edit(request: HttpRequest, tier_id: int) -> HttpResponse:
    """Name, features and price through `services.tier_update`, as the API does. The
    Stripe price is billing's: a new one is made at the next checkout for the new amount;
    existing subscriptions keep theirs."""
    membership = _writer(request)
    tier = selectors.tiers_visible_to(membership).filter(pk=tier_id).first()
    if tier is None:
        raise Http404("No such tier.")
    form = TierForm(initial=TierForm.initial_for(tier))
    if request.method == "POST":
        form = TierForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.tier_update(
                    tier=tier, name=data["name"], price=data["price"], features=data["features"]
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, f"{data['name']} saved.")
                return redirect("methodology_tiers")
    return render(
        request,
        "coaching/methodology_tier_edit.html",
        {
            "tier": tier,
            "product": autonomy_product(tier),
            "form": form,
            "billing_online": billing_online(),
        },
        status=400 if request.method == "POST" else 200,
    )
