"""Rules, plugins, suppressions and the run that ties them together."""
