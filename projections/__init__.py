"""The read side: read models folded from the ledger's events, and BillingQueries over them."""
