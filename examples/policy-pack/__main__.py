"""The Mistral connector policy pack: every rule of pulumi_mistral.policy, configured with --policy-pack-config."""

from pulumi_mistral.policy.pack import serve

serve()
