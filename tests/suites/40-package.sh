#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian package as a user meets it: built, linted, tested with
# autopkgtest in a bookworm testbed (debian/tests: real sessions, every
# example, the steps of debian/README.Debian — install, the pam-auth-update
# profile service by service, apt remove — and the diversions) and with
# pamtester under systemd-nspawn. All of it is tests/container-tests.sh,
# which a developer runs the same way.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/container-tests.sh
