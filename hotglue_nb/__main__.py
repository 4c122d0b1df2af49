"""``python -m hotglue_nb`` = ``hotglue-nb``."""

from hotglue_nb.cli import main

raise SystemExit(main())
