"""The sync engine: fetch mentions per account (SyncWorker), send the outbox (OutboxSender),
and the per-account status line (status). No Textual here: the App runs these in its workers,
`comptoir sync --once` runs them once."""
