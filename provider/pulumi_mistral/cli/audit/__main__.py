"""``python -m pulumi_mistral.cli.audit``: the ``audit`` command with its own parser."""

import sys

from pulumi_mistral.cli.audit.command import main

sys.exit(main())
