#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/test: runs beside other suites (containers and virtual machines of its own)
# Real login programs (ssh, login, su -l, runuser, sudo -i, lightdm, the
# systemd user manager, cron) in a Debian 12 system booted under
# systemd-nspawn, with this module and with the stock one: tests/e2e/e2e.sh,
# which a developer runs the same way.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/e2e/e2e.sh
