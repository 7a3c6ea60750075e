"""``python -m cvreeng_bench`` is the ``cvreeng-bench`` command."""

from .cli import main

raise SystemExit(main())
