"""The data core: source, curation, build, store, remote store, writes, export, validation."""
