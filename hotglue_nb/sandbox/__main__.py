"""``python -m hotglue_nb.sandbox`` = ``hotglue-nb sandbox``."""

from hotglue_nb.cli import main

raise SystemExit(main(["sandbox", *__import__("sys").argv[1:]]))
