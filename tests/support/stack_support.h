// SPDX-License-Identifier: BSD-3-Clause
// Shared by the real-stack cases: real users, real libpam, real keyrings.
// Each case runs in a forked child (run_in_child), with syslog caught there.
#pragma once

#include <gtest/gtest.h>
#include <keyutils.h>
#include <syslog.h>
#include <unistd.h>

#include <string>

#include "child.h"
#include "kernel.h"
#include "pam_stack.h"
#include "syslog_capture.h"

namespace pam_keyinit::test {

// Two real users, made once per test program.
const TestUser& alice();
const TestUser& bob();

// Starts catching syslog in this child; fails the test if it cannot.
SyslogCapture catch_syslog();

// Puts the calling thread in the state a root login starts from when the
// process has no session keyring of its own: its session keyring is the
// user's user-session keyring. Skips the case if the test process inherited
// a session keyring, which makes that state unreachable.
void start_in_user_session_keyring(const TestUser& user);

// Gives the thread a new anonymous session keyring owned by root, as systemd
// does for a service and a container runtime for its processes.
key_serial_t start_in_root_keyring();

// Gives the thread a new session keyring owned by the user.
key_serial_t start_in_own_keyring(const TestUser& user);

// Expects the thread's session keyring to be a "_ses" keyring owned by the
// user that links the user's "_uid.<UID>" keyring; returns its ID.
key_serial_t expect_own_session(const TestUser& user);

// Gtest parameter naming: "ours", "stock".
struct ModuleName {
    std::string operator()(const ::testing::TestParamInfo<Module>& info) const {
        return name(info.param);
    }
};

class BothModules : public ::testing::TestWithParam<Module> {
protected:
    void SetUp() override { PAM_KEYINIT_REQUIRE_ROOT(); }
    std::string service_for(const std::string& base) const { return service(GetParam(), base); }
};

}  // namespace pam_keyinit::test
