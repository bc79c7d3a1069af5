"""The console scripts of aimostools (see pyproject.toml): one module per command, each with main()."""
