"""The site shell: home and standard pages, shared blocks, council settings and /healthz."""
