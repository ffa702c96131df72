"""Writes for training, one module per sub-domain: progress, completion (the evidence chain),
assignments, exemptions and versions. Import from the module itself."""
