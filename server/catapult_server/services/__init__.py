"""Service functions: one transaction per RPC, the registry's rules, and the audit row in the
same transaction as the change. Servicers call exactly one of these per RPC."""
