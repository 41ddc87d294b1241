#!/usr/bin/env bash
# action.yml, step "Lint": runs ekslint on the workspace and leaves, for the next
# steps, the SARIF file (a fresh path under RUNNER_TEMP unless the sarif-file input
# names one), a Markdown job summary and the step outputs. It always exits 0 once
# ekslint ran: the upload step runs next, and the last step fails the job with
# ekslint's exit code. tests/test_action.py runs it with the variables a runner sets.
#
# Inputs (from action.yml): INPUT_PATHS (split on whitespace), INPUT_ARGS (split on
# whitespace; no shell quoting), INPUT_SARIF_FILE, INPUT_CATEGORY, INPUT_FAIL_ON
# (error, warning, note or never). EKSLINT: the command (default: ekslint on PATH).
set -euo pipefail
: "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}" "${GITHUB_STEP_SUMMARY:?}"
cd "${GITHUB_WORKSPACE:-.}"

work=$(mktemp -d "$RUNNER_TEMP/ekslint.XXXXXXXX")
sarif=${INPUT_SARIF_FILE:-$work/ekslint.sarif}
# Never hand an older file to the upload step (e.g. one a pull request committed):
# what is uploaded is what this run wrote, or nothing.
rm -f -- "$sarif"
summary=$work/summary.md

read -r -a paths <<< "$(printf '%s' "${INPUT_PATHS:-.}" | tr '\n' ' ')"
read -r -a extra <<< "$(printf '%s' "${INPUT_ARGS:-}" | tr '\n' ' ')"
[ ${#paths[@]} -gt 0 ] || paths=(.)

args=(--format text --output-format "sarif=$sarif" --output-format "markdown=$summary")
args+=(--sarif-category "${INPUT_CATEGORY:-ekslint}")
case "${INPUT_FAIL_ON:-error}" in
  never) args+=(--exit-zero) ;;
  error|warning|note) args+=(--fail-on "${INPUT_FAIL_ON:-error}") ;;
  *) echo "::error title=ekslint::fail-on must be error, warning, note or never, not '${INPUT_FAIL_ON}'"; exit 2 ;;
esac

set +e
${EKSLINT:-ekslint} "${args[@]}" ${extra[@]+"${extra[@]}"} -- "${paths[@]}"
code=$?
set -e

if [ -s "$summary" ]; then
  cat "$summary" >> "$GITHUB_STEP_SUMMARY"
else
  printf '## ekslint\n\nekslint stopped with exit code %s before writing a report; see the step log.\n' "$code" >> "$GITHUB_STEP_SUMMARY"
fi
findings=0
if [ -s "$sarif" ]; then
  echo "sarif-file=$sarif" >> "$GITHUB_OUTPUT"
  findings=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["runs"][0]["results"]))' "$sarif")
fi
echo "findings=$findings" >> "$GITHUB_OUTPUT"
echo "exit-code=$code" >> "$GITHUB_OUTPUT"
