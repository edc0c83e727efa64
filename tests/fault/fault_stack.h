// SPDX-License-Identifier: BSD-3-Clause
// Shared by the fault-injection cases on the real kernel: a PAM service of
// their own naming the built module, a user of their own (so that its key
// quota is not shared with the other suites running at the same time), and
// what a case reads back from the thread after the call under test.
#pragma once

#include <security/pam_appl.h>

#include <optional>
#include <string>
#include <vector>

#include "kernel.h"
#include "syslog_capture.h"

namespace pam_keyinit::test {

// The configuration folder with the service "fault":
//   auth    required <built module> revoke persistent
//   session required <built module> revoke persistent
const std::string& fault_confdir();
const TestUser& fault_user();
const TestUser& quota_user();

// pam_start_confdir() on fault_confdir(); a test failure if it fails.
pam_handle_t* start_fault_service(const std::string& user);

// The calling thread's IDs from /proc/thread-self/status, which needs no
// system call a filter might block.
ThreadIds ids_from_proc();

// The module's own lines at LOG_INFO or above ("pam_keyinit(...): ...").
std::vector<LogLine> module_lines(const std::vector<LogLine>& lines);

// A key of the calling thread's, as /proc/keys shows it (serial, owner,
// type, description, flags): for when keyctl(KEYCTL_DESCRIBE) is blocked.
struct ProcKey {
    key_serial_t id;
    std::string flags;
    uid_t uid;
    std::string type;
    std::string name;
};
std::optional<ProcKey> proc_key(key_serial_t id);

// The user's "_uid.<UID>" keyring, looked up as that user.
key_serial_t user_keyring_of(const TestUser& user);

}  // namespace pam_keyinit::test
