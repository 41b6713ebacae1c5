"""`python -m core.db backup | restore | verify | list`: an alias of `python -m core store ...`
(core/backup/cli.py, docs/backups.md). Nothing imports this module; the store is core/store/."""
import sys

from core.backup.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
