"""Coverage-guided fuzzing of every profile reader (atheris). See fuzz/README.md."""
