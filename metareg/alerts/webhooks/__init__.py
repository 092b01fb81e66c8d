"""Webhooks: subscriptions, the outbox of deliveries, signing and delivery."""
