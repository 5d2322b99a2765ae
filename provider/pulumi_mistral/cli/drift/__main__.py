"""``python -m pulumi_mistral.cli.drift``: the ``drift`` command with its own parser."""

import sys

from pulumi_mistral.cli.drift.command import main

sys.exit(main())
