"""One `[[steps]]` table of a plan file -> a validated `StepSpec`.

This module owns `StepReader`: a step's kind and keys, its numbers (`numbers = [...]`, `files =
[...]`), and the settings of import steps (site, SIP peer, LOA, subscriber, body form, canary,
inherited from `[import_defaults]` through `ImportDefaults`) and of messaging steps (SMS, A2P),
with the A2P, LOA and subscriber rules the API would reject later. The plan's top level and
`[import_defaults]` are `orchestrator.plan.planfile`'s.

Pure: values in, dataclasses or `PlanError` out. No I/O, no clock, no environment; imports only
the standard library, `orchestrator.errors` (through `TableReader`) and its siblings `model`,
`source` and `table_reader`; never `planfile` (which builds on this module).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.plan.model import (
    BODY_FORMS,
    DEFAULT_BODY_FORM,
    DEFAULT_CANARY,
    GUIDE_BODY_FORM,
    MAX_BATCH_SIZE,
    A2pSettings,
    StepKind,
    StepSpec,
    Subscriber,
)
from orchestrator.plan.source import NumberFile
from orchestrator.plan.table_reader import TableReader

__all__ = ["NAME_RE", "ImportDefaults", "StepReader"]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_A2P_ACTIONS = ("asSpecified", "off", "unchanged", "systemDefault", "delete")
_STATE_CODE = re.compile(r"^[A-Za-z]{2}$")
_GUIDE_FORM_LACKS = {"subscriber": "Subscriber", "loa_authorizing_person": "LoaAuthorizingPerson"}


@dataclass(frozen=True, slots=True)
class ImportDefaults:
    """What `[import_defaults]` gives import steps (None: not given)."""

    body_form: str | None = None
    subscriber: Subscriber | None = None
    loa_authorizing_person: str | None = None
    loa_type: str | None = None
    canary: int = DEFAULT_CANARY  # the top-level `canary`


class StepReader(TableReader):
    """Validates `[[steps]]` tables (and the step settings `[import_defaults]` shares)."""

    def step(self, index: int, value: Any, defaults: ImportDefaults) -> StepSpec:
        """Validate one [[steps]] table."""
        where = f"steps[{index}]."
        t = self.table(value, f"steps[{index}]")
        kind_text = self.text(t, "kind", where, required=True) or ""
        try:
            kind = StepKind(kind_text.lower())
        except ValueError:
            raise self.fail(
                f"{where}kind", f"{kind_text!r} is not one of import, remove, messaging"
            ) from None
        common = ("kind", "name", "numbers", "files")
        allowed = {
            StepKind.IMPORT: (
                *common,
                "site_id",
                "sip_peer_id",
                "loa_type",
                "subscriber",
                "loa_authorizing_person",
                "enable_messaging",
                "a2p",
                "body_form",
                "canary",
            ),
            StepKind.REMOVE: common,
            StepKind.MESSAGING: (*common, "sms", "a2p"),
        }[kind]
        self.check_keys(t, allowed, where)
        name = self.text(t, "name", where) or f"{kind.value}-{index + 1}"
        if not NAME_RE.match(name):
            raise self.fail(f"{where}name", f"{name!r} must be 1-64 letters, digits, '-', '_', '.'")
        inline = self.inline_numbers(t.get("numbers", []), where)
        files = self.files(t.get("files", []), where)
        if not inline and not files:
            raise self.fail(
                f"steps[{index}]", "has no numbers: add `numbers = [...]` or `files = [...]`"
            )
        base = StepSpec(index=index, name=name, kind=kind, inline=inline, files=files)
        if kind is StepKind.IMPORT:
            return self.import_step(base, t, where, defaults)
        if kind is StepKind.MESSAGING:
            sms = (self.text(t, "sms", where, required=True) or "").lower()
            if sms not in ("on", "off"):
                raise self.fail(f"{where}sms", f'must be "on" or "off", got {sms!r}')
            return replace(base, sms=sms, a2p=self.a2p(t.get("a2p"), sms, where))
        return base

    def import_step(
        self, base: StepSpec, t: Mapping[str, Any], where: str, defaults: ImportDefaults
    ) -> StepSpec:
        """Validate the settings of an import step (unset keys inherited from `defaults`)."""
        own_form = self.body_form(t, where)
        form = own_form or defaults.body_form or DEFAULT_BODY_FORM
        if form == GUIDE_BODY_FORM:
            how = "in this step" if own_form else "in [import_defaults]"
            self.refuse_guide_form_extras(t, where, how)
        enable = t.get("enable_messaging", False)
        if not isinstance(enable, bool):
            raise self.fail(f"{where}enable_messaging", "must be true or false")
        if "a2p" in t and not enable:
            raise self.fail(f"{where}a2p", "A2P settings need `enable_messaging = true`")
        schema_form = form == DEFAULT_BODY_FORM
        subscriber = self.subscriber(t.get("subscriber"), where)
        person = self.text(t, "loa_authorizing_person", where)
        return replace(
            base,
            site_id=self.text(t, "site_id", where, required=True, digits=True),
            sip_peer_id=self.text(t, "sip_peer_id", where, digits=True),
            loa_type=self.loa_type(t, where) or defaults.loa_type or "CARRIER",
            subscriber=subscriber or (defaults.subscriber if schema_form else None),
            loa_authorizing_person=person
            or (defaults.loa_authorizing_person if schema_form else None),
            enable_messaging=enable,
            sms="on" if enable else None,
            a2p=self.a2p(t.get("a2p"), "on", where) if enable else None,
            body_form=form,
            canary=int(
                self.number(t, "canary", where, defaults.canary, 0, MAX_BATCH_SIZE, integer=True)
            ),
        )

    def body_form(self, t: Mapping[str, Any], where: str) -> str | None:
        """Read `body_form`: one of the two import bodies, in any letter case."""
        text = self.text(t, "body_form", where)
        if text is None:
            return None
        for form in BODY_FORMS:
            if text.lower() == form.lower():
                return form
        raise self.fail(
            f"{where}body_form",
            f'must be "{DEFAULT_BODY_FORM}" (the published v2 schema\'s form, the default) or '
            f'"{GUIDE_BODY_FORM}" (the migration guide\'s form), got {text!r}',
        )

    def refuse_guide_form_extras(self, t: Mapping[str, Any], where: str, how: str) -> None:
        """The guide's ExternalTnsOrder form has no Subscriber and no LoaAuthorizingPerson."""
        for key, element in _GUIDE_FORM_LACKS.items():
            if key in t:
                raise self.fail(
                    f"{where}{key}",
                    f'the {GUIDE_BODY_FORM} body form (body_form = "{GUIDE_BODY_FORM}" {how}) '
                    f"has no {element} element; remove {key}, or send the published schema's "
                    f'form with body_form = "{DEFAULT_BODY_FORM}"',
                )

    def loa_type(self, t: Mapping[str, Any], where: str) -> str | None:
        """Read `loa_type`: CARRIER or SUBSCRIBER."""
        loa = self.text(t, "loa_type", where)
        if loa is not None and loa.upper() not in ("CARRIER", "SUBSCRIBER"):
            raise self.fail(f"{where}loa_type", f"must be CARRIER or SUBSCRIBER, got {loa!r}")
        return None if loa is None else loa.upper()

    def subscriber(self, value: Any, where: str) -> Subscriber | None:
        """Validate an optional subscriber table (the `ImportTnOrder` body form)."""
        if value is None:
            return None
        w = f"{where}subscriber."
        t = self.table(value, w[:-1])
        keys = ("name", "house_number", "street_name", "city", "state_code", "zip", "county")
        self.check_keys(t, keys, w)
        name = self.text(t, "name", w, required=True) or ""
        if len(name) > 45:
            raise self.fail(f"{w}name", "is longer than 45 characters (API error 25131)")
        values = {k: self.text(t, k, w) for k in keys[1:]}
        house, state = values["house_number"], values["state_code"]
        if house is not None and not (house.isascii() and house.isdigit()):
            raise self.fail(
                f"{w}house_number",
                f"must be digits (the v2 schema's HouseNumber is an integer), got {house!r}",
            )
        if state is not None:
            if not _STATE_CODE.match(state):
                raise self.fail(f"{w}state_code", f'must be two letters (e.g. "CO"), got {state!r}')
            values["state_code"] = state.upper()
        return Subscriber(name=name, **values)

    def a2p(self, value: Any, sms: str, where: str) -> A2pSettings | None:
        """Validate optional A2P settings."""
        if value is None:
            return None
        w = f"{where}a2p."
        t = self.table(value, w[:-1])
        self.check_keys(t, ("message_class", "campaign_id", "action"), w)
        action = self.text(t, "action", w) or "asSpecified"
        if action not in _A2P_ACTIONS:
            raise self.fail(f"{w}action", f"must be one of {', '.join(_A2P_ACTIONS)}")
        klass, campaign = self.text(t, "message_class", w), self.text(t, "campaign_id", w)
        for key, val in (("message_class", klass), ("campaign_id", campaign)):
            if val is not None and len(val) > 64:
                raise self.fail(f"{w}{key}", "must be 1-64 characters")
        if action == "asSpecified" and not (klass or campaign):
            raise self.fail(w[:-1], "action asSpecified needs message_class and/or campaign_id")
        if action == "off" and (klass or campaign):
            raise self.fail(w[:-1], "action off takes no message_class or campaign_id")
        if sms == "off" and action == "asSpecified":
            raise self.fail(w[:-1], 'A2P settings need sms = "on" (API error 5132)')
        return A2pSettings(message_class=klass, campaign_id=campaign, action=action)

    def inline_numbers(self, value: Any, where: str) -> tuple[str, ...]:
        """Validate `numbers = [...]`: strings (or integers), never floats."""
        if not isinstance(value, list):
            raise self.fail(f"{where}numbers", "must be a list of strings")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                out.append(str(item))
            else:
                raise self.fail(
                    f"{where}numbers[{i}]",
                    f'{item!r} must be a quoted string (e.g. "+19195551234")',
                )
        return tuple(out)

    def files(self, value: Any, where: str) -> tuple[NumberFile, ...]:
        """Validate `files = [...]`: paths, or tables {path, column, header}."""
        if not isinstance(value, list):
            raise self.fail(f"{where}files", "must be a list of paths or {path, column} tables")
        out = []
        for i, item in enumerate(value):
            w = f"{where}files[{i}]"
            if isinstance(item, str) and item.strip():
                out.append(NumberFile(path=item.strip()))
                continue
            t = self.table(item, w)
            self.check_keys(t, ("path", "column", "header"), f"{w}.")
            path = self.text(t, "path", f"{w}.", required=True) or ""
            column = t.get("column")
            if column is not None and (
                isinstance(column, bool)
                or not isinstance(column, str | int)
                or (isinstance(column, int) and column < 1)
            ):
                raise self.fail(f"{w}.column", "must be a header name or a 1-based column number")
            header = t.get("header")
            if header is not None and not isinstance(header, bool):
                raise self.fail(f"{w}.header", "must be true or false")
            out.append(NumberFile(path=path, column=column, header=header))
        return tuple(out)
