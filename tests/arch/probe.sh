#!/bin/busybox sh
# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=dash
# Run by pam_exec.so after the module in the services of tests/arch/init.sh:
# writes what the session sees to /tmp/probe.$PAM_TYPE: the caller's real,
# effective and saved UIDs and GIDs, the session keyring as the kernel
# describes it (type;uid;gid;perm;description, the IDs printed as signed
# 32-bit numbers) and every key it links.
{
  awk '/^Uid:/ { u = $2 " " $3 " " $4 } /^Gid:/ { g = $2 " " $3 " " $4 }
    END { print "ids " u " " g }' /proc/self/status
  if description=$(keyctl rdescribe @s 2>&1); then
    echo "serial $(keyctl id @s)"
    echo "session $description"
    for key in $(keyctl rlist @s); do
      echo "link-serial $key"
      echo "link $(keyctl rdescribe "$key" 2>&1)"
    done
  else
    echo "session-error $description"
  fi
} >"/tmp/probe.$PAM_TYPE" 2>&1
exit 0
