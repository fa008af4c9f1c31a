"""`python -m compare` runs the same command line as `gradcompare`."""

from .cli import main

raise SystemExit(main())
