"""Route modules: each parses, authorises (through deps), calls the core, serialises."""
