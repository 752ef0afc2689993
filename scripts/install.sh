#!/usr/bin/env bash
# Install what gradeflow needs on a fresh Debian machine (idempotent; run as root for apt).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v redis-server >/dev/null || need+=(redis-server)
command -v setpriv >/dev/null || need+=(util-linux)
command -v pgrep >/dev/null || need+=(procps)
command -v wrk >/dev/null || need+=(wrk)  # bench/status.py drives a thousand pollers with it
command -v ip >/dev/null || need+=(iproute2)  # the many-machines test makes network namespaces
# the test command runs the hostile suite against Docker too: a local dockerd, an image built here
if [ "${GRADEFLOW_DOCKER:-1}" = 1 ] && ! command -v dockerd >/dev/null; then need+=(docker.io); fi
if [ "${GRADEFLOW_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null; then need+=(chromium); fi  # the browser tests drive it (GRADEFLOW_BROWSER=0 skips)
# the PDF viewer's test embeds a real TrueType font in a report
if [ "${GRADEFLOW_BROWSER:-1}" = 1 ] && [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then need+=(fonts-dejavu-core); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  if [ "$(id -u)" != 0 ]; then echo "run as root (or install: ${need[*]})" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v -E "^WARNING: (Running pip as|Location)" || true
python3 -c "import gradeflow_api, gradeflow_worker, gradeflow_cli, gradeflow_graders" || { echo "python packages failed to install" >&2; exit 1; }
