#!/usr/bin/env bash
# run.sh DCKC DCKRUN [run.py options]: the MSL tests (see run.py). run.sh --update
# regenerates the shim's generated header (the only generated file here).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${1:-}" == "--update" ]]; then exec python3 "$here/run.py" --update; fi
if [[ $# -lt 2 ]]; then echo "usage: run.sh DCKC DCKRUN [options] | run.sh --update" >&2; exit 2; fi
dckc=$1 dckrun=$2
shift 2
exec python3 "$here/run.py" --dckc "$dckc" --dckrun "$dckrun" "$@"
