"""``python -m hotglue_nb.sandbox``: the emulator in the foreground (see ``_main``)."""

from ._main import main

raise SystemExit(main())
