"""`businesses add | list | enable | disable`: the operator's commands for businesses
(docs/interfaces.md); the calendar adds `set-frequency` and `set-date` to the same group."""
from __future__ import annotations

from core.business import registry as business


def print_table(head: tuple, rows: list[tuple]) -> None:
    """Rows as aligned columns for the shell."""
    table = [head] + rows
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


def cmd_businesses_add(args) -> int:
    gstin = business.checked_gstin(args.gstin)
    existed = business.business_exists(gstin)
    if existed and args.gstin.strip() != gstin:
        raise business.SettingsError(
            f"{gstin} is already a business, and '{args.gstin.strip()}' was typed in lower "
            f"case: nothing was changed. To rename it, type the GSTIN as it is ({gstin}).")
    business.save_business(gstin, args.name, actor="cli")
    print(f"{'updated' if existed else 'added'} business {business.describe_gstin(gstin)}: "
          f"{args.name.strip()}")
    return 0


def cmd_businesses_list(args) -> int:
    rows = business.list_businesses().sort("gstin").to_dicts()
    if not rows:
        print(f"no businesses yet (add one with: {business.ADD_HINT})")
        return 0
    print_table(("GSTIN", "name", "enabled", "fetch at", "sync source"), [
        (r["gstin"], r["name"], "yes" if r["enabled"] else "no", r["fetch_time"],
         r["sync_source"]) for r in rows])
    return 0


def cmd_businesses_switch(args) -> int:
    on = args.action == "enable"
    gstin = business.set_business_enabled(args.gstin, on, actor="cli")
    print(f"{'enabled' if on else 'disabled'} business {business.describe_gstin(gstin)}"
          + ("" if on else " (no daily fetch until enabled again)"))
    return 0


def add_commands(sub):
    """Register `businesses ...` on the command line; returns the group for the calendar's."""
    biz = sub.add_parser("businesses", help="add, list, enable or disable businesses")
    biz_sub = biz.add_subparsers(dest="action", required=True)
    add = biz_sub.add_parser("add", help="add a business (or rename it)")
    add.add_argument("gstin", metavar="GSTIN")
    add.add_argument("--name", required=True, metavar="NAME", help="the business's name")
    add.set_defaults(fn=cmd_businesses_add)
    biz_sub.add_parser("list", help="the businesses").set_defaults(fn=cmd_businesses_list)
    for action in ("enable", "disable"):
        p = biz_sub.add_parser(action, help=f"{action} the daily fetch of a business")
        p.add_argument("gstin", metavar="GSTIN")
        p.set_defaults(fn=cmd_businesses_switch)
    return biz_sub
