"""WooCommerce source connector for ledgerbridge: REST client, normalizer, webhooks, sandbox."""
