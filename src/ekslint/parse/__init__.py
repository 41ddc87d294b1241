"""Reading inputs: files, YAML with positions, MIME/base64/gzip userdata, shell, TOML."""
