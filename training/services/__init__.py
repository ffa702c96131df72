"""Writes for training, one module per sub-domain; import from the module itself."""
