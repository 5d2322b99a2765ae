"""``python -m pulumi_mistral.cli``: the same command as the ``pulumi-mistral`` script."""

import sys

from pulumi_mistral.cli import main

sys.exit(main())
