"""`python worker.py fetch-2b --gstin G --period MMYYYY [--regenerate]` (docs/month-close.md):
fetch a business's GSTR-2B of a period into the store, or regenerate it first (GEN2B, then
GENSTS2B until processed; refused for a period whose GSTR-3B is filed), and say how many IMS
records still disagree with it ("2B needs regeneration").

Bad input raises `SettingsError` (worker.py prints it and exits with status 2); a portal
error prints its message and exits with status 1.
"""
from __future__ import annotations

from core.business import SettingsError, checked_gstin, choose_businesses
from core.gstr2b.job import PeriodFiled, fetch_gstr2b, regenerate_gstr2b
from core.periods import is_period
from core.portal import GstnError


def checked_period(text: str) -> str:
    value = (text or "").strip()
    if not is_period(value):
        raise SettingsError(f"--period: '{text}' is not a return period (MMYYYY, e.g. 102025)")
    return value


def cmd_fetch_2b(args) -> int:
    (biz,) = choose_businesses([checked_gstin(args.gstin)])
    gstin, period = biz["gstin"], checked_period(args.period)
    try:
        done = (regenerate_gstr2b if args.regenerate else fetch_gstr2b)(gstin, period)
    except PeriodFiled as exc:
        raise SettingsError(str(exc)) from None
    except GstnError as exc:
        print(f"fetch-2b {gstin} {period}: FAILED: {exc}")
        return 1
    if not done["generated"]:
        print(f"fetch-2b {gstin} {period}: GSTR-2B is not generated yet")
        return 0
    late = done["late"]
    print(f"fetch-2b {gstin} {period}: version {done['version']} generated on "
          f"{done['gendt']:%d-%m-%Y}, {done['documents']} documents stored; "
          + (f"needs regeneration: {late} IMS records now disagree with it" if late
             else "agrees with the IMS actions held now"))
    return 0


def add_commands(sub) -> None:
    """Register `fetch-2b` on worker.py's parser."""
    p = sub.add_parser("fetch-2b", help="fetch (or regenerate, then fetch) a period's GSTR-2B")
    p.add_argument("--gstin", required=True, metavar="G", help="the business GSTIN")
    p.add_argument("--period", required=True, metavar="MMYYYY", help="the return period")
    p.add_argument("--regenerate", action="store_true",
                   help="ask the portal to regenerate it from the IMS actions held now first")
    p.set_defaults(fn=cmd_fetch_2b)
