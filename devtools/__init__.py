"""Development-only tools: installed by local and test settings only, never by production."""
