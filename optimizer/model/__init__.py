"""The model stage: the scenario tree and the linear program built from validated data (no solving, no files)."""
