# tests/: see README.md
