"""`python -m core.purchase`: validate, import, list and roll back purchase-register files."""
from __future__ import annotations

import argparse
import json
import sys

from core.purchase.batches import ImportRefused, list_batches, rollback_batch
from core.purchase.importing import (
    Validation,
    import_purchase_file,
    problems_csv_bytes,
    validate_purchase_file,
)
from core.purchase.read import FileProblem, load_source, read_table
from core.purchase.templates import BUILTINS, header_score, list_templates, suggest_mapping


def build_parser(prog: str = "python -m core.purchase") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("validate", "check a file against the store; nothing is written"),
                       ("import", "import a file as one batch (all or nothing)")):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("file")
        cmd.add_argument("--template", default="standard",
                         help="standard, tally or a saved template")
        cmd.add_argument("--company-gstin",
                         help="company GSTIN when the file has none (e.g. Tally)")
        cmd.add_argument("--sheet", help="Excel sheet name (default: the first sheet)")
        cmd.add_argument("--on-duplicate", choices=["skip", "replace"], default="skip",
                         help="documents already stored: skip them or replace them")
        cmd.add_argument("--problems-csv",
                         help="write invalid and duplicate lines with reasons to this CSV")
        cmd.add_argument("--limit", type=int, default=30, help="problems to print (default 30)")
        cmd.add_argument("--valid-only", action="store_true",
                         help="import only the documents without a faulty line (a document "
                              "with one is left out whole)")
        if name == "import":
            cmd.add_argument("--force", action="store_true", help="import a file already imported")
            cmd.add_argument("--actor", default="cli", help="who imports (recorded on the batch)")
    batches = sub.add_parser("batches", help="list imported batches")
    batches.add_argument("--limit", type=int, default=20)
    rollback = sub.add_parser("rollback",
                              help="undo a batch: remove its documents, restore replaced ones")
    rollback.add_argument("batch_id", type=int)
    rollback.add_argument("--actor", default="cli")
    sub.add_parser("templates", help="list the column-mapping templates")
    suggest = sub.add_parser("suggest", help="suggest a column mapping from a file's header")
    suggest.add_argument("file")
    suggest.add_argument("--sheet")
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m core.purchase") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FileProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ImportRefused, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _report(v: Validation, args) -> None:
    print(v.summary())
    for message in v.messages(args.limit):
        print("  " + message)
    for row in v.duplicates.head(args.limit).iter_rows(named=True):
        print(f"  {v.file}, line {v.file_line(row['line_no'])} of the file: duplicate {row['doc_no']} ({row['action']}): "
              f"{row['reason']}")
    if args.problems_csv and (v.problems.height or v.duplicates.height):
        with open(args.problems_csv, "wb") as out:
            out.write(problems_csv_bytes(v, include_warnings=True))
        print(f"problems written to {args.problems_csv}")


def cmd_validate(args) -> int:
    v = validate_purchase_file(args.file, args.template, args.company_gstin, args.sheet,
                               args.on_duplicate, valid_only=args.valid_only)
    _report(v, args)
    return 0 if v.ok else 2


def cmd_import(args) -> int:
    result = import_purchase_file(args.file, args.template, args.actor, args.on_duplicate,
                                  args.company_gstin, args.sheet, args.force,
                                  valid_only=args.valid_only)
    if result.validation is not None:
        _report(result.validation, args)
    print(result.summary())
    if not result.ok and result.validation is None and not args.force:
        print("On the command line, --force imports it again as it is.")
    return 0 if result.ok else 2


def cmd_batches(args) -> int:
    for b in list_batches(args.limit):
        if b["rolled_back_at"]:
            state = f"rolled back {b['rolled_back_at']:%Y-%m-%d %H:%M} by {b['rolled_back_by']}"
        else:
            state = f"{b['current_docs']} current documents"
        print(f"{b['batch_id']:>5}  {b['imported_at']:%Y-%m-%d %H:%M}  {b['imported_by']:<12} "
              f"{b['file_name']}  "
              f"[{b['template']}] {b['doc_count']} docs, {b['duplicate_count']} duplicates "
              f"({b['duplicate_mode']}), "
              f"{b['warning_count']} warnings; {state}")
    return 0


def cmd_rollback(args) -> int:
    done = rollback_batch(args.batch_id, args.actor)
    print(f"batch {done['batch_id']} rolled back: {done['removed']} documents removed, "
          f"{done['restored']} replaced documents restored")
    return 0


def cmd_templates(args) -> int:
    for t in list_templates():
        kind = "built-in" if t["builtin"] else "saved"
        print(f"{t['name']} ({kind}, dates {t['date_format'] or 'auto'}, credit notes "
              f"{t['cn_sign']}): "
              + json.dumps(t["mapping"]))
    return 0


def cmd_suggest(args) -> int:
    data, name = load_source(args.file)
    raw = read_table(data, name, header_score(BUILTINS["standard"]), args.sheet)
    headers = [c for c in raw.frame.columns if not c.startswith("__")]
    print(json.dumps(suggest_mapping(headers), indent=2))
    return 0


COMMANDS = {"validate": cmd_validate, "import": cmd_import, "batches": cmd_batches,
            "rollback": cmd_rollback, "templates": cmd_templates, "suggest": cmd_suggest}
