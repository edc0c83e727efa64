#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian package as a user meets it: built, linted, tested with
# autopkgtest in a bookworm testbed and with pamtester under systemd-nspawn.
# All of it is tests/container-tests.sh, which a developer runs the same way.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/container-tests.sh
