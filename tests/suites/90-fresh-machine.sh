#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's Quick start on a fresh Debian 12 system (tests/fresh-machine.sh):
# proves on every run that nothing passes because this machine happens to
# have a package installed. Skipped, with its reason, inside a container.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/fresh-machine.sh
