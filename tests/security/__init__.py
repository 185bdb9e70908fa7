"""Security and robustness tests: fuzzing of the core, hostile contexts, service abuse."""
