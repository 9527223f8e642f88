"""The look-up code of an objection or credit-repair case: random, shown once on the receipt, only
its SHA-256 stored (``Case.lookup_code_hash``). Issued by ``services.cases`` when a case is
numbered, checked by ``services.progress`` (the public look-up), so that neither imports the other
back (issue #10 item 5)."""
from __future__ import annotations

import hashlib
import re
import secrets

from ..models import Case
from .verifiable import NUMBER_ALPHABET

CODE_LENGTH = 10  # 32^10 ≈ 1.1e15 codes; the page is rate-limited per client address


def normalise_code(code: str) -> str:
    """What the reader typed, as stored: upper case, without spaces and hyphens."""
    return re.sub(r"[\s\-－—]", "", (code or "")[:64]).upper()


def code_hash(case_no: str, code: str) -> str:
    return hashlib.sha256(f"case-lookup:{case_no}:{normalise_code(code)}".encode()).hexdigest()


def format_code(code: str) -> str:
    """The code as printed: two groups of five (ABCDE-FGHJK)."""
    return f"{code[:5]}-{code[5:]}"


def issue_lookup_code(case: Case) -> str:
    """Give a numbered case a new random look-up code; store its hash, return the code (printed
    on the receipt once: it cannot be read back)."""
    code = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(CODE_LENGTH))
    case.lookup_code_hash = code_hash(case.case_no, code)
    return format_code(code)
