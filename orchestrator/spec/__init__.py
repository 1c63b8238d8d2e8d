"""The schema referee: Bandwidth's published OpenAPI description of v2 judges every XML body.

What lives here:
- `numbers_v2.excerpt.yml`: an excerpt of Bandwidth's OpenAPI description of the v2 Numbers
  API (the paths for importTnChecker, importTnOrders/messaging,
  removeImportedTnOrders/messaging, tnoptions, tndetails, inserviceNumbers, subscriptions and
  e911Addresses, with every component they reference), vendored unchanged from
  Bandwidth/api-docs `site/specs/numbers_v2.yml` at commit 2fcdf57e on 2026-12-01. Do not
  edit it: corrections go in `overrides`, each citing the line it corrects.
- `validator`: the public API re-exported below; its docstring states how OpenAPI is read as
  XML, and what happens where the schema and its examples disagree.
- `document` (reading the excerpt), `grammar` (schema -> element nodes), `overrides` (the
  named correction tables), `prose` (rules the excerpt states only in prose), `violation`.

Who uses it: the tests (every body bwmigrate builds must conform), the sandbox (it refuses
non-conforming requests and its answers are checked against `validate_response`), and the
import-body choice of a plan (`IMPORT_BODY_FORMS`: the schema's `ImportTnOrder`, the
default, or the migration guide's `ExternalTnsOrder`).

Imports nothing from the rest of `orchestrator` (stdlib, lxml and PyYAML only), so both the
client side and the sandbox may depend on it. Pure: the one I/O is reading the packaged
excerpt (once, lazily, through importlib.resources); no clock, no environment.
"""

from orchestrator.spec.validator import (
    IMPORT_BODY_FORMS,
    Example,
    Violation,
    documented_statuses,
    operation_examples,
    validate_import_body,
    validate_request,
    validate_response,
)

__all__ = [
    "IMPORT_BODY_FORMS",
    "Example",
    "Violation",
    "documented_statuses",
    "operation_examples",
    "validate_import_body",
    "validate_request",
    "validate_response",
]
