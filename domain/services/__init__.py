"""The use cases of BillingLedger, one mixin per area of the billing office."""
