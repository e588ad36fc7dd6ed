# bench/: see README.md
