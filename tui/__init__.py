"""The terminal front ends: the Textual workstation and the scriptable `claimdesk` CLI."""
