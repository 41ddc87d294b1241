#!/usr/bin/env bash
# action.yml, step "Install ekslint": installs ekslint from the action's own checkout
# (the ref the workflow pinned in `uses: ekslint/ekslint@<ref>`), never from the
# repository being linted, into a virtual environment under RUNNER_TEMP.
set -euo pipefail
: "${GITHUB_ACTION_PATH:?}" "${RUNNER_TEMP:?}" "${GITHUB_PATH:?}"
venv="$RUNNER_TEMP/ekslint-venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"
"$venv/bin/ekslint" --version
echo "$venv/bin" >> "$GITHUB_PATH"
